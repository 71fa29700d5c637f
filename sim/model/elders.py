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

from sim.data.demography import AGE_MAX, AGE_MIN, N_AGES
from sim.data.levels import N_LEVELS

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


# Codes of the elders' columns
INCOME_GROUPS = ("destitute", "minimum_income", "low", "middle", "high")  # 特困, 低保, then by income
DESTITUTE, MINIMUM_INCOME, LOW, MIDDLE, HIGH = range(len(INCOME_GROUPS))
SCHEMES = ("employee", "urban_resident", "rural_resident")  # medical insurance: 职工, 城镇居民, 农村居民
EMPLOYEE, URBAN_RESIDENT, RURAL_RESIDENT = range(len(SCHEMES))
SETTINGS = ("none", "family", "home_care", "day_care", "family_bed", "institution")  # care arrangement
NO_NEED, FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION = range(len(SETTINGS))

# Further state of each elder, set by the care system: name -> (dtype, value for a new agent).
COLUMNS = {
    "uid": (np.int64, -1),  # stable identity; increases with entry, so the column stays sorted
    "urban": (np.bool_, False),
    "income": (np.int8, DESTITUTE),  # INCOME_GROUPS
    "scheme": (np.int8, EMPLOYEE),  # SCHEMES
    "dementia": (np.bool_, False),
    "spouse": (np.int64, -1),  # row of a spouse aged 60+, -1 none, -2 a spouse outside the model (under 60)
    "children": (np.int8, 0),  # nearest child, families.CHILD_PLACES
    "child_working": (np.bool_, False),
    "carer_trained": (np.bool_, False),
    "burden": (np.float32, 0.0),  # family's accumulated strain
    "setting": (np.int8, NO_NEED),  # SETTINGS
    "home": (np.int32, -1),  # index of the care home for residents
    "bed": (np.int8, -1),  # bed type for residents, homes.BED_TYPES
    "waiting_since": (np.int16, 0),  # year joined the public-home waiting list, 0 = not waiting
    "last_level": (np.int8, -1),  # capacity level when the arrangement was last made
}


