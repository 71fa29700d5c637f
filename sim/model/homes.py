"""Care homes (养老机构): Mesa agents with an owner, beds by type, prices and staff, and how they fill.

Beds are built, converted (general to nursing-type or dementia) and added as the scenario's levers say.
A home can only take a resident it can staff: every resident takes ``1 / residents_per_worker(p)[level]``
of a worker. Public homes admit from the city's waiting list by priority (destitute, then poor and
disabled, then the more dependent) and, within a priority class, first come first served; private and
publicly-built privately-run homes admit those who choose them and can pay, in random order.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numba
import numpy as np

from sim.common.rounding import round_to_total
from sim.data.levels import MODERATE
from sim.data.parameters import Parameters
from sim.model.elders import INSTITUTION, Elders

OWNERSHIP = ("public", "public_built_private_run", "private")
PUBLIC, PBPO, PRIVATE = range(3)
BED_TYPES = ("general", "nursing", "dementia")
GENERAL, NURSING, DEMENTIA = range(3)
_ONE = np.eye(len(BED_TYPES), dtype=np.int64)  # one bed of each type


def residents_per_worker(p: Parameters, grade: float | None = None) -> np.ndarray:
    """Residents one worker looks after, by level, at a grade of the national rating (default: the grade
    the region's homes keep): geometric steps from the standard's grade 1 to its grade 5."""
    lowest, highest = p.residents_per_worker["grade_1"], p.residents_per_worker["grade_5"]
    # grade 0 (derive from the base-year workforce) stands for grade 1 until it is derived
    step = (np.clip(p.staffing_grade if grade is None else grade, 1.0, 5.0) - 1.0) / 4.0
    return lowest * (highest / lowest) ** step


def affordable_grade(staff: float, residents_by_level: np.ndarray, empty_beds: float, p: Parameters) -> float:
    """The grade whose standard the homes' ``staff`` meets exactly for their residents (counts by level) and
    their empty beds (staffed as for a resident at ``empty_bed_level``): 1 if even grade 1 asks for more,
    5 if grade 5 asks for less. The standard rises with the grade, so a bisection finds it."""

    def wanted(grade: float) -> float:
        per_worker = residents_per_worker(p, grade)
        return float((residents_by_level / per_worker).sum() + empty_beds / per_worker[int(p.empty_bed_level)])

    if wanted(1.0) >= staff:
        return 1.0
    if wanted(5.0) <= staff:
        return 5.0
    lo, hi = 1.0, 5.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if wanted(mid) < staff else (lo, mid)
    return (lo + hi) / 2


def resident_load(level: np.ndarray, p: Parameters) -> np.ndarray:
    """Share of a worker each resident takes, by the resident's capacity level."""
    return 1.0 / residents_per_worker(p)[level]


def needed_bed(level: np.ndarray, dementia: np.ndarray, dementia_beds: bool) -> np.ndarray:
    """The bed type an elder needs: nursing-type from moderate loss, a dementia bed (where the region has
    any) for dementia at moderate loss or worse, general otherwise."""
    bed = np.where(level >= MODERATE, NURSING, GENERAL)
    if dementia_beds:
        bed = np.where(dementia & (level >= MODERATE), DEMENTIA, bed)
    return bed


def residents(elders: Elders) -> np.ndarray:
    """Rows of the elders living in a care home."""
    return np.flatnonzero(elders.setting == INSTITUTION)


def occupancy(elders: Elders, res: np.ndarray, n_homes: int, p: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Residents (rows ``res``) by [home, bed type] and staff load by home."""
    occupied = np.bincount(elders.home[res] * 3 + elders.bed[res], minlength=n_homes * 3).reshape(n_homes, 3)
    # float even with no residents (bincount of nothing is integer)
    load = np.bincount(elders.home[res], weights=resident_load(elders.level[res], p), minlength=n_homes)
    return occupied, load.astype(float)


class CareHome(mesa.Agent):
    """One care home. ``beds`` counts agents' places by bed type (persons / scale)."""

    def __init__(self, model: mesa.Model, index: int, ownership: int, beds: np.ndarray, p: Parameters):
        super().__init__(model)
        self.index = index
        self.ownership = ownership
        self.beds = np.asarray(beds, dtype=np.int64)
        base = np.array([p.bed_price_monthly[b] for b in BED_TYPES])
        self.price = base * p.ownership_price_factor[OWNERSHIP[ownership]]


@dataclass
class BedTargets:
    """The year's beds as the scenario's levers set them, in agents' places."""

    total: int
    nursing: int  # nursing-type beds, dementia beds included
    dementia: int


def bed_targets(beds, scale: float, pop60: float) -> BedTargets:
    """Beds, nursing-type beds and dementia beds the year's bed levers (``beds``: total, nursing share,
    dementia beds per 10,000) ask for, in agents' places (``pop60``: agents aged 60+ now)."""
    total = beds.total / scale
    dementia = beds.dementia_per_10k * pop60 / 1e4
    return BedTargets(
        total=int(round(total)),
        nursing=int(np.ceil(beds.nursing_share * round(total) - 1e-9)),  # reach the share, not just below it
        dementia=int(np.ceil(dementia - 1e-9)),
    )


class Homes:
    """All care homes of the region, indexed as elders' ``home`` column refers to them."""

    def __init__(self) -> None:
        self.homes: list[CareHome] = []
        self.added_beds = 0  # beds added since the base year, and of them in public homes
        self.added_public = 0
        self.converted = 0  # general beds converted to nursing-type or dementia beds since the base year

    def __len__(self) -> int:
        return len(self.homes)

    def add(self, model: mesa.Model, ownership: int, beds: np.ndarray, p: Parameters) -> CareHome:
        home = CareHome(model, len(self.homes), ownership, beds, p)
        self.homes.append(home)
        return home

    def beds(self) -> np.ndarray:
        """[home, bed type]."""
        return np.array([h.beds for h in self.homes], dtype=np.int64).reshape(len(self.homes), len(BED_TYPES))

    def ownership(self) -> np.ndarray:
        return np.array([h.ownership for h in self.homes], dtype=np.int8)

    def prices(self) -> np.ndarray:
        return np.array([h.price for h in self.homes]).reshape(len(self.homes), len(BED_TYPES))

    def mean_price(self, public: bool) -> np.ndarray:
        """Bed-weighted monthly price by bed type, of public or of other homes."""
        beds, own, price = self.beds(), self.ownership(), self.prices()
        mine = (own == PUBLIC) if public else (own != PUBLIC)
        weight = beds[mine].sum(axis=0)
        fallback = price[mine].mean(axis=0) if mine.any() else np.zeros(len(BED_TYPES))
        return np.divide((beds[mine] * price[mine]).sum(axis=0), weight, out=fallback.copy(), where=weight > 0)

    # --- building -----------------------------------------------------------------------------------
    def build(
        self,
        model,
        targets: BedTargets,
        occupied: np.ndarray,
        public_share_of_new: float,
        mean_size: float,
        p: Parameters,
        rng: np.random.Generator,
    ) -> None:
        """Add beds towards the total, ``public_share_of_new`` of them in public homes (counted over all
        beds added since the base year, so the share holds whatever the scale), the rest in private homes:
        new homes of the usual size, what is left of a home's size in an existing home of the same kind.
        Then convert free general beds so that dementia beds, and nursing-type beds (dementia beds
        included), reach their targets. Beds are never removed below what residents occupy."""
        extra = targets.total - int(self.beds().sum())
        if extra > 0:
            self.added_beds += extra
            public = int(round(public_share_of_new * self.added_beds)) - self.added_public
            public = min(max(public, 0), extra)
            self.added_public += public
            self._add_beds(model, PUBLIC, public, mean_size, p, rng)
            self._add_beds(model, PRIVATE, extra - public, mean_size, p, rng)
        elif extra < 0:  # closures: free general beds first, from the emptiest homes
            self._close(-extra, occupied)
        # dementia beds are nursing-type beds too: the nursing target counts them
        self._convert(GENERAL, DEMENTIA, targets.dementia, occupied)
        self._convert(GENERAL, NURSING, targets.nursing - int(self.beds()[:, DEMENTIA].sum()), occupied)

    def _add_beds(
        self, model, ownership: int, n: int, mean_size: float, p: Parameters, rng: np.random.Generator
    ) -> None:
        """``n`` general beds in homes of an ownership (PRIVATE: any home not public)."""
        own = self.ownership()
        same_kind = np.flatnonzero((own == PUBLIC) if ownership == PUBLIC else (own != PUBLIC))
        while n > 0:
            size = int(min(n, max(1, round(mean_size))))
            if size < mean_size / 2 and same_kind.size:
                home = self.homes[int(same_kind[rng.integers(same_kind.size)])]
                home.beds = home.beds + np.array([size, 0, 0])
            else:
                self.add(model, ownership, np.array([size, 0, 0]), p)
            n -= size

    def _free(self, occupied: np.ndarray) -> np.ndarray:
        occ = np.zeros((len(self.homes), len(BED_TYPES)), dtype=np.int64)
        occ[: occupied.shape[0]] = occupied
        return self.beds() - occ

    def _convert(self, frm: int, to: int, target: int, occupied: np.ndarray) -> None:
        """Convert free beds of type ``frm`` to ``to`` until ``to`` reaches ``target``, every home
        converting the same share of its free beds (as far as whole beds allow)."""
        need = target - int(self.beds()[:, to].sum())
        if need <= 0:
            return
        k = share_out(self._free(occupied)[:, frm], need)
        for h in np.flatnonzero(k):
            self.homes[h].beds = self.homes[h].beds + k[h] * (_ONE[to] - _ONE[frm])
        self.converted += int(k.sum())

    def _close(self, n: int, occupied: np.ndarray) -> None:
        """Close ``n`` free beds, general first, then nursing, then dementia, every home closing the same
        share of its free beds of the type."""
        free = self._free(occupied)
        for b in (GENERAL, NURSING, DEMENTIA):
            k = share_out(free[:, b], n)
            for h in np.flatnonzero(k):
                self.homes[h].beds = self.homes[h].beds - k[h] * _ONE[b]
            n -= int(k.sum())


def share_out(available: np.ndarray, n: int) -> np.ndarray:
    """Whole numbers, at most ``available`` each, adding up to ``n`` (or to all that is available), each in
    proportion to what is available (largest remainders). Spreading a change over every home in proportion
    keeps what each kind of home gets the same whatever the number of homes, and so whatever the scale."""
    available = np.maximum(available, 0)
    total = int(available.sum())
    if n >= total:
        return available.copy()
    return round_to_total(available * (n / total), n)


def admit(
    homes_in_turn: np.ndarray,
    wanted: np.ndarray,
    load: np.ndarray,
    free_beds: np.ndarray,
    free_staff: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Admit ordered candidates: each in turn takes a bed of the type they need (``wanted``) in the first
    of ``homes_in_turn`` that has one free and the free staff to look after them (``load``: the share of a
    worker they take); one who needs a dementia bed and finds none takes a nursing bed on the same terms.
    A candidate who fits nowhere waits and the next is tried. Returns each candidate's home and bed type
    (-1: not admitted); ``free_beds`` [home, bed type] and ``free_staff`` [home] are updated."""
    home = np.full(wanted.size, -1, dtype=np.int64)
    bed = np.full(wanted.size, -1, dtype=np.int64)
    if wanted.size and homes_in_turn.size:
        _first_fit(homes_in_turn.astype(np.int64), wanted.astype(np.int64), load, free_beds, free_staff, home, bed)
    return home, bed


@numba.njit(cache=True, nogil=True)
def _first_fit(homes, wanted, load, free_beds, free_staff, home, bed):  # pragma: no cover - compiled
    # candidate by candidate, homes in turn: a loop over both is what the rule says, and compiled it costs
    # a few milliseconds a year for a city's waiting list
    free_of_type = np.zeros(free_beds.shape[1], dtype=np.int64)
    for h in homes:
        for b in range(free_beds.shape[1]):
            free_of_type[b] += max(free_beds[h, b], 0)
    for i in range(wanted.size):
        b = wanted[i]
        while True:
            if free_of_type[b] > 0:
                for h in homes:
                    if free_beds[h, b] > 0 and load[i] <= free_staff[h] + 1e-9:
                        free_beds[h, b] -= 1
                        free_of_type[b] -= 1
                        free_staff[h] -= load[i]
                        home[i] = h
                        bed[i] = b
                        break
            if home[i] >= 0 or b != DEMENTIA:
                break
            b = NURSING


def initial_homes(model, baseline: dict, scale: float, p: Parameters, rng: np.random.Generator) -> Homes:
    """The base-year homes: public and other homes, each kind with its share of the homes and of the beds
    (at least one home of a kind that has beds, whatever the scale); sizes vary around the mean."""
    homes = Homes()
    total = int(round(baseline["beds"] / scale))
    public_beds = int(round(baseline["public_share_of_beds"] * total)) if baseline["public_share_of_homes"] > 0 else 0

    def count(share: float, beds: int) -> int:
        return max(1, round(baseline["homes"] * share / scale)) if beds > 0 else 0

    n_public = count(baseline["public_share_of_homes"], public_beds)
    n_other = max(1, count(1 - baseline["public_share_of_homes"], total - public_beds))
    owners = np.array([PUBLIC] * n_public + [PRIVATE] * n_other)
    pbpo = int(round(baseline["public_built_private_run_share_of_private"] * n_other))
    owners[n_public : n_public + pbpo] = PBPO
    sizes = np.zeros(owners.size, dtype=np.int64)
    for group, beds in ((owners == PUBLIC, public_beds), (owners != PUBLIC, total - public_beds)):
        k = int(group.sum())
        if k:
            shares = rng.dirichlet(np.full(k, p.home_size_concentration))  # homes differ in size around the mean
            sizes[group] = round_to_total(shares * beds, beds)
    n = owners.size
    # nursing-type beds, dementia beds included (as the nursing-share lever counts them)
    nursing_type = round_to_total(sizes * baseline["nursing_share"], int(round(baseline["nursing_share"] * total)))
    dementia = round_to_total(
        np.full(n, baseline["dementia_beds"] / scale / n), int(round(baseline["dementia_beds"] / scale))
    )
    dementia = np.minimum(dementia, nursing_type)
    nursing = nursing_type - dementia
    for i in range(n):
        homes.add(model, int(owners[i]), np.array([sizes[i] - nursing[i] - dementia[i], nursing[i], dementia[i]]), p)
    return homes
