"""Elders as columns: one row per agent (a person, or ``scale`` persons), one NumPy array per attribute.

A Python object per elder is about a hundred times too slow for a city of millions, so the elders live
here as arrays, the way Starsim and LASER store agents, and the Mesa model steps them as a whole.
Each agent still has its own state and its own random draw every year from the model's generator.

Sex, age and capacity level are stored together as one integer, the agent's *cell*:
``cell = (sex * N_CELL_AGES + age - 60) * N_LEVELS + level``. Everyone in a cell shares the year's chances,
so the yearly draw needs one table look-up per agent; ageing is ``cell += N_LEVELS``; and the count of
persons by sex, age and level is kept up to date from the few agents who change, not recounted. The
yearly draw is one compiled pass (Numba) over the agents, fed by uniforms from the model's generator.
"""

from __future__ import annotations

import numba
import numpy as np

from .capacity import N_LEVELS
from .demography import AGE_MAX, AGE_MIN, N_AGES

DEAD = N_LEVELS  # outcome code for death in the yearly outcome tables
# Cells run past AGE_MAX so that ageing never needs a bound check: a run of up to AGE_HEADROOM years can
# age everyone by one step of N_LEVELS. Ages above AGE_MAX share AGE_MAX's rates and are reported with it.
AGE_HEADROOM = 60
N_CELL_AGES = N_AGES + AGE_HEADROOM
N_CELLS = 2 * N_CELL_AGES * N_LEVELS


def expand_to_cells(table: np.ndarray) -> np.ndarray:
    """[sex, age 60..110, level, ...] -> [cell, ...], ages past 110 repeating age 110's values."""
    ages = np.minimum(np.arange(N_CELL_AGES), N_AGES - 1)
    return table[:, ages].reshape((N_CELLS,) + table.shape[3:])


def pool_cells(per_cell: np.ndarray) -> np.ndarray:
    """[cell] -> [sex, age 60..110, level], ages past 110 added into 110 ("110 and over")."""
    by_age = per_cell.reshape(2, N_CELL_AGES, N_LEVELS)
    out = by_age[:, :N_AGES].copy()
    out[:, -1] += by_age[:, N_AGES:].sum(axis=1)
    return out


class Elders:
    """The living population aged 60+: the ``cell`` column, with ``sex`` (0 male, 1 female), ``age``
    (completed years) and ``level`` (capacity level, 0 intact ... 4 total loss) read from it."""

    def __init__(self) -> None:
        self.cell = np.empty(0, dtype=np.int32)
        self.cell_counts = np.zeros(N_CELLS, dtype=np.int64)  # agents per cell, kept in step with `cell`

    def __len__(self) -> int:
        return self.cell.size

    @property
    def level(self) -> np.ndarray:
        return self.cell % N_LEVELS

    @property
    def age(self) -> np.ndarray:
        return np.minimum(self.cell // N_LEVELS % N_CELL_AGES + AGE_MIN, AGE_MAX)

    @property
    def sex(self) -> np.ndarray:
        return self.cell // (N_LEVELS * N_CELL_AGES)

    def counts(self) -> np.ndarray:
        """Agents by [sex, age 60..110, level]."""
        return pool_cells(self.cell_counts)

    def add(self, agents: np.ndarray) -> None:
        """Add agents given as counts by [sex, age 60..110, level]; they join in cell order."""
        per_cell = np.zeros((2, N_CELL_AGES, N_LEVELS), dtype=np.int64)
        per_cell[:, :N_AGES] = agents
        per_cell = per_cell.ravel()
        self.cell = np.concatenate([self.cell, np.repeat(np.arange(N_CELLS, dtype=np.int32), per_cell)])
        self.cell_counts += per_cell

    def live_one_year(self, thresholds: np.ndarray, outcomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw each agent's outcome of the year (same level, another level, or death) and apply it.

        ``thresholds[cell]`` are the cumulative probabilities of ``outcomes[cell]``, ordered with "stay
        at the same level" first. One uniform draw per agent from the model's generator settles the
        year. Returns deaths by cell.
        """
        u = rng.random(self.cell.size)
        deaths = np.zeros(N_CELLS, dtype=np.int64)
        alive = _live_one_year(self.cell, u, thresholds, outcomes, self.cell_counts, deaths)
        self.cell = self.cell[:alive]
        return deaths

    def age_one_year(self) -> None:
        if self.cell_counts.reshape(2, N_CELL_AGES, N_LEVELS)[:, -1].any():
            raise OverflowError(f"agents aged past {AGE_MIN + N_CELL_AGES - 1}; raise AGE_HEADROOM")
        self.cell += N_LEVELS
        self.cell_counts = np.roll(self.cell_counts.reshape(2, N_CELL_AGES, N_LEVELS), 1, axis=1).ravel()


@numba.njit(cache=True, nogil=True)
def _live_one_year(cell, u, thresholds, outcomes, cell_counts, deaths):  # pragma: no cover - compiled
    """The yearly draw in one pass: a NumPy version touches every agent three or four times (look-up,
    compare, select, delete) and is several times slower at city scale. Survivors are compacted to the
    front of ``cell`` in order; returns how many there are."""
    alive = 0
    for i in range(cell.size):
        c = cell[i]
        if u[i] >= thresholds[c, 0]:
            j = 1
            while u[i] >= thresholds[c, j]:
                j += 1
            cell_counts[c] -= 1
            if outcomes[c, j] == DEAD:
                deaths[c] += 1
                continue
            c = c - c % N_LEVELS + outcomes[c, j]
            cell_counts[c] += 1
        cell[alive] = c
        alive += 1
    return alive


def stochastic_round(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers of agents with the right expectation: floor, plus one with the fractional chance."""
    floor = np.floor(expected)
    return (floor + (rng.random(expected.shape) < expected - floor)).astype(np.int64)