class Elders:
    """The living population aged 60+: the ``cell`` column, with ``sex`` (0 male, 1 female), ``age``
    (completed years) and ``level`` (capacity level, 0 intact ... 4 total loss) read from it, plus the
    columns in ``COLUMNS``."""

    def __init__(self, columns: dict = COLUMNS) -> None:
        """``columns``: which of COLUMNS to keep (the population engine alone needs none of them)."""
        # Columns are views of the first `len(self)` rows of buffers that grow by half when full, so that
        # adding the year's new 60-year-olds and removing the dead need not copy every column.
        self.columns = columns
        self._buffers = {"cell": np.empty(0, dtype=np.int32)} | {
            name: np.empty(0, dtype=dtype) for name, (dtype, _) in columns.items()
        }
        self._n = 0
        self._expose()
        self.cell_counts = np.zeros(N_CELLS, dtype=np.int64)  # agents per cell, kept in step with `cell`
        self.next_uid = 0

    def _expose(self) -> None:
        for name, buffer in self._buffers.items():
            setattr(self, name, buffer[: self._n])

    def __len__(self) -> int:
        return self.cell.size

    # sex, age and level are read from `cell`, decoded once per change of the population
    @property
    def level(self) -> np.ndarray:
        return self._decoded()[2]

    @property
    def age(self) -> np.ndarray:
        return self._decoded()[1]

    @property
    def sex(self) -> np.ndarray:
        return self._decoded()[0]

    def _decoded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.__dict__.get("_decoded_cache") is None:
            arrays = _decode(self.cell, N_LEVELS, N_CELL_AGES, AGE_MIN, AGE_MAX)
            for a in arrays:
                a.flags.writeable = False
            self.__dict__["_decoded_cache"] = arrays
        return self.__dict__["_decoded_cache"]

    def _changed(self) -> None:
        self.__dict__["_decoded_cache"] = None

    def counts(self) -> np.ndarray:
        """Agents by [sex, age 60..110, level]."""
        return pool_cells(self.cell_counts)

    def add(self, agents: np.ndarray) -> slice:
        """Add agents given as counts by [sex, age 60..110, level]; they join in cell order with default
        values in the other columns. Returns the rows of the new agents."""
        per_cell = np.zeros((2, N_CELL_AGES, N_LEVELS), dtype=np.int64)
        per_cell[:, :N_AGES] = agents
        per_cell = per_cell.ravel()
        start, n = len(self), int(per_cell.sum())
        if start + n > self._buffers["cell"].size:
            size = max(start + n, int(1.5 * self._buffers["cell"].size))
            for name, buffer in self._buffers.items():
                grown = np.empty(size, dtype=buffer.dtype)
                grown[:start] = buffer[:start]
                self._buffers[name] = grown
        self._n = start + n
        self._expose()
        self.cell[start:] = np.repeat(np.arange(N_CELLS, dtype=np.int32), per_cell)
        self.cell_counts += per_cell
        for name, (_, fill) in self.columns.items():
            getattr(self, name)[start:] = fill
        if "uid" in self.columns:
            self.uid[start:] = np.arange(self.next_uid, self.next_uid + n)
        self.next_uid += n
        self._changed()
        return slice(start, start + n)

    def live_one_year(self, thresholds: np.ndarray, outcomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw each agent's outcome of the year (same level, another level, or death) and apply it.

        ``thresholds[cell]`` are the cumulative probabilities of ``outcomes[cell]``, ordered with "stay
        at the same level" first. One uniform draw per agent from the model's generator settles the
        year. Returns deaths by cell.
        """
        u = rng.random(self.cell.size)
        deaths = np.zeros(N_CELLS, dtype=np.int64)
        died = np.zeros(self.cell.size, dtype=np.bool_)
        new_row = np.empty(self.cell.size, dtype=np.int64)
        alive = _live_one_year(self.cell, u, thresholds, outcomes, self.cell_counts, deaths, died, new_row)
        if alive < died.size and self.columns:
            _follow_spouses(self.spouse, new_row)  # a spouse who died (new row -1) leaves a widow or widower
            src, dst, length = _survivor_runs(died)
            for name in self.columns:
                _move_runs(getattr(self, name), src, dst, length)
        self._n = alive
        self._expose()
        self._changed()
        return deaths

    def age_one_year(self) -> None:
        if self.cell_counts.reshape(2, N_CELL_AGES, N_LEVELS)[:, -1].any():
            raise OverflowError(f"agents aged past {AGE_MIN + N_CELL_AGES - 1}; raise AGE_HEADROOM")
        self.cell += N_LEVELS  # in place, in the buffer
        self._changed()
        self.cell_counts = np.roll(self.cell_counts.reshape(2, N_CELL_AGES, N_LEVELS), 1, axis=1).ravel()


@numba.njit(cache=True, nogil=True)
def _live_one_year(cell, u, thresholds, outcomes, cell_counts, deaths, died, new_row):  # pragma: no cover - compiled
    """The yearly draw in one pass: a NumPy version touches every agent three or four times (look-up,
    compare, select, delete) and is several times slower at city scale. Survivors are compacted to the
    front of ``cell`` in order, the dead are marked in ``died``, and ``new_row`` gives each agent's row
    after compaction (-1 for the dead); returns how many survive."""
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
                died[i] = True
                new_row[i] = -1
                continue
            c = c - c % N_LEVELS + outcomes[c, j]
            cell_counts[c] += 1
        cell[alive] = c
        new_row[i] = alive
        alive += 1
    return alive


@numba.njit(cache=True, nogil=True)
def _decode(cell, n_levels, n_cell_ages, age_min, age_max):  # pragma: no cover - compiled
    sex = np.empty(cell.size, dtype=np.int8)
    age = np.empty(cell.size, dtype=np.int16)
    level = np.empty(cell.size, dtype=np.int8)
    for i in range(cell.size):
        c = cell[i]
        level[i] = c % n_levels
        a = c // n_levels
        age[i] = min(a % n_cell_ages + age_min, age_max)
        sex[i] = a // n_cell_ages
    return sex, age, level


@numba.njit(cache=True, nogil=True)
def _follow_spouses(spouse, new_row):  # pragma: no cover - compiled
    for i in range(spouse.size):
        if spouse[i] >= 0:
            spouse[i] = new_row[spouse[i]]


@numba.njit(cache=True, nogil=True)
def _survivor_runs(died):  # pragma: no cover - compiled
    """The survivors as runs of consecutive rows: where each run starts, where it goes once the dead are
    removed, and its length. Moving runs rather than rows lets every column be compacted with a few
    hundred thousand block copies instead of a pass of millions of single copies each."""
    src = np.empty(died.size // 2 + 1, dtype=np.int64)
    length = np.empty(died.size // 2 + 1, dtype=np.int64)
    runs = 0
    i = 0
    while i < died.size:
        if died[i]:
            i += 1
            continue
        j = i
        while j < died.size and not died[j]:
            j += 1
        src[runs] = i
        length[runs] = j - i
        runs += 1
        i = j
    dst = np.zeros(runs, dtype=np.int64)
    for r in range(1, runs):
        dst[r] = dst[r - 1] + length[r - 1]
    return src[:runs], dst, length[:runs]


@numba.njit(cache=True, nogil=True)
def _move_runs(column, src, dst, length):  # pragma: no cover - compiled
    """Move the survivors' values to the front of ``column``, in order, in place (runs go left only)."""
    for r in range(src.size):
        if src[r] != dst[r]:
            column[dst[r] : dst[r] + length[r]] = column[src[r] : src[r] + length[r]]
