"""What the model reports each year, typed and in persons: the population by residence, sex, age and level
(with the year's deaths and new 60-year-olds), and the care system's arrangements, homes, workforce and
money, summed over the agents and converted from agents to persons once, here. ``sim.results.record`` lays
these out as the results table; nothing there knows about agents, scales or the order of codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.data.levels import LEVELS, N_LEVELS
from sim.model import rules
from sim.model.elders import INCOME_GROUPS, INSTITUTION, SETTINGS
from sim.model.homes import BED_TYPES, OWNERSHIP, PUBLIC, residents_per_worker
from sim.model.workforce import CERT_LEVELS

# the plans' split of where older people live and are cared for (9073): settings by where they are
SPLIT = {
    "home": ("none", "family", "home_care"),
    "community": ("day_care", "family_bed"),
    "institution": ("institution",),
}
PUBLIC_SPENDING = ("voucher", "destitute_support", "nursing_and_allowance", "respite")


@dataclass(frozen=True)
class CareSnapshot:
    """The care system at the end of a year, in agents (homes' beds and residents, the staff load) or as the
    submodels keep it (workers are persons), for its record and for inspection."""

    care: object  # care.CareYear: every elder with a need or a place
    elders_level: np.ndarray  # of care.rows
    elders_income: np.ndarray  # of care.rows
    income_counts: np.ndarray  # everyone, by income group
    homes_beds: np.ndarray  # [home, bed type]
    homes_ownership: np.ndarray
    occupied: np.ndarray  # [home, bed type]
    load: np.ndarray  # residents' staff load by home, in agents' worth
    residents_by_level: np.ndarray
    staff: np.ndarray  # by home, in agents' worth (as the load)
    workers_by_level: np.ndarray  # persons, by certification level
    open_posts_homes: np.ndarray  # workers employers would hire, by home, persons (negative: a surplus)
    open_posts_home_care: float
    workers_joined: int
    workers_left: int
    workers_trained_total: int
    carers_trained_total: int  # agents
    capacity: object  # care.Capacity
    fund: dict
    ltci_eligible: int  # agents
    ltci_applicants: int
    beds_added: int  # agents' beds added since the base year, and of them in public homes
    beds_added_public: int
    beds_converted: int  # agents' beds converted to nursing-type or dementia beds since the base year
    pay_uplift: float  # the year's workforce levers
    certification_bonus: float
    p: object  # the parameters


@dataclass(frozen=True)
class PopulationYear:
    """Persons by [residence, sex, age 60..110, level] at the end of ``year``; the deaths of the year, the
    persons at its start (the exposure) and the persons who turned 60 ([residence, sex]), none in the base
    year."""

    year: int
    persons: np.ndarray
    deaths: np.ndarray | None = None
    exposure: np.ndarray | None = None
    entrants: np.ndarray | None = None


@dataclass(frozen=True)
class Arrangements:
    """Who is cared for where, and the hours of care (a year)."""

    by_setting: dict[str, float]  # persons by setting, everyone aged 60+ (no need: 'none')
    by_setting_level: dict[tuple[str, str], float]  # persons by (setting, level)
    split: dict[str, float]  # share of everyone aged 60+: home, community, institution
    hours: dict[str, float]  # need, informal, formal, unmet: hours a year
    with_need: float
    with_unmet_need: float
    with_unmet_need_by_level: dict[str, float]  # mild ... total
    unmet_need_share: float  # of those with a need
    concentrated_support_share: float  # destitute elders unable to care for themselves in care homes
    poor_disabled: float
    nursing_subsidy_recipients: float
    by_income: dict[str, float]  # persons by income group, and 'all'


@dataclass(frozen=True)
class HomesYear:
    """Care homes and places at home and in the community."""

    beds: dict[tuple[str, str], float]  # (ownership or 'all', bed type or 'all')
    occupied: dict[tuple[str, str], float]
    staffed: dict[str, float]  # by ownership or 'all'
    occupancy: dict[str, float]  # all, public, private, and each bed type
    beds_per_1000: float
    nursing_share: float
    dementia_beds_per_10k: float
    waiting_list: float
    mean_wait: float  # years
    admissions: float
    family_beds: float
    day_care_places: float
    home_care_hours: float  # a year, what home-care workers can deliver
    home_care_persons: float  # persons they could serve at the full home-care package


@dataclass(frozen=True)
class WorkforceYear:
    """Care workers in post, those every care need would require, the shortage and the vacancies."""

    workers: dict[str, float]  # by certification level, and 'all'
    per_10k: float
    certified_per_10k: float
    required: dict[str, float]  # all, care_homes, home_and_community
    required_per_10k: float
    shortage: dict[str, float]  # all, certified
    vacancies: dict[str, float]  # all, care_homes, home_care
    joined: float
    left: float
    trained: float  # since the base year
    carers_trained: float  # family carers, since the base year


@dataclass(frozen=True)
class MoneyYear:
    """The insurance fund, public spending and what older people pay (yuan a year)."""

    fund: dict[str, float]  # income, spending, balance, public_top_up, premium
    beneficiaries: float
    eligible: float
    applicants: float
    take_up: float
    public_spending: dict[str, float]  # PUBLIC_SPENDING
    out_of_pocket: float


@dataclass(frozen=True)
class CostYear:
    """The plan's public cost by group (``sim.model.costs``), the year's and since the base year."""

    yearly: dict[str, float]
    cumulative: dict[str, float]


@dataclass(frozen=True)
class CareRecord:
    arrangements: Arrangements
    homes: HomesYear
    workforce: WorkforceYear
    money: MoneyYear
    costs: CostYear


@dataclass(frozen=True)
class YearRecord:
    """One year of a run."""

    population: PopulationYear
    care: CareRecord | None = None

    @property
    def year(self) -> int:
        return self.population.year


def population_year(year: int, counts, scale: float, deaths=None, exposure=None, entrants=None) -> PopulationYear:
    """The population's record from agents (counts by [residence, sex, age, level], entrants by [residence,
    sex])."""
    persons = None if deaths is None else (deaths * scale, exposure * scale, entrants * scale)
    return PopulationYear(year, counts * scale, *(persons or (None, None, None)))


def observe_care(snap: CareSnapshot, scale: float, pop60: float, costs: CostYear) -> CareRecord:
    """The care system's record of a year (``snap``: the model's care snapshot, in agents; ``pop60``:
    persons aged 60+; ``costs``: the plan's cost, in yuan)."""
    return CareRecord(
        _arrangements(snap, pop60, scale),
        _homes(snap, pop60, scale),
        _workforce(snap, pop60, scale),
        _money(snap, scale),
        costs,
    )


