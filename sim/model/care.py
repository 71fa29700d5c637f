"""Who cares for each older person each year, who pays, and where demand and capacity fail to meet.

Each year, for every elder with a care need (mild loss or worse) who is not already living in a care home:
1. need: hours of help per week by capacity level, more with dementia;
2. what each arrangement would give: family hours (fewer as paid care replaces them), professional
   hours, the share of need left unmet, and the monthly cost net of insurance, vouchers and subsidies;
3. choice: a multinomial logit over family only, home care, day care, a family elderly-care bed, a
   public home and a private home, with a strong preference for home, a cost term relative to income,
   an unmet-need term and inertia; unaffordable arrangements and a family past its strain limit are
   ruled out;
4. capacity: public homes admit from the waiting list by priority, private homes those who choose them
   and can pay, family beds and day-care places are rationed by priority; whoever does not get what
   they chose falls back to their next choice, and public-home applicants stay on the list; home-care
   hours are cut pro rata when home-care workers cannot deliver them all;
5. hours given (family and professional), hours unmet, families' strain, and the money of the year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.data.levels import MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.model.elders import Elders
from sim.model.families import accumulate_strain, family_hours
from sim.model.homes import DEMENTIA, GENERAL, NURSING, PUBLIC, Homes
from sim.model.money import DAYS_PER_MONTH, Benefits

SETTINGS = ("none", "family", "home_care", "day_care", "family_bed", "institution")
NO_NEED, FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION = range(len(SETTINGS))
OPTIONS = ("family", "home_care", "day_care", "family_bed", "public_home", "private_home")
O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC, O_PRIVATE = range(len(OPTIONS))
OPTION_SETTING = np.array([FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION, INSTITUTION])
WEEKS_PER_MONTH = 52.0 / 12.0


@dataclass
class Capacity:
    """Capacities of the year, in agents (persons / scale)."""

    family_beds: int
    day_care_places: int
    home_care_hours_per_week: float  # what home-care workers can deliver


@dataclass
class CareYear:
    """The year's arrangement of every elder with a need or a place, for indicators and accounts.
    Hours are per week; money per year, in yuan for the agents (multiply by scale for persons)."""

    rows: np.ndarray
    need: np.ndarray
    informal: np.ndarray
    formal: np.ndarray
    setting: np.ndarray
    waiting: np.ndarray  # rows on the public-home waiting list
    wait_years: np.ndarray
    admitted: np.ndarray  # rows admitted to a home this year
    admitted_public: np.ndarray  # rows admitted to a public home this year, and when they joined its list
    admitted_public_joined: np.ndarray
    beneficiaries: int
    money: dict[str, float]
    ltci: np.ndarray | None = None  # monthly insurance payment to each row (benefits and family cash)

    @property
    def unmet(self) -> np.ndarray:
        return np.maximum(self.need - self.informal - self.formal, 0.0)


def sample_logit(utility: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the logit probabilities ``exp(v) / sum(exp(v))`` (-inf: not available).
    A row with nothing available gets family care: the last resort when no service can be had."""
    return _sample_logit(np.ascontiguousarray(utility), rng.random(utility.shape[0]))


@numba.njit(cache=True, nogil=True)
def _sample_logit(utility, u):  # pragma: no cover - compiled
    # A row loop: the NumPy version (exp, cumsum, compare over rows x options) is about 20 times slower.
    n, k = utility.shape
    out = np.empty(n, dtype=np.int64)
    weights = np.empty(k)
    for i in range(n):
        top = -np.inf
        for j in range(k):
            top = max(top, utility[i, j])
        if top == -np.inf:
            out[i] = O_FAMILY
            continue
        total = 0.0
        for j in range(k):
            weights[j] = np.exp(utility[i, j] - top)
            total += weights[j]
        target = u[i] * total
        j = 0
        acc = weights[0]
        while acc <= target and j < k - 1:
            j += 1
            acc += weights[j]
        out[i] = j
    return out


def need_hours(elders: Elders, idx: np.ndarray, p: Parameters) -> np.ndarray:
    level = elders.level[idx]
    return p.need_hours_per_week[level] + np.where(
        elders.dementia[idx] & (level >= MODERATE), p.dementia_extra_hours, 0.0
    )


