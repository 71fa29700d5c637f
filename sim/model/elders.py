"""Elders as columns: one row per agent (a person, or ``scale`` persons), one NumPy array per attribute.

A Python object per elder is about a hundred times too slow for a city of millions, so the elders live
here as arrays, the way Starsim and LASER store agents, and the Mesa model steps them as a whole.
Each agent still has its own state and its own random draw every year from the model's generator.

Residence, sex, age and capacity level are stored together as one integer, the agent's *cell*:
``cell = ((residence * 2 + sex) * N_CELL_AGES + age - 60) * N_LEVELS + level``. Everyone in a cell shares
the year's chances,
so the yearly draw needs one table look-up per agent; ageing is ``cell += N_LEVELS``; and the count of
persons by sex, age and level is kept up to date from the few agents who change, not recounted. The
yearly draw is one compiled pass (Numba) over the agents, fed by uniforms from the model's generator.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numba
import numpy as np

from sim.data.demography import AGE_MAX, AGE_MIN, N_AGES
from sim.data.levels import N_LEVELS

DEAD = N_LEVELS  # outcome code for death in the yearly outcome tables
# Cells run past AGE_MAX so that ageing never needs a bound check: a run of up to AGE_HEADROOM years can
# age everyone by one step of N_LEVELS. Ages above AGE_MAX share AGE_MAX's rates and are reported with it.
AGE_HEADROOM = 60
N_CELL_AGES = N_AGES + AGE_HEADROOM
RESIDENCES = ("rural", "urban")  # 乡村, 城镇 (census): where an elder lives, fixed from entry
N_RESIDENCES = len(RESIDENCES)
N_CELLS = N_RESIDENCES * 2 * N_CELL_AGES * N_LEVELS


def expand_to_cells(table: np.ndarray) -> np.ndarray:
    """[residence, sex, age 60..110, level, ...] -> [cell, ...], ages past 110 repeating age 110's values."""
    ages = np.minimum(np.arange(N_CELL_AGES), N_AGES - 1)
    return table[:, :, ages].reshape((N_CELLS,) + table.shape[4:])


def pool_cells(per_cell: np.ndarray) -> np.ndarray:
    """[cell] -> [residence, sex, age 60..110, level], ages past 110 added into 110 ("110 and over")."""
    by_age = per_cell.reshape(N_RESIDENCES, 2, N_CELL_AGES, N_LEVELS)
    out = by_age[:, :, :N_AGES].copy()
    out[:, :, -1] += by_age[:, :, N_AGES:].sum(axis=2)
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
    "income": (np.int8, DESTITUTE),  # INCOME_GROUPS
    "scheme": (np.int8, EMPLOYEE),  # SCHEMES
    "dementia": (np.bool_, False),
    "spouse": (np.int32, -1),  # row of a spouse aged 60+, -1 none, -2 a spouse outside the model (under 60)
    "children": (np.int8, 0),  # nearest child, families.CHILD_PLACES
    "child_working": (np.bool_, False),
    "carer_trained": (np.bool_, False),
    "burden": (np.float32, 0.0),  # family's accumulated strain
    "setting": (np.int8, NO_NEED),  # SETTINGS
    "home": (np.int32, -1),  # index of the care home for residents
    "bed": (np.int8, -1),  # bed type for residents, homes.BED_TYPES
    "waiting_since": (np.int16, 0),  # year joined the public-home waiting list, 0 = not waiting
    "last_level": (np.int8, -1),  # capacity level when the arrangement was last made
    "ltci_from": (np.int16, 0),  # year the insurance's assessment made the elder a beneficiary, 0 = not one
    "applies": (np.float32, 0.0),  # propensity to apply for means-tested subsidies: applies if below the take-up
}


DECODED = {"urban": np.bool_, "sex": np.int8, "age": np.int16, "level": np.int8}  # read from `cell`