def _arrangements(snap: CareSnapshot, pop60: float, scale: float) -> Arrangements:
    care, level = snap.care, snap.elders_level
    unmet = care.unmet
    in_setting = (
        np.bincount(care.setting.astype(np.int64) * N_LEVELS + level, minlength=len(SETTINGS) * N_LEVELS)
        .reshape(len(SETTINGS), N_LEVELS)
        .astype(float)
    )
    in_setting[SETTINGS.index("none"), 0] += pop60 / scale - in_setting.sum()  # everyone else: no need
    by_setting = {name: in_setting[s].sum() * scale for s, name in enumerate(SETTINGS)}
    by_setting_level = {
        (name, lname): in_setting[s, lvl] * scale for s, name in enumerate(SETTINGS) for lvl, lname in enumerate(LEVELS)
    }
    split = {
        part: sum(in_setting[SETTINGS.index(s)].sum() for s in settings) * scale / pop60 if pop60 else np.nan
        for part, settings in SPLIT.items()
    }
    hours = {
        name: h.sum() * 52 * scale
        for name, h in (("need", care.need), ("informal", care.informal), ("formal", care.formal), ("unmet", unmet))
    }
    with_need = care.need > 0
    short = unmet > 1e-9
    income = snap.elders_income
    destitute_unable = rules.destitute(income) & rules.unable_to_care_for_self(level)
    in_home = (destitute_unable & (care.setting == INSTITUTION)).sum()
    by_income = snap.income_counts
    return Arrangements(
        by_setting=by_setting,
        by_setting_level=by_setting_level,
        split=split,
        hours=hours,
        with_need=with_need.sum() * scale,
        with_unmet_need=short.sum() * scale,
        with_unmet_need_by_level={
            lname: (short & (level == lvl)).sum() * scale for lvl, lname in enumerate(LEVELS) if lvl > 0
        },
        unmet_need_share=short.sum() / max(with_need.sum(), 1),
        concentrated_support_share=in_home / destitute_unable.sum() if destitute_unable.any() else np.nan,
        poor_disabled=rules.poor_and_disabled(income, level).sum() * scale,
        nursing_subsidy_recipients=care.entitled[0] * scale,
        by_income={"all": by_income.sum() * scale} | {g: by_income[k] * scale for k, g in enumerate(INCOME_GROUPS)},
    )