def resident_load(level: np.ndarray, p: Parameters) -> np.ndarray:
    """Share of a worker each resident takes."""
    return 1.0 / p.residents_per_worker[level]


def needed_bed(elders: Elders, idx: np.ndarray, dementia_beds: bool) -> np.ndarray:
    level = elders.level[idx]
    bed = np.where(level >= MODERATE, NURSING, GENERAL)
    if dementia_beds:
        bed = np.where(elders.dementia[idx] & (level >= MODERATE), DEMENTIA, bed)
    return bed


def priority_group(elders: Elders, idx: np.ndarray) -> np.ndarray:
    """Public-home priority: 0 destitute (特困), 1 poor (低保) with moderate loss or worse, 2 everyone else."""
    income, level = elders.income[idx], elders.level[idx]
    return np.where(income == 0, 0, np.where((income == 1) & (level >= MODERATE), 1, 2))


SETTING_OPTION = np.array([O_FAMILY, O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC])  # by setting code


def option_hours(
    need: np.ndarray, family: np.ndarray, option: np.ndarray | int, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Professional and family hours per week an arrangement gives, for each elder.

    Professional hours are capped by what the arrangement provides (all of the need in a care home);
    paid care replaces family care only in part (``informal_substitution`` hours per paid hour), and the
    family never gives more than the need left after paid care."""
    caps = np.array(
        [0.0, p.home_care_hours_per_week, p.day_care_hours_per_week, p.family_bed_hours_per_week, np.inf, np.inf]
    )
    option = np.broadcast_to(option, need.shape)
    formal = np.minimum(caps[option], need)
    return formal, np.where(option >= O_PUBLIC, 0.0, family_given(need, family, formal, p))


def family_given(need: np.ndarray, family: np.ndarray, formal: np.ndarray, p: Parameters) -> np.ndarray:
    """Hours the family gives alongside ``formal`` paid hours."""
    return np.clip(np.minimum(family, need) - p.informal_substitution * formal, 0.0, need - formal)


class CareArranger:
    """The yearly arrangement of care; see the module docstring."""

    def __init__(self, p: Parameters):
        self.p = p

    def occupancy(self, elders: Elders, n_homes: int) -> tuple[np.ndarray, np.ndarray]:
        """Residents by [home, bed type] and staff load by home."""
        res = np.flatnonzero(elders.setting == INSTITUTION)
        occupied = np.bincount(elders.home[res] * 3 + elders.bed[res], minlength=n_homes * 3).reshape(n_homes, 3)
        # float even with no residents (bincount of nothing is integer)
        load = np.bincount(elders.home[res], weights=resident_load(elders.level[res], self.p), minlength=n_homes)
        load = load.astype(float)
        return occupied, load

    def reviewing(self, elders: Elders, candidates: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Who reconsiders this year: those newly in need, whose capacity level changed, on the waiting
        list, whose family has reached its limit, and a share ``review_rate`` of the others."""
        return (
            (elders.setting[candidates] == NO_NEED)
            | (elders.last_level[candidates] != elders.level[candidates])
            | (elders.waiting_since[candidates] > 0)
            | ((elders.setting[candidates] == FAMILY) & (elders.burden[candidates] > self.p.burden_limit))
            | (rng.random(candidates.size) < self.p.review_rate)
        )

    def arrange(
        self,
        elders: Elders,
        year: int,
        homes: Homes,
        staff: np.ndarray,
        capacity: Capacity,
        benefits: Benefits,
        respite_days: float,
        rng: np.random.Generator,
        everyone_reviews: bool = False,
    ) -> CareYear:
        p = self.p
        has_need = elders.level >= MILD
        at_home = elders.setting != INSTITUTION
        elders.setting[~has_need & at_home & (elders.waiting_since == 0)] = NO_NEED
        candidates = np.flatnonzero((has_need | (elders.waiting_since > 0)) & at_home)
        review = np.ones(candidates.size, dtype=bool) if everyone_reviews else self.reviewing(elders, candidates, rng)
        reviewers = candidates[review]
        family_all = family_hours(elders, candidates, p)  # fixed within the year's arrangement
        kept = elders.setting[candidates[~review]]
        places = {  # places left for those reconsidering once the others keep theirs
            O_BED: max(0, capacity.family_beds - int((kept == FAMILY_BED).sum())),
            O_DAY: max(0, capacity.day_care_places - int((kept == DAY_CARE).sum())),
        }
        admitted, public, joined = self._choose(
            elders,
            reviewers,
            family_all[review],
            year,
            homes,
            staff,
            places,
            benefits,
            rng,
            inertia=not everyone_reviews,
        )
        elders.last_level[candidates] = elders.level[candidates]

        # hours of those at home with a need (or on the waiting list)
        stays_home = elders.setting[candidates] != INSTITUTION
        home = candidates[stays_home]
        option = SETTING_OPTION[elders.setting[home]]
        need = need_hours(elders, home, p)
        family = family_all[stays_home]
        formal, informal = option_hours(need, family, option, p)
        formal[option == O_FAMILY] = 0.0
        visiting = np.isin(option, (O_HOME, O_BED))
        demand = formal[visiting].sum()
        if demand > capacity.home_care_hours_per_week:  # not enough home-care workers: everyone gets less
            formal[visiting] *= capacity.home_care_hours_per_week / demand
            informal[visiting] = family_given(need[visiting], family[visiting], formal[visiting], p)
        severe = elders.level[home] >= SEVERE
        accumulate_strain(elders, home, informal, family, np.where(severe, respite_days, 0.0), p)

        # residents get the care their home's staff can give
        residents = np.flatnonzero(elders.setting == INSTITUTION)
        _, load = self.occupancy(elders, len(homes))
        staffing = np.divide(staff, load, out=np.ones_like(load), where=load > 0).clip(max=1.0)
        res_need = need_hours(elders, residents, p)

        rows = np.concatenate([home, residents])
        waiting = np.flatnonzero(elders.waiting_since > 0)
        care = CareYear(
            rows=rows,
            need=np.concatenate([need, res_need]),
            informal=np.concatenate([informal, np.zeros(residents.size)]),
            formal=np.concatenate([formal, res_need * staffing[elders.home[residents]]]),
            setting=elders.setting[rows].copy(),
            waiting=waiting,
            wait_years=(year - elders.waiting_since[waiting]).astype(float),
            admitted=admitted,
            admitted_public=public,
            admitted_public_joined=joined,
            beneficiaries=0,
            money={},
        )
        self._accounts(care, elders, homes, benefits, respite_days)
        return care

    def _choose(
        self,
        elders: Elders,
        choosers: np.ndarray,
        family: np.ndarray,
        year: int,
        homes: Homes,
        staff: np.ndarray,
        places: dict[int, int],
        benefits: Benefits,
        rng: np.random.Generator,
        inertia: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Choice and placement of those reconsidering (``family``: their families' hours); sets their
        setting, home and waiting status. Returns the rows admitted to a care home, those admitted to a
        public one and when they joined its list."""
        p = self.p
        n = choosers.size
        need = need_hours(elders, choosers, p)
        formal = np.empty((n, len(OPTIONS)))
        informal = np.empty((n, len(OPTIONS)))
        for o in range(len(OPTIONS)):
            formal[:, o], informal[:, o] = option_hours(need, family, o, p)
        unmet_share = np.divide(
            np.maximum(need[:, None] - informal - formal, 0.0),
            need[:, None],
            out=np.zeros_like(formal),
            where=need[:, None] > 0,
        )

        # monthly money of each option, net of insurance and vouchers
        eligible = benefits.eligible(elders, choosers)
        dementia_beds = homes.beds()[:, DEMENTIA].sum() > 0 if len(homes) else False
        bed = needed_bed(elders, choosers, dementia_beds)
        gross = np.zeros((n, len(OPTIONS)))
        gross[:, O_HOME] = formal[:, O_HOME] * WEEKS_PER_MONTH * p.home_care_price_hourly
        gross[:, O_DAY] = p.day_care_price_monthly
        gross[:, O_BED] = p.family_bed_price_monthly
        if len(homes):
            gross[:, O_PUBLIC] = homes.mean_price(public=True)[bed]
            gross[:, O_PRIVATE] = homes.mean_price(public=False)[bed]
        insurance = np.zeros_like(gross)
        insurance[:, O_FAMILY] = benefits.family_cash(eligible)
        insurance[:, O_HOME] = benefits.home_benefit(eligible, gross[:, O_HOME])
        insurance[:, O_BED] = benefits.home_benefit(eligible, gross[:, O_BED])
        for o in (O_PUBLIC, O_PRIVATE):
            insurance[:, o] = np.minimum(benefits.institution_benefit(eligible), gross[:, o])
        voucher = np.minimum(benefits.service_voucher(elders, choosers)[:, None], gross - insurance)
        voucher[:, O_FAMILY] = 0.0
        net = gross - insurance - voucher
        destitute = elders.income[choosers] == 0
        net[destitute, O_PUBLIC] = 0.0  # concentrated support: the government pays
        income = np.where(
            elders.urban[choosers],
            p.income_monthly["urban"][elders.income[choosers]],
            p.income_monthly["rural"][elders.income[choosers]],
        )
        income = income + benefits.cash_income(elders, choosers)

        constants = np.array([p.choice_constant[o] for o in OPTIONS])
        utility = constants + p.choice_cost * net / income[:, None] + p.choice_unmet * unmet_share
        if inertia:
            current = SETTING_OPTION[elders.setting[choosers]]
            current[elders.setting[choosers] == NO_NEED] = -1
            current[elders.waiting_since[choosers] > 0] = O_PUBLIC
            keeps = current >= 0
            utility[keeps, current[keeps]] += p.choice_inertia
        ruled_out = net > p.max_cost_to_income * income[:, None]
        ruled_out[:, O_FAMILY] = elders.burden[choosers] > p.burden_limit
        ruled_out[:, O_DAY] |= (elders.level[choosers] == TOTAL) | (places[O_DAY] <= 0)
        ruled_out[:, O_BED] |= places[O_BED] <= 0
        public_homes = homes.ownership() == PUBLIC if len(homes) else np.zeros(0, dtype=bool)
        ruled_out[:, O_PUBLIC] |= not public_homes.any()
        ruled_out[:, O_PRIVATE] |= (not (~public_homes).any()) | destitute
        utility[ruled_out] = -np.inf
        choice = sample_logit(utility, rng)

        # --- care homes: public by priority from the waiting list, private in random order ----------
        occupied, load = self.occupancy(elders, len(homes))
        free_beds = homes.beds() - occupied if len(homes) else np.zeros((0, 3), dtype=np.int64)
        free_staff = staff - load
        joined = np.where(elders.waiting_since[choosers] > 0, elders.waiting_since[choosers], year)
        placed = np.zeros(n, dtype=bool)
        admitted = []
        for option in (O_PUBLIC, O_PRIVATE):
            queue = np.flatnonzero(choice == option)
            if option == O_PUBLIC:
                group = priority_group(elders, choosers[queue])
                order = np.lexsort((elders.uid[choosers[queue]], joined[queue], -elders.level[choosers[queue]], group))
                homes_in_turn = rng.permutation(np.flatnonzero(public_homes))
            else:
                order = rng.permutation(queue.size)
                homes_in_turn = rng.permutation(np.flatnonzero(~public_homes))
            got = self._place(elders, choosers, queue[order], bed, homes, homes_in_turn, free_beds, free_staff)
            placed[got] = True
            admitted.append(choosers[got])
            if option == O_PUBLIC:
                public, public_joined = choosers[got], joined[got]
        waiting = np.flatnonzero((choice == O_PUBLIC) & ~placed)
        elders.waiting_since[choosers] = 0
        elders.waiting_since[choosers[waiting]] = joined[waiting]

        # those not placed choose again among the arrangements at home (logit: the same odds among the rest)
        utility[:, O_PUBLIC:] = -np.inf
        again = np.flatnonzero(~placed & (choice >= O_PUBLIC))
        choice[again] = sample_logit(utility[again], rng)
        for option in (O_BED, O_DAY, O_BED):
            takers = np.flatnonzero(~placed & (choice == option))
            if takers.size > places[option]:
                # more dependent first, then at random; the rest choose again without this option
                ranked = takers[np.lexsort((rng.random(takers.size), -elders.level[choosers[takers]]))]
                refused = ranked[places[option] :]
                utility[refused, option] = -np.inf
                choice[refused] = sample_logit(utility[refused], rng)
        at_home = choosers[~placed]
        elders.setting[at_home] = OPTION_SETTING[choice[~placed]]
        elders.home[at_home] = -1
        elders.bed[at_home] = -1
        return np.concatenate(admitted), public, public_joined

    def _place(
        self,
        elders: Elders,
        choosers: np.ndarray,
        candidates: np.ndarray,
        bed: np.ndarray,
        homes: Homes,
        homes_in_turn: np.ndarray,
        free_beds: np.ndarray,
        free_staff: np.ndarray,
    ) -> np.ndarray:
        """Admit ordered candidates (positions in ``choosers``) to homes; dementia candidates not placed in a
        dementia bed may take a nursing bed, keeping their place in the order. Returns admitted positions."""
        if candidates.size == 0 or homes_in_turn.size == 0:
            return np.empty(0, dtype=np.int64)
        load = resident_load(elders.level[choosers], self.p)
        wanted = bed[candidates]
        dem = candidates[wanted == DEMENTIA]
        first = homes.admit(homes_in_turn, {DEMENTIA: (dem, load[dem])}, free_beds, free_staff)
        rank = np.empty(choosers.size, dtype=np.int64)
        rank[candidates] = np.arange(candidates.size)
        nursing = np.concatenate([candidates[wanted == NURSING], np.setdiff1d(dem, first[0], assume_unique=True)])
        nursing = nursing[np.argsort(rank[nursing], kind="stable")]
        general = candidates[wanted == GENERAL]
        second = homes.admit(
            homes_in_turn, {NURSING: (nursing, load[nursing]), GENERAL: (general, load[general])}, free_beds, free_staff
        )
        got = np.concatenate([first[0], second[0]])
        rows = choosers[got]
        elders.setting[rows] = INSTITUTION
        elders.home[rows] = np.concatenate([first[1], second[1]])
        elders.bed[rows] = np.concatenate([first[2], second[2]])
        return got

    def _accounts(self, care: CareYear, elders: Elders, homes: Homes, benefits: Benefits, respite_days: float) -> None:
        """The year's money, in yuan for the agents: what elders pay, what insurance and government pay."""
        p = self.p
        rows, setting = care.rows, care.setting
        gross = np.select(
            [setting == HOME_CARE, setting == DAY_CARE, setting == FAMILY_BED],
            [
                care.formal * WEEKS_PER_MONTH * p.home_care_price_hourly,
                p.day_care_price_monthly,
                p.family_bed_price_monthly,
            ],
            0.0,
        )
        inst = setting == INSTITUTION
        if inst.any():
            gross[inst] = homes.prices()[elders.home[rows[inst]], elders.bed[rows[inst]]]
        eligible = benefits.eligible(elders, rows)
        ltci = np.where(inst, np.minimum(benefits.institution_benefit(eligible), gross), 0.0)
        visiting = (setting == HOME_CARE) | (setting == FAMILY_BED)
        ltci = np.where(visiting, benefits.home_benefit(eligible, gross), ltci)
        cash = np.where(setting == FAMILY, benefits.family_cash(eligible), 0.0)
        voucher = np.where(setting != FAMILY, np.minimum(benefits.service_voucher(elders, rows), gross - ltci), 0.0)
        destitute_support = np.where(inst & (elders.income[rows] == 0), gross - ltci - voucher, 0.0)
        oop = gross - ltci - voucher - destitute_support
        poor_disabled = int(((elders.income <= 1) & (elders.level >= MODERATE)).sum())
        subsidy_cash = (
            poor_disabled * benefits.nursing_subsidy + int((elders.age >= 80).sum()) * benefits.old_age_allowance
        )
        severe_at_home = (elders.level[rows] >= SEVERE) & (setting != INSTITUTION)
        respite = severe_at_home.sum() * respite_days * p.bed_price_monthly["nursing"] / DAYS_PER_MONTH
        care.ltci = ltci + cash
        care.beneficiaries = int((care.ltci > 0).sum())
        care.money = {
            "ltci_spending": 12 * (ltci.sum() + cash.sum()),
            "voucher_spending": 12 * voucher.sum(),
            "destitute_support": 12 * destitute_support.sum(),
            "nursing_and_allowance": 12 * subsidy_cash,
            "respite_spending": float(respite),
            "out_of_pocket": 12 * oop.sum(),
        }