class Elders:
    """The living population aged 60+: the ``cell`` column, with ``urban`` (residence), ``sex`` (0 male,
    1 female), ``age`` (completed years) and ``level`` (capacity level, 0 intact ... 4 total loss) read
    from it, plus the columns in ``COLUMNS``. Rows keep the order in which the elders entered: new ones are appended and
    the dead removed without reordering, so a lower row means an earlier entry."""

    def __init__(self, columns: dict = COLUMNS) -> None:
        """``columns``: which of COLUMNS to keep (the population engine alone needs none of them). With
        any, residence, sex, age and level are kept as columns too, updated by the yearly passes, since the care
        system reads them for everyone every year; without, they are decoded from ``cell`` on demand."""
        # Columns are views of the first `len(self)` rows of buffers that grow by half when full, so that
        # adding the year's new 60-year-olds and removing the dead need not copy every column.
        self.columns = columns
        self.keeps_decoded = bool(columns)
        decoded = DECODED if self.keeps_decoded else {}
        self._buffers = (
            {"cell": np.empty(0, dtype=np.int32)}
            | {name: np.empty(0, dtype=dtype) for name, dtype in decoded.items()}
            | {name: np.empty(0, dtype=dtype) for name, (dtype, _) in columns.items()}
        )
        self._n = 0
        self._views: dict[str, np.ndarray] = {}
        self._expose()
        self.cell_counts = np.zeros(N_CELLS, dtype=np.int64)  # agents per cell, kept in step with `cell`

    def _expose(self) -> None:
        for name, buffer in self._buffers.items():
            view = buffer[: self._n]
            if name in DECODED:  # derived from cell: read only
                view = view.view()
                view.flags.writeable = False
                self._views[name] = view
            else:
                setattr(self, name, view)
        self._decoded_cache = None

    def __len__(self) -> int:
        return self.cell.size

    @property
    def urban(self) -> np.ndarray:
        return self._decoded("urban")

    @property
    def level(self) -> np.ndarray:
        return self._decoded("level")

    @property
    def age(self) -> np.ndarray:
        return self._decoded("age")

    @property
    def sex(self) -> np.ndarray:
        return self._decoded("sex")

    def _decoded(self, name: str) -> np.ndarray:
        if self.keeps_decoded:
            return self._views[name]
        if self._decoded_cache is None:
            decoded = {name: np.empty(len(self), dtype=d) for name, d in DECODED.items()}
            _decode(self.cell, *decoded.values())
            self._decoded_cache = decoded
        return self._decoded_cache[name]

    def _decoded_buffers(self) -> tuple[np.ndarray, ...]:
        """The writable decoded columns (empty when they are not kept)."""
        if not self.keeps_decoded:
            return tuple(np.empty(0, dtype=d) for d in DECODED.values())
        return tuple(self._buffers[name][: self._n] for name in DECODED)

    def counts(self) -> np.ndarray:
        """Agents by [residence, sex, age 60..110, level]."""
        return pool_cells(self.cell_counts)

    def add(self, agents: np.ndarray) -> slice:
        """Add agents given as counts by [residence, sex, age 60..110, level]; they join in cell order with
        default values in the other columns. Returns the rows of the new agents."""
        if np.shape(agents) != (N_RESIDENCES, 2, N_AGES, N_LEVELS):
            raise ValueError(f"agents by [residence, sex, age, level] expected, got shape {np.shape(agents)}")
        per_cell = np.zeros((N_RESIDENCES, 2, N_CELL_AGES, N_LEVELS), dtype=np.int64)
        per_cell[:, :, :N_AGES] = agents
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
        if self.keeps_decoded:
            _decode(self.cell[start:], *(b[start:] for b in self._decoded_buffers()))
        for name, (_, fill) in self.columns.items():
            getattr(self, name)[start:] = fill
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
        new_row = np.empty(self.cell.size, dtype=np.int32)  # rows fit in 32 bits; half the memory traffic
        alive = _live_one_year(
            self.cell, u, thresholds, outcomes, self.cell_counts, deaths, died, new_row, *self._decoded_buffers()
        )
        if alive < died.size and self.columns:
            _follow_spouses(self.spouse, new_row)  # a spouse who died (new row -1) leaves a widow or widower
            kept = (~died).view(np.uint8)
            # the compiled compaction releases the GIL: two threads move the columns in about 40% of the time
            # one takes (measured on Tianjin, 4.5 million rows); each column is moved whole, so the result
            # does not depend on which thread moves it
            list(_compaction_threads().map(lambda name: _compact(getattr(self, name), kept), self.columns))
        self._n = alive
        self._expose()
        return deaths

    def age_one_year(self) -> None:
        if self.cell_counts.reshape(N_RESIDENCES, 2, N_CELL_AGES, N_LEVELS)[:, :, -1].any():
            raise OverflowError(f"agents aged past {AGE_MIN + N_CELL_AGES - 1}; raise AGE_HEADROOM")
        _, _, age, _ = self._decoded_buffers()
        _age(self.cell, age)  # in place, in the buffers
        self._decoded_cache = None
        by_age = self.cell_counts.reshape(N_RESIDENCES, 2, N_CELL_AGES, N_LEVELS)
        self.cell_counts = np.roll(by_age, 1, axis=2).ravel()