def _homes(snap: CareSnapshot, pop60: float, scale: float) -> HomesYear:
    care, p = snap.care, snap.p
    beds, owner, occupied, load, staff = snap.homes_beds, snap.homes_ownership, snap.occupied, snap.load, snap.staff
    # beds a home's staff could serve: its residents' and, with the staff left, whole beds at the empty-bed
    # level, counted in persons so that the whole beds do not depend on the scale
    spare = np.maximum(staff - load, 0.0) * residents_per_worker(p)[int(p.empty_bed_level)] * scale
    staffed = np.minimum(beds.sum(axis=1) * scale, occupied.sum(axis=1) * scale + np.floor(spare)) / scale
    owners = [("all", np.ones(owner.size, dtype=bool))] + [(name, owner == o) for o, name in enumerate(OWNERSHIP)]
    bed_types = [("all", slice(None))] + [(name, b) for b, name in enumerate(BED_TYPES)]
    by_kind = {
        (oname, bname): (beds[mine][:, cols].sum() * scale, occupied[mine][:, cols].sum() * scale)
        for oname, mine in owners
        for bname, cols in bed_types
    }
    other = owner != PUBLIC
    occupancy = {
        name: n_occ / n_beds if n_beds else np.nan
        for name, n_occ, n_beds in (
            ("all", occupied.sum(), beds.sum()),
            ("public", occupied[owner == PUBLIC].sum(), beds[owner == PUBLIC].sum()),
            ("private", occupied[other].sum(), beds[other].sum()),
            *((bname, occupied[:, b].sum(), beds[:, b].sum()) for b, bname in enumerate(BED_TYPES)),
        )
    }
    nursing_type = [BED_TYPES.index("nursing"), BED_TYPES.index("dementia")]  # dementia beds are nursing-type
    cap = snap.capacity
    return HomesYear(
        beds={k: v[0] for k, v in by_kind.items()},
        occupied={k: v[1] for k, v in by_kind.items()},
        staffed={oname: staffed[mine].sum() * scale for oname, mine in owners},
        occupancy=occupancy,
        beds_per_1000=beds.sum() * scale / pop60 * 1000,
        nursing_share=beds[:, nursing_type].sum() / beds.sum() if beds.sum() else np.nan,
        dementia_beds_per_10k=beds[:, BED_TYPES.index("dementia")].sum() * scale / pop60 * 1e4,
        waiting_list=care.waiting.size * scale,
        mean_wait=care.wait_years.mean() if care.wait_years.size else 0.0,
        admissions=care.admissions.rows.size * scale,
        family_beds=cap.family_beds * scale,
        day_care_places=cap.day_care_places * scale,
        home_care_hours=cap.home_care_hours_per_week * 52 * scale,
        home_care_persons=cap.home_care_hours_per_week / p.home_care_hours_per_week * scale,
    )


def _workforce(snap: CareSnapshot, pop60: float, scale: float) -> WorkforceYear:
    care, p = snap.care, snap.p
    workers = snap.workers_by_level  # persons: workers are one agent each whatever the scale
    # Required: residents at the standard (`required_staffing_grade`) for their level; everyone else with a
    # need, the formal hours they get and the hours left unmet, at a home-care worker's yearly hours.
    standard = residents_per_worker(p, p.required_staffing_grade)
    in_homes = (snap.residents_by_level / standard).sum() * scale
    outside = care.setting != INSTITUTION
    hours = (care.formal[outside].sum() + care.unmet[outside].sum()) * 52 * scale
    at_home = hours / p.home_care_hours_per_worker
    required = in_homes + at_home
    certified_required = required * p.certified_share_standard
    # Vacancies: what employers try to hire, for the residents and empty beds they have and the home-care
    # hours their clients asked for (not for need nobody asks them to serve).
    homes_open = max(0.0, float(snap.open_posts_homes.sum()))
    home_care_open = max(0.0, float(snap.open_posts_home_care))
    return WorkforceYear(
        workers={name: workers[lvl] for lvl, name in enumerate(CERT_LEVELS)} | {"all": workers.sum()},
        per_10k=workers.sum() / pop60 * 1e4,
        certified_per_10k=workers[1:].sum() / pop60 * 1e4,
        required={"all": required, "care_homes": in_homes, "home_and_community": at_home},
        required_per_10k=required / pop60 * 1e4,
        shortage={
            "all": max(0.0, required - workers.sum()),
            "certified": max(0.0, certified_required - workers[1:].sum()),
        },
        vacancies={"all": homes_open + home_care_open, "care_homes": homes_open, "home_care": home_care_open},
        joined=snap.workers_joined,
        left=snap.workers_left,
        trained=snap.workers_trained_total,
        carers_trained=snap.carers_trained_total * scale,
    )


def _money(snap: CareSnapshot, scale: float) -> MoneyYear:
    fund, accounts, eligible = snap.fund, snap.care.accounts, snap.ltci_eligible
    spending = {
        "voucher": accounts.voucher_spending,
        "destitute_support": accounts.destitute_support,
        "nursing_and_allowance": accounts.nursing_and_allowance,
        "respite": accounts.respite_spending,
    }
    return MoneyYear(
        fund={k: fund[k] for k in ("income", "spending", "balance", "public_top_up", "premium")},
        beneficiaries=accounts.beneficiaries * scale,
        eligible=eligible * scale,
        applicants=snap.ltci_applicants * scale,
        take_up=accounts.beneficiaries / eligible if eligible else np.nan,
        public_spending={name: spending[name] * scale for name in PUBLIC_SPENDING},
        out_of_pocket=accounts.out_of_pocket * scale,
    )
