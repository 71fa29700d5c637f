"""What a run reports each year, as a tidy table: one row per (year, indicator, breakdown).

The model hands over a few arrays per year (persons by residence, sex, age and level; deaths; new
60-year-olds);
every indicator is computed from them here, in persons (agents times ``scale``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.data.demography import AGE_MIN, AGES, life_expectancy
from sim.data.levels import LEVELS

FIVE_YEAR_GROUPS = {f"{a}-{a + 4}": (a, a + 5) for a in range(60, 100, 5)} | {"100+": (100, None)}
BROAD_GROUPS = {"60+": (60, None), "65+": (65, None), "80+": (80, None)}
SEX_BREAKDOWN = {"all": [0, 1], "male": [0], "female": [1]}
RESIDENCE_BREAKDOWN = {"all": [0, 1], "urban": [1], "rural": [0]}  # indices of sim.data.regions.RESIDENCES
OPEN_AGE_FOR_LIFE_TABLE = 100  # ages 100+ pooled: the packaged death rates are the same at every age 100+

COLUMNS = ["year", "indicator", "sex", "age_group", "capacity", "residence", "group", "unit", "value"]


def _age_mask(lo: int, hi: int | None) -> np.ndarray:
    return (AGES >= lo) & (AGES < (hi if hi is not None else np.inf))


@dataclass
class YearlyRecord:
    """Arrays kept per year; ``counts`` and ``deaths`` are agents by [residence, sex, age, level],
    ``entrants`` by [residence, sex]."""

    scale: float
    years: list[int] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)
    deaths: list[np.ndarray | None] = field(default_factory=list)
    exposure: list[np.ndarray | None] = field(default_factory=list)
    entrants: list[np.ndarray | None] = field(default_factory=list)
    care_rows: list[list[tuple]] = field(default_factory=list)

    def add(self, year: int, counts: np.ndarray, deaths=None, exposure=None, entrants=None, care=None) -> None:
        """``care`` is the care system's snapshot of the year, turned into rows at once (snapshots hold
        arrays over everyone with a need and would cost memory if kept for every year)."""
        self.years.append(year)
        self.counts.append(counts)
        self.deaths.append(deaths)
        self.exposure.append(exposure)
        self.entrants.append(entrants)
        self.care_rows.append(care_rows(year, care, counts.sum() * self.scale, self.scale) if care else [])

    def population_rows(self, i: int) -> list[tuple]:
        """The population's rows of the i-th recorded year (computed on demand: they are many)."""
        return _year_rows(
            self.years[i], self.counts[i] * self.scale, self.deaths[i], self.exposure[i], self.entrants[i], self.scale
        )

    def table(self) -> pd.DataFrame:
        rows: list[tuple] = []
        for i in range(len(self.years)):
            rows += self.population_rows(i)
            rows += self.care_rows[i]
        return pd.DataFrame(rows, columns=COLUMNS)


