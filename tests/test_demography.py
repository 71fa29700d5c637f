import numpy as np
import pytest

from sim.data.demography import AGE_MAX, MortalityTable, life_expectancy, parse_age_group, split_age_groups


def test_parse_age_group():
    assert parse_age_group("60-64") == (60, 65)
    assert parse_age_group("100+") == (100, None)
    assert parse_age_group("0") == (0, 1)


def test_split_keeps_every_group_total_and_has_no_negative_counts():
    groups = [(40, 45, 900.0), (45, 50, 1100.0), (50, 55, 1000.0), (55, 60, 700.0), (60, 65, 600.0), (65, None, 300.0)]
    single = split_age_groups(groups, top=AGE_MAX)
    assert single.size == AGE_MAX - 40 + 1
    assert (single >= 0).all()
    for lo, hi, n in groups:
        part = single[lo - 40 : (hi - 40) if hi else None]
        assert part.sum() == pytest.approx(n, rel=1e-12)
    # the open group falls geometrically
    assert single[65 - 40] > single[66 - 40] > single[AGE_MAX - 40]


def test_life_expectancy_of_constant_risk_is_geometric():
    q = 0.1
    # person-years: survivors of each year count half the year for those who die in it
    assert life_expectancy(np.full(200, q)) == pytest.approx((1 - q / 2) / q, rel=1e-9)
    assert life_expectancy(np.full(3, q)) == pytest.approx((1 - q / 2) / q, rel=1e-9)


def test_mortality_table_steps_by_age_group_and_interpolates_in_time():
    mx = np.array([[[0.01, 0.02], [0.1, 0.2]], [[0.005, 0.01], [0.05, 0.1]]])  # sex, group, period
    table = MortalityTable(np.array([60, 65]), np.array([2017.5, 2022.5]), mx)
    m = table.rates(2020.0, np.array([60, 64, 65, 90]))
    assert m[0].tolist() == pytest.approx([0.015, 0.015, 0.15, 0.15])
    assert table.rates(2000, np.array([60]))[1, 0] == pytest.approx(0.005)  # held before the first midpoint
    assert table.rates(2050, np.array([60]))[1, 0] == pytest.approx(0.01)  # and after the last
    assert table.death_probability(2022.5, np.array([65]), multiplier=2)[0, 0] == pytest.approx(1 - np.exp(-0.4))
    with pytest.raises(ValueError):
        table.rates(2020, np.array([50]))


def test_pchip_is_scipys_pchip_to_the_last_digit():
    """Age groups are split with a PCHIP written out (scipy.interpolate costs a third of a second to import):
    it must give scipy's values exactly, so that the population does not change."""
    from scipy.interpolate import PchipInterpolator

    from sim.data.demography import pchip

    rng = np.random.default_rng(1)
    for _ in range(500):
        n = int(rng.integers(2, 12))
        x = np.cumsum(rng.integers(1, 6, n)).astype(float)
        y = rng.normal(size=n) * rng.choice([0, 1], n)  # flat, rising and falling runs
        at = np.linspace(x[0], x[-1], 37)
        assert np.array_equal(pchip(x, y, at), PchipInterpolator(x, y)(at))
