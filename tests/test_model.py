import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario

from sim.data.demography import AGES, life_expectancy
from sim.data.levels import LEVELS
from sim.data.regions import load_region
from sim.model.model import AgeingModel
from sim.results.query import value
from sim.results.record import FIVE_YEAR_GROUPS
from sim.results.record import table as record_table
from sim.results.runs import run_replicate


def table(**values) -> pd.DataFrame:
    return run_replicate(make_scenario(**values), 0)


def test_same_seed_same_results_and_other_seeds_differ():
    a, b, c = table(seed=7), table(seed=7), table(seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.value.fillna(0), c.value.fillna(0))


def test_replicates_use_their_own_streams():
    s = make_scenario(seed=7)
    r0, r1 = run_replicate(s, 0), run_replicate(s, 1)
    assert not np.allclose(r0.value.fillna(0), r1.value.fillna(0))
    pd.testing.assert_frame_equal(r1, run_replicate(s, 1))


def test_persons_are_conserved_every_year(tianjin_run):
    rec = [year.population for year in tianjin_run.record]  # one agent per person: persons are agents
    started = rec[0].persons.sum()
    for i in range(1, len(rec)):
        assert rec[i].persons.sum() == rec[i - 1].persons.sum() - rec[i].deaths.sum() + rec[i].entrants.sum()
    alive = rec[-1].persons.sum()
    dead = sum(y.deaths.sum() for y in rec[1:])
    entered = sum(y.entrants.sum() for y in rec[1:])
    assert alive + dead == started + entered
    assert alive == len(tianjin_run.elders)


def test_simulated_life_expectancy_matches_the_life_table(tianjin_run):
    df = record_table(tianjin_run.record)
    mortality = load_region("tianjin").mortality
    for year in range(2021, 2036):
        expected = life_expectancy(mortality.death_probability(year - 1 + 0.5, AGES))
        for s, sex in enumerate(("male", "female")):
            got = value(df, "life_expectancy_60", year, sex=sex, age_group="60")
            assert abs(got - expected[s]) < 0.3, (year, sex, got, expected[s])


def test_base_year_prevalence_matches_the_input_within_sampling_error(tianjin_run):
    region = load_region("tianjin")
    counts = tianjin_run.record[0].population.persons  # [residence, sex, age, level] at the census
    for lo, hi in FIVE_YEAR_GROUPS.values():
        ages = slice(lo - 60, (hi - 60) if hi else None)
        for r, s in np.ndindex(2, 2):
            expected_share = region.prevalence[r, s, ages]
            n_by_age = counts[r, s, ages].sum(-1)
            observed = counts[r, s, ages].sum(0)
            expected = (n_by_age[:, None] * expected_share).sum(0)
            sd = np.sqrt((n_by_age[:, None] * expected_share * (1 - expected_share)).sum(0))
            assert (np.abs(observed - expected) <= 4 * sd + 1).all(), (lo, r, s, observed, expected)


def test_residence_is_drawn_at_the_urban_share_and_new_cohorts_urbanise(tianjin_run):
    region = load_region("tianjin")
    first = tianjin_run.record[0].population.persons
    n = first.sum()
    share = region.urban_share_60plus
    assert abs(first[1].sum() / n - share) <= 4 * np.sqrt(share * (1 - share) / n)
    joined = [y.population.entrants[1].sum() / y.population.entrants.sum() for y in tianjin_run.record[1:]]
    assert joined[0] == pytest.approx(region.urban_share_of_entrants(2021), abs=0.01)
    assert joined[-1] > joined[0]  # the rural share of each new cohort shrinks with urbanisation


def test_base_year_population_is_the_census(tianjin_run):
    first = tianjin_run.record[0].population.persons
    persons = load_region("tianjin").base_population()
    by_age = first.sum(axis=(0, -1))
    # stochastic rounding of split single-year counts: within a few persons per age
    assert np.abs(by_age - persons).max() <= 1
    assert abs(by_age.sum() - 3002688) < 60


def test_results_are_reported_in_persons_whatever_the_scale():
    full = table(seed=3)
    tenth = table(seed=3, scale=10)
    p_full = value(full, "population", 2035)
    p_tenth = value(tenth, "population", 2035)
    assert abs(p_tenth - p_full) / p_full < 0.01
    assert value(tenth, "population", 2020) == pytest.approx(value(full, "population", 2020), rel=0.001)


def test_data_overrides_change_what_they_should():
    base = table(seed=5)
    assert value(table(seed=5, data={"population_60plus": 250000}), "population", 2020) == pytest.approx(
        250000, abs=30
    )  # stochastic rounding of 102 cells
    no_entrants = table(seed=5, data={"entrants_multiplier": 0})
    assert value(no_entrants, "entrants", 2030, age_group="60") == 0
    assert value(no_entrants, "population", 2035) < value(base, "population", 2035)
    deadlier = table(seed=5, data={"mortality_multiplier": 1.5})
    assert (
        value(deadlier, "life_expectancy_60", 2030, age_group="60")
        < value(base, "life_expectancy_60", 2030, age_group="60") - 1
    )
    healthier = table(seed=5, data={"onset_multiplier": 0.5})
    assert value(healthier, "capacity_share", 2035, capacity="any_loss") < value(
        base, "capacity_share", 2035, capacity="any_loss"
    )


def test_every_indicator_row_is_well_formed(tianjin_run):
    df = record_table(tianjin_run.record)
    assert set(df.indicator) == {
        "population",
        "deaths",
        "entrants",
        "elders_by_capacity",
        "capacity_share",
        "life_expectancy_60",
    }
    assert df.year.min() == 2020 and df.year.max() == 2035
    assert not df.duplicated(["year", "indicator", "sex", "age_group", "capacity", "residence"]).any()
    for indicator in ("population", "deaths", "entrants", "elders_by_capacity"):
        rows = df[df.indicator == indicator].pivot_table(
            index=["year", "sex", "age_group", "capacity"], columns="residence", values="value"
        )
        assert np.allclose(rows["urban"] + rows["rural"], rows["all"]), indicator
    shares = df[df.indicator == "capacity_share"]
    assert shares.value.between(0, 1).all()
    by_level = sum(value(df, "elders_by_capacity", capacity=level) for level in LEVELS)
    assert np.allclose(by_level, value(df, "population", age_group="60+"))
    assert set(df[df.indicator == "elders_by_capacity"].capacity) == set(LEVELS)


def test_the_care_system_does_not_change_the_population():
    """Population and care draw from separate streams: policy changes compare like with like."""
    s = make_scenario(seed=3, horizon=2026)
    alone = AgeingModel(s, care=False)
    alone.run()
    cared = AgeingModel(s)
    cared.run()
    for a, b in zip(alone.record, cared.record, strict=True):
        assert np.array_equal(a.population.persons, b.population.persons)
    with_care = record_table(cared.record)
    assert {"beds", "waiting_list", "care_hours", "ltci_balance"} <= set(with_care.indicator)
    population = with_care[with_care.indicator.isin(record_table(alone.record).indicator.unique())]
    pd.testing.assert_frame_equal(population.reset_index(drop=True), record_table(alone.record))


def test_model_is_a_mesa_model_stepping_one_year():
    import mesa

    model = AgeingModel(make_scenario(horizon=2022))
    assert isinstance(model, mesa.Model)
    steps = 0
    while model.running:
        model.step()
        steps += 1
    assert steps == 2 and model.year == 2022
