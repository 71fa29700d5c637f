"""Persons and agents: counts rounded stochastically to whole agents with the right expectation."""

import numpy as np
import pytest

from sim.model.scale import agents, stochastic_round


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
    draws = [agents(1234.0, 100.0, np.random.default_rng(seed)) for seed in range(4000)]
    assert set(draws) == {12, 13}
    assert np.mean(draws) == pytest.approx(12.34, abs=5 * np.sqrt(0.34 * 0.66 / 4000))
    assert agents(500.0, 1.0, np.random.default_rng(0)) == 500
