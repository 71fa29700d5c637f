"""The elders' care columns through a year: the dead are removed and every column compacted in order, and
spouse links follow their spouse or are cut when the spouse died."""

import numpy as np

from sim.data.levels import N_LEVELS
from sim.model.elders import COLUMNS, DEAD, N_CELLS, Elders


def tables(death: float, seed: int):
    """Outcome tables where everyone dies with chance ``death`` or else keeps or changes level."""
    rng = np.random.default_rng(seed)
    moves = rng.dirichlet(np.ones(N_LEVELS), size=N_CELLS) * (1 - death)
    thresholds = np.cumsum(np.column_stack([moves, np.full(N_CELLS, death)]), axis=1)
    thresholds[:, -1] = 1.0
    outcomes = np.array([[lvl] + [k for k in range(N_LEVELS) if k != lvl] + [DEAD] for lvl in range(N_LEVELS)])
    return thresholds, np.tile(outcomes, (N_CELLS // N_LEVELS, 1)).astype(np.int8)


def population(seed: int) -> Elders:
    rng = np.random.default_rng(seed)
    elders = Elders()
    elders.add(rng.integers(0, 4, size=(2, 2, 51, N_LEVELS)))
    n = len(elders)
    # an identity in columns of every kind, and spouse links: couples, widowed, spouses outside
    elders.home[:] = np.arange(n)
    elders.burden[:] = np.arange(n)
    elders.waiting_since[:] = np.arange(n) % 30_000
    elders.dementia[:] = np.arange(n) % 3 == 0
    order = rng.permutation(n)
    half = (n // 4) * 2
    a, b = order[: half // 2], order[half // 2 : half]
    elders.spouse[:] = -1
    elders.spouse[a], elders.spouse[b] = b, a
    elders.spouse[order[half : half + n // 10]] = -2
    return elders


def test_care_columns_are_compacted_in_order_and_spouse_links_follow_their_spouse():
    for seed in range(5):
        elders = population(seed)
        n = len(elders)
        before = {name: getattr(elders, name).copy() for name in COLUMNS}
        thresholds, outcomes = tables(death=0.3, seed=seed)
        deaths = elders.live_one_year(thresholds, outcomes, np.random.default_rng(seed))
        old = elders.home  # each survivor's row before the year
        assert 0 < len(elders) < n and len(elders) + deaths.sum() == n
        assert (np.diff(old) > 0).all()  # survivors in their order
        for name in COLUMNS:
            if name != "spouse":
                assert np.array_equal(getattr(elders, name), before[name][old]), name
        new_row = np.full(n, -1)
        new_row[old] = np.arange(len(elders))
        spouse_before = before["spouse"][old]
        expected = np.where(spouse_before >= 0, new_row[np.maximum(spouse_before, 0)], spouse_before)
        assert np.array_equal(elders.spouse, expected)
        linked = np.flatnonzero(elders.spouse >= 0)
        assert np.array_equal(elders.spouse[elders.spouse[linked]], linked)  # still symmetric
        widowed = (spouse_before >= 0) & (elders.spouse == -1)
        assert widowed.any()


def test_the_cells_of_the_survivors_match_their_rows():
    elders = population(9)
    cells = elders.cell.copy()
    thresholds, outcomes = tables(death=0.5, seed=9)
    elders.live_one_year(thresholds, outcomes, np.random.default_rng(9))
    old = elders.home
    # each survivor kept sex and age; the level is the level decoded from the cell
    assert np.array_equal(elders.cell // N_LEVELS, cells[old] // N_LEVELS)
    assert np.array_equal(elders.level, elders.cell % N_LEVELS)
    assert np.array_equal(elders.cell_counts, np.bincount(elders.cell, minlength=N_CELLS))


def test_a_year_without_deaths_leaves_every_column_as_it_was():
    elders = population(3)
    before = {name: getattr(elders, name).copy() for name in COLUMNS}
    thresholds, outcomes = tables(death=0.0, seed=3)
    assert elders.live_one_year(thresholds, outcomes, np.random.default_rng(3)).sum() == 0
    for name in COLUMNS:
        assert np.array_equal(getattr(elders, name), before[name]), name


def test_new_elders_after_a_year_get_default_values_after_the_survivors():
    elders = population(4)
    thresholds, outcomes = tables(death=0.3, seed=4)
    elders.live_one_year(thresholds, outcomes, np.random.default_rng(4))
    survivors = len(elders)
    home = elders.home.copy()
    rows = elders.add(np.ones((2, 2, 51, N_LEVELS), dtype=np.int64))
    assert rows == slice(survivors, survivors + 2 * 2 * 51 * N_LEVELS)
    assert np.array_equal(elders.home[:survivors], home)
    for name, (_, fill) in COLUMNS.items():
        assert (getattr(elders, name)[rows] == fill).all(), name
