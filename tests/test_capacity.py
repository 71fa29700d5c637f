import numpy as np
import pytest

from sim.data.levels import N_LEVELS
from sim.data.regions import load_region
from sim.model.health import (
    TransitionMultipliers,
    aligned_death_probability,
    annual_transition_probabilities,
    scaled_rates,
)


def test_yearly_transition_matrices_are_stochastic():
    p = annual_transition_probabilities(load_region("tianjin").transition_rates)
    assert (p >= -1e-12).all()
    assert np.allclose(p.sum(axis=-1), 1.0)
    # worsening is more likely at 90 than at 65, for every level with some loss
    assert (p[:, 30, 1:4, 2:].sum(-1) > p[:, 5, 1:4, 2:].sum(-1)).all()


def test_multipliers_act_on_their_own_kind_of_move():
    rates = load_region("tianjin").transition_rates
    scaled = scaled_rates(rates, TransitionMultipliers(onset=2.0, worsening=3.0, recovery=0.5))
    assert np.allclose(scaled[..., 0, 1:], 2.0 * rates[..., 0, 1:])
    assert np.allclose(scaled[..., 2, 3], 3.0 * rates[..., 2, 3])
    assert np.allclose(scaled[..., 2, 1], 0.5 * rates[..., 2, 1])
    assert np.allclose(scaled_rates(rates, TransitionMultipliers()), rates)


def test_aligned_mortality_reproduces_the_life_table_for_any_mix_of_levels():
    rng = np.random.default_rng(3)
    q_table = rng.uniform(0.005, 0.6, size=(2, 51))
    hr = np.cumprod(np.concatenate([np.ones((2, 51, 1)), rng.uniform(1.0, 2.0, (2, 51, N_LEVELS - 1))], -1), -1)
    weights = rng.integers(0, 1000, size=(2, 51, N_LEVELS)).astype(float)
    weights[0, 7] = 0  # an empty cell gets the table's rate at every level
    q = aligned_death_probability(q_table, hr, weights)
    share = weights / np.maximum(weights.sum(-1, keepdims=True), 1)
    filled = weights.sum(-1) > 0
    assert np.allclose((share * q).sum(-1)[filled], q_table[filled], rtol=1e-9)
    assert np.allclose(q[0, 7], q_table[0, 7])
    assert (np.diff(q, axis=-1) >= -1e-15).all()  # a higher hazard ratio never means a lower risk
    assert ((q >= 0) & (q < 1)).all()


def test_packaged_prevalence_rises_with_age():
    prev = load_region("china").prevalence  # [residence, sex, age, level]
    any_loss = prev[..., 1:].sum(-1)
    assert np.allclose(prev.sum(-1), 1.0, atol=1e-5)
    assert (np.diff(any_loss[..., :45], axis=-1) > 0).all()
    assert (any_loss[:, 1, 20] > any_loss[:, 0, 20]).all()  # women at 80 more often than men


@pytest.mark.parametrize("key", ["tianjin", "xuchang", "china"])
def test_urban_and_rural_shares_mix_to_the_national_ones(key):
    """Each region's urban and rural level shares differ (Hanewald et al.'s urban/rural rates) but, mixed
    at its urban share of the 60+, are the national shares: base-year prevalence does not change."""
    from sim.data.regions import _capacity_tables

    region = load_region(key)
    s = region.urban_share_60plus
    mixed = (1 - s) * region.prevalence[0] + s * region.prevalence[1]
    assert np.allclose(mixed, _capacity_tables()[2], atol=1e-6)
    assert not np.allclose(region.prevalence[0], region.prevalence[1], atol=1e-3)


@pytest.mark.parametrize("key", ["tianjin", "wenzhou", "xuchang", "shengzhou", "china"])
def test_region_population_matches_its_census_totals(key):
    region = load_region(key)
    totals = {
        "tianjin": 3002688,
        "wenzhou": 1579700,
        "xuchang": 0.1970 * 4379998,
        "shengzhou": 195280,
        "china": 264018218,
    }
    # city counts are derived from rounded shares and rounded again by age group: within a few persons
    assert region.population_total() == pytest.approx(totals[key], abs=10)