@cache
def _compaction_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(COMPACTION_THREADS, thread_name_prefix="compact")


COMPACTION_THREADS = 2


@numba.njit(cache=True, nogil=True)
def _live_one_year(
    cell, u, thresholds, outcomes, cell_counts, deaths, died, new_row, urban, sex, age, level
):  # pragma: no cover - compiled
    """The yearly draw in one pass: a NumPy version touches every agent three or four times (look-up,
    compare, select, delete) and is several times slower at city scale. Survivors are compacted to the
    front of ``cell`` (and of the decoded columns, when kept) in order, the dead are marked in ``died``,
    and ``new_row`` gives each agent's row after compaction (-1 for the dead); returns how many survive."""
    alive = 0
    decoded = level.size > 0
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
        if decoded:
            urban[alive] = urban[i]
            sex[alive] = sex[i]
            age[alive] = age[i]
            level[alive] = c % N_LEVELS
        new_row[i] = alive
        alive += 1
    return alive


@numba.njit(cache=True, nogil=True)
def _decode(cell, urban, sex, age, level):  # pragma: no cover - compiled
    for i in range(cell.size):
        c = cell[i]
        level[i] = c % N_LEVELS
        a = c // N_LEVELS
        age[i] = min(a % N_CELL_AGES + AGE_MIN, AGE_MAX)
        sex[i] = (a // N_CELL_AGES) % 2
        urban[i] = a // N_CELL_AGES >= 2


@numba.njit(cache=True, nogil=True)
def _age(cell, age):  # pragma: no cover - compiled
    """Everyone one year older: the next age's cell, and the age column when kept (ages past AGE_MAX
    are reported as AGE_MAX)."""
    for i in range(cell.size):
        cell[i] += N_LEVELS
    for i in range(age.size):
        age[i] = min(age[i] + 1, AGE_MAX)


@numba.njit(cache=True, nogil=True)
def _follow_spouses(spouse, new_row):  # pragma: no cover - compiled
    for i in range(spouse.size):
        if spouse[i] >= 0:
            spouse[i] = new_row[spouse[i]]


@numba.njit(cache=True, nogil=True)
def _compact(column, kept):  # pragma: no cover - compiled
    """Move the survivors' values (``kept`` 1, the dead 0) to the front of ``column``, in order, in place.
    Every value is written and the next position advanced by ``kept``: without a branch per row it runs
    about 2.5 times faster than copying survivors only."""
    alive = 0
    for i in range(column.size):
        column[alive] = column[i]
        alive += kept[i]
    return alive