def simulated_life_expectancy_60(deaths: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """e60 by [male, female, all] from deaths and start-of-year persons by [sex, age] (ages 60..110)."""
    open_i = OPEN_AGE_FOR_LIFE_TABLE - AGE_MIN
    out = []
    for sexes in SEX_BREAKDOWN.values():
        d = deaths[sexes].sum(axis=0)
        n = exposure[sexes].sum(axis=0)
        d = np.append(d[:open_i], d[open_i:].sum())
        n = np.append(n[:open_i], n[open_i:].sum())
        if (n == 0).any():
            out.append(np.nan)
            continue
        out.append(float(life_expectancy(d / n)))
    return np.array([out[1], out[2], out[0]])


def _year_rows(year, persons, deaths, exposure, entrants, scale) -> list[tuple]:
    rows = []
    for res, where in RESIDENCE_BREAKDOWN.items():
        here = persons[where].sum(axis=0)  # [sex, age, level]
        for sex, idx in SEX_BREAKDOWN.items():
            p = here[idx].sum(axis=0)  # [age, level]
            for group, (lo, hi) in BROAD_GROUPS.items():
                n = float(p[_age_mask(lo, hi)].sum())
                rows.append((year, "population", sex, group, "all", res, "all", "persons", n))
            for lvl, name in enumerate(LEVELS):
                n = float(p[:, lvl].sum())
                rows.append((year, "elders_by_capacity", sex, "60+", name, res, "all", "persons", n))
            for group, (lo, hi) in (FIVE_YEAR_GROUPS | BROAD_GROUPS).items():
                in_group = p[_age_mask(lo, hi)].sum(axis=0)
                total = in_group.sum()
                shares = in_group / total if total > 0 else np.full(len(LEVELS), np.nan)
                for lvl, name in enumerate(LEVELS):
                    rows.append((year, "capacity_share", sex, group, name, res, "all", "share", float(shares[lvl])))
                any_loss = float(shares[1:].sum())
                rows.append((year, "capacity_share", sex, group, "any_loss", res, "all", "share", any_loss))
        if deaths is None:
            continue
        died, exposed, joined = (x[where].sum(axis=0) for x in (deaths, exposure, entrants))
        e60 = simulated_life_expectancy_60(died.sum(axis=-1), exposed.sum(axis=-1))
        for k, sex in enumerate(("male", "female", "all")):
            idx = SEX_BREAKDOWN[sex]
            rows.append((year, "deaths", sex, "60+", "all", res, "all", "persons", float(died[idx].sum() * scale)))
            rows.append((year, "entrants", sex, "60", "all", res, "all", "persons", float(joined[idx].sum() * scale)))
            rows.append((year, "life_expectancy_60", sex, "60", "all", res, "all", "years", float(e60[k])))
    return rows


def care_rows(year: int, snap: dict, pop60: float, scale: float) -> list[tuple]:
    """The care system's indicators for one year (sex 'all', ages 60+ unless a breakdown says otherwise)."""
    rows = _CareRows(year)
    _arrangements(rows, snap, pop60, scale)
    _homes(rows, snap, pop60, scale)
    _workforce(rows, snap, pop60, scale)
    _money(rows, snap, scale)
    return rows.rows


class _CareRows:
    def __init__(self, year: int) -> None:
        self.year = year
        self.rows: list[tuple] = []

    def add(self, indicator: str, value, unit: str, group: str = "all", capacity: str = "all") -> None:
        self.rows.append((self.year, indicator, "all", "60+", capacity, "all", group, unit, float(value)))


def _arrangements(rows: _CareRows, snap: dict, pop60: float, scale: float) -> None:
    """Who is cared for where, the hours of care and of unmet need, concentrated support."""
    from sim.model import rules
    from sim.model.elders import INCOME_GROUPS, INSTITUTION, SETTINGS

    add = rows.add
    care, level = snap["care"], snap["elders_level"]
    unmet = care.unmet
    in_setting = (
        np.bincount(care.setting.astype(np.int64) * len(LEVELS) + level, minlength=len(SETTINGS) * len(LEVELS))
        .reshape(len(SETTINGS), len(LEVELS))
        .astype(float)
    )
    in_setting[0, 0] += pop60 / scale - in_setting.sum()  # everyone else: no need, no arrangement
    for s, name in enumerate(SETTINGS):
        add("elders_by_setting", in_setting[s].sum() * scale, "persons", group=name)
        for lvl, lname in enumerate(LEVELS):
            add("elders_by_setting", in_setting[s, lvl] * scale, "persons", group=name, capacity=lname)
    split = {"home": in_setting[:3].sum(), "community": in_setting[3:5].sum(), "institution": in_setting[5].sum()}
    for name, n in split.items():
        add("care_split", n * scale / pop60 if pop60 else np.nan, "share", group=name)

    for name, hours in (("need", care.need), ("informal", care.informal), ("formal", care.formal), ("unmet", unmet)):
        add("care_hours", hours.sum() * 52 * scale, "hours per year", group=name)
    with_need = care.need > 0
    add("persons_with_need", with_need.sum() * scale, "persons")
    add("persons_with_unmet_need", (unmet > 1e-9).sum() * scale, "persons")
    add("unmet_need_share", (unmet > 1e-9).sum() / max(with_need.sum(), 1), "share")
    for lvl, lname in enumerate(LEVELS[1:], start=1):
        add("persons_with_unmet_need", ((unmet > 1e-9) & (level == lvl)).sum() * scale, "persons", capacity=lname)

    # the destitute unable to care for themselves (特困 生活不能自理): concentrated support is a care home
    income = snap["elders_income"]
    destitute_unable = rules.destitute(income) & rules.unable_to_care_for_self(level)
    in_home = (destitute_unable & (care.setting == INSTITUTION)).sum()
    add("concentrated_support_share", in_home / destitute_unable.sum() if destitute_unable.any() else np.nan, "share")
    add("poor_disabled", rules.poor_and_disabled(income, level).sum() * scale, "persons")
    add("nursing_subsidy_recipients", care.entitled[0] * scale, "persons")
    by_income = snap["income_counts"]
    add("elders_by_income", by_income.sum() * scale, "persons")
    for g, name in enumerate(INCOME_GROUPS):
        add("elders_by_income", by_income[g] * scale, "persons", group=name)


def _homes(rows: _CareRows, snap: dict, pop60: float, scale: float) -> None:
    """Beds, staffed and occupied, occupancy, the plans' bed indicators, the waiting list, places at home."""
    from sim.model.homes import BED_TYPES, OWNERSHIP, PUBLIC, residents_per_worker

    add, care, p = rows.add, snap["care"], snap["p"]
    beds, owner, occupied, load, staff = (
        snap[k] for k in ("homes_beds", "homes_ownership", "occupied", "load", "staff")
    )
    # beds a home's staff could serve: its residents' and, with the staff left, whole beds at the empty-bed
    # level, counted in persons so that the whole beds do not depend on the scale
    spare = np.maximum(staff - load, 0.0) * residents_per_worker(p)[int(p.empty_bed_level)] * scale
    staffed = np.minimum(beds.sum(axis=1) * scale, occupied.sum(axis=1) * scale + np.floor(spare)) / scale
    for o, oname in [(None, "all")] + list(enumerate(OWNERSHIP)):
        mine = np.ones(owner.size, dtype=bool) if o is None else owner == o
        for b, bname in [(None, "all")] + list(enumerate(BED_TYPES)):
            cols = slice(None) if b is None else b
            add("beds", beds[mine][:, cols].sum() * scale, "beds", group=f"{oname}/{bname}")
            add("occupied_beds", occupied[mine][:, cols].sum() * scale, "beds", group=f"{oname}/{bname}")
        add("staffed_beds", staffed[mine].sum() * scale, "beds", group=f"{oname}/all")
    other = owner != PUBLIC
    for name, n_occ, n_beds in (
        ("all", occupied.sum(), beds.sum()),
        ("public", occupied[owner == PUBLIC].sum(), beds[owner == PUBLIC].sum()),
        ("private", occupied[other].sum(), beds[other].sum()),
        *((bname, occupied[:, b].sum(), beds[:, b].sum()) for b, bname in enumerate(BED_TYPES)),
    ):
        add("occupancy", n_occ / n_beds if n_beds else np.nan, "share", group=name)
    add("beds_per_1000", beds.sum() * scale / pop60 * 1000, "beds per 1,000 aged 60+")
    add("nursing_share", beds[:, 1:].sum() / beds.sum() if beds.sum() else np.nan, "share")
    add("dementia_beds_per_10k", beds[:, 2].sum() * scale / pop60 * 1e4, "beds per 10,000 aged 60+")
    add("waiting_list", care.waiting.size * scale, "persons")
    add("mean_wait", care.wait_years.mean() if care.wait_years.size else 0.0, "years")
    add("admissions", care.admissions.rows.size * scale, "persons")
    cap = snap["capacity"]
    add("family_beds", cap.family_beds * scale, "beds")
    add("day_care_places", cap.day_care_places * scale, "places")
    add("home_care_hours_capacity", cap.home_care_hours_per_week * 52 * scale, "hours per year")
    # persons the home-care workers could serve at the full home-care package (home_care_hours_per_week)
    add("home_care_capacity", cap.home_care_hours_per_week / p.home_care_hours_per_week * scale, "persons")


def _workforce(rows: _CareRows, snap: dict, pop60: float, scale: float) -> None:
    """Care workers in post by certification, per 10,000 older people; the workforce everyone with a care
    need would require at the standard of their setting, the shortage against it, and the vacancies
    employers try to fill; who joined, left, trained."""
    from sim.model.elders import INSTITUTION
    from sim.model.homes import residents_per_worker
    from sim.model.workforce import CERT_LEVELS

    add, care, p = rows.add, snap["care"], snap["p"]
    workers = snap["workers_by_level"]  # persons: workers are one agent each whatever the scale
    for lvl, lname in enumerate(CERT_LEVELS):
        add("workers", workers[lvl], "persons", group=lname)
    add("workers", workers.sum(), "persons")
    add("workers_per_10k", workers.sum() / pop60 * 1e4, "workers per 10,000 aged 60+")
    add("certified_workers_per_10k", workers[1:].sum() / pop60 * 1e4, "workers per 10,000 aged 60+")

    # Required: residents at the standard (`required_staffing_grade`) for their level; everyone else with a
    # need, the formal hours they get and the hours left unmet, at a home-care worker's yearly hours.
    standard = residents_per_worker(p, p.required_staffing_grade)
    in_homes = (snap["residents_by_level"] / standard).sum() * scale
    outside = care.setting != INSTITUTION
    hours = (care.formal[outside].sum() + care.unmet[outside].sum()) * 52 * scale
    at_home = hours / p.home_care_hours_per_worker
    required = in_homes + at_home
    for group, n in (("all", required), ("care_homes", in_homes), ("home_and_community", at_home)):
        add("workers_required", n, "persons", group=group)
    add("workers_required_per_10k", required / pop60 * 1e4, "workers per 10,000 aged 60+")
    certified_required = required * p.certified_share_standard
    add("workforce_shortage", max(0.0, required - workers.sum()), "persons", group="all")
    add("workforce_shortage", max(0.0, certified_required - workers[1:].sum()), "persons", group="certified")

    # Vacancies: what employers try to hire, for the residents and empty beds they have and the home-care
    # hours their clients asked for (not for need nobody asks them to serve).
    open_posts = snap["open_posts"]  # workforce.vacancies: by home, then home care
    homes_open = max(0.0, float(open_posts[:-1].sum()))
    home_care_open = max(0.0, float(open_posts[-1]))
    add("vacancies", homes_open + home_care_open, "persons")
    add("vacancies", homes_open, "persons", group="care_homes")
    add("vacancies", home_care_open, "persons", group="home_care")
    add("workers_joined", snap["workers_joined"], "persons")
    add("workers_left", snap["workers_left"], "persons")
    add("workers_trained", snap["workers_trained_total"], "persons (cumulative)")
    add("family_carers_trained", snap["carers_trained_total"] * scale, "persons (cumulative)")


def _money(rows: _CareRows, snap: dict, scale: float) -> None:
    """The insurance fund, beneficiaries, public spending and what older people pay."""
    add, fund, money = rows.add, snap["fund"], snap["care"].accounts
    add("ltci_income", fund["income"], "yuan")
    add("ltci_spending", fund["spending"], "yuan")
    add("ltci_balance", fund["balance"], "yuan")
    add("ltci_public_top_up", fund["public_top_up"], "yuan")
    add("ltci_beneficiaries", money.beneficiaries * scale, "persons")
    add("ltci_eligible", snap["ltci_eligible"] * scale, "persons")
    add("ltci_applicants", snap["ltci_applicants"] * scale, "persons")
    eligible = snap["ltci_eligible"]
    add("ltci_take_up", money.beneficiaries / eligible if eligible else np.nan, "share")
    add("ltci_premium", fund["premium"], "yuan per contributor a year")
    for name in ("voucher_spending", "destitute_support", "nursing_and_allowance", "respite_spending"):
        add("public_spending", getattr(money, name) * scale, "yuan", group=name.removesuffix("_spending"))
    add("out_of_pocket", money.out_of_pocket * scale, "yuan")


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Across replicates: mean and the 90% interval (5th and 95th percentiles) of every value."""
    keys = ["run", "year", "indicator", "sex", "age_group", "capacity", "residence", "group", "unit"]
    grouped = results.groupby(keys, sort=False, dropna=False)["value"]
    out = pd.DataFrame(
        {
            "mean": grouped.mean(),
            "p05": grouped.quantile(0.05),
            "p95": grouped.quantile(0.95),
            "replicates": grouped.count(),
        }
    )
    return out.reset_index()
