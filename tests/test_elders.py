import numpy as np

from sim.data.levels import N_LEVELS
from sim.model.elders import DEAD, N_CELL_AGES, N_CELLS, Elders, expand_to_cells, pool_cells


def reference_year(cell, u, thresholds, outcomes):
    """The yearly draw written the plain NumPy way: the compiled kernel must agree with it exactly."""
    which = (u[:, None] >= thresholds[cell, :-1]).sum(axis=1)
    outcome = outcomes[cell, which]
    dies = outcome == DEAD
    new = np.where(dies, -1, cell - cell % N_LEVELS + outcome)
    return new[~dies], np.bincount(cell[dies], minlength=N_CELLS)


def random_tables(rng):
    probs = rng.dirichlet(np.ones(N_LEVELS + 1) * 0.3, size=N_CELLS)
    thresholds = np.cumsum(probs, axis=1)
    thresholds[:, -1] = 1.0
    outcomes = np.array([[lvl] + [k for k in range(N_LEVELS) if k != lvl] + [DEAD] for lvl in range(N_LEVELS)])
    return thresholds, np.tile(outcomes, (N_CELLS // N_LEVELS, 1)).astype(np.int8)


def test_compiled_year_matches_the_numpy_reference_and_keeps_counts():
    rng = np.random.default_rng(11)
    thresholds, outcomes = random_tables(rng)
    elders = Elders()
    elders.add(rng.integers(0, 50, size=(2, 2, 51, N_LEVELS)))
    before = elders.cell.copy()
    u = np.random.default_rng(5).random(before.size)
    expected_cells, expected_deaths = reference_year(before, u, thresholds, outcomes)

    deaths = elders.live_one_year(thresholds, outcomes, np.random.default_rng(5))
    assert np.array_equal(elders.cell, expected_cells)
    assert np.array_equal(deaths, expected_deaths)
    assert np.array_equal(elders.cell_counts, np.bincount(elders.cell, minlength=N_CELLS))
    assert len(elders) + deaths.sum() == before.size


def test_ageing_moves_everyone_one_year_and_pools_past_110():
    elders = Elders()
    agents = np.zeros((2, 2, 51, N_LEVELS), dtype=np.int64)
    agents[0, 0, 0, 2] = 3  # three rural men aged 60, moderate
    agents[1, 1, 50, 4] = 2  # two urban women aged 110, total loss
    elders.add(agents)
    elders.age_one_year()
    assert sorted(elders.age.tolist()) == [61, 61, 61, 110, 110]
    assert elders.counts()[0, 0, 1, 2] == 3 and elders.counts()[1, 1, 50, 4] == 2
    assert elders.level.tolist() == [2, 2, 2, 4, 4]
    assert elders.sex.tolist() == [0, 0, 0, 1, 1]
    assert elders.urban.tolist() == [False, False, False, True, True]
    assert np.array_equal(elders.cell_counts, np.bincount(elders.cell, minlength=N_CELLS))


def test_cell_tables_round_trip():
    table = np.arange(2 * 2 * 51 * N_LEVELS, dtype=float).reshape(2, 2, 51, N_LEVELS)
    per_cell = expand_to_cells(table)
    assert per_cell.shape == (N_CELLS,)
    assert np.array_equal(pool_cells(per_cell)[:, :, :50], table[:, :, :50])  # ages under 110 come back
    ones = np.ones(N_CELLS)
    pooled = pool_cells(ones)
    assert pooled[1, 0, 0, 0] == 1 and pooled[0, 1, 50, 0] == N_CELL_AGES - 50


def test_adding_agents_of_the_wrong_shape_is_refused():
    import pytest

    with pytest.raises(ValueError, match="residence, sex, age, level"):
        Elders().add(np.ones((2, 51, N_LEVELS), dtype=np.int64))
