"""Whole numbers: counts rounded stochastically to whole agents with the right expectation, and shares
rounded to a total by largest remainders."""

import numpy as np
import pytest

from sim.common.rounding import round_to_total, stochastic_round


def test_stochastic_rounding_is_the_floor_or_one_more_with_the_fractional_chance():
    rng = np.random.default_rng(1)
    expected = np.full(100_000, 2.3)
    got = stochastic_round(expected, rng)
    assert set(np.unique(got)) == {2, 3} and got.dtype == np.int64
    assert got.mean() == pytest.approx(2.3, abs=5 * np.sqrt(0.3 * 0.7 / got.size))


def test_whole_numbers_stay_whole():
    rng = np.random.default_rng(2)
    assert stochastic_round(np.array([0.0, 4.0, 17.0]), rng).tolist() == [0, 4, 17]
    assert stochastic_round(25.0, rng) == 25


def test_persons_become_agents_at_the_scale():
    draws = [stochastic_round(1234.0 / 100.0, np.random.default_rng(seed)) for seed in range(4000)]
    assert set(draws) == {12, 13}
    assert np.mean(draws) == pytest.approx(12.34, abs=5 * np.sqrt(0.34 * 0.66 / 4000))
    assert stochastic_round(500.0 / 1.0, np.random.default_rng(0)) == 500


def test_largest_remainders_reach_the_total_and_stay_within_one_of_each_share():
    exact = np.array([2.6, 0.3, 4.5, 1.6])
    assert round_to_total(exact, 9).tolist() == [3, 0, 4, 2]  # 0.6 and 0.6 then 0.5: ties by position
    assert round_to_total(exact, 10).tolist() == [3, 0, 5, 2]
    rng = np.random.default_rng(3)
    for _ in range(200):
        exact = rng.random(rng.integers(1, 30)) * 10
        total = int(np.floor(exact).sum()) + int(rng.integers(0, exact.size + 1))
        whole = round_to_total(exact, total)
        assert whole.sum() == total and (np.abs(whole - exact) < 1).all()
