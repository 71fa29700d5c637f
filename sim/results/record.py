"""What a run reports each year, as a tidy table: one row per (year, indicator, breakdown), its unit from the
indicator catalogue.

The model hands over its typed yearly record (``sim.model.record``), already in persons: the population by
residence, sex, age and level (with deaths and new 60-year-olds), from which the population's indicators
are computed here, and the care system's totals, laid out here as rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.catalogues.indicators import catalogue
from sim.data.demography import AGE_MIN, AGES, life_expectancy
from sim.data.levels import LEVELS
from sim.model.record import CareRecord, PopulationYear, YearRecord

FIVE_YEAR_GROUPS = {f"{a}-{a + 4}": (a, a + 5) for a in range(60, 100, 5)} | {"100+": (100, None)}
BROAD_GROUPS = {"60+": (60, None), "65+": (65, None), "80+": (80, None)}
SEX_BREAKDOWN = {"all": [0, 1], "male": [0], "female": [1]}
RESIDENCE_BREAKDOWN = {"all": [0, 1], "urban": [1], "rural": [0]}  # indices of sim.data.regions.RESIDENCES
OPEN_AGE_FOR_LIFE_TABLE = 100  # ages 100+ pooled: the packaged death rates are the same at every age 100+

COLUMNS = ["year", "indicator", "sex", "age_group", "capacity", "residence", "group", "unit", "value"]


def _age_mask(lo: int, hi: int | None) -> np.ndarray:
    return (AGES >= lo) & (AGES < (hi if hi is not None else np.inf))


def table(record: list[YearRecord]) -> pd.DataFrame:
    """The results table of a run's yearly records."""
    rows: list[tuple] = []
    for year in record:
        rows += population_rows(year.population)
        rows += care_rows(year)
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


def population_rows(population: PopulationYear) -> list[tuple]:
    """The population's rows of a year (many: made when a table or an outcome needs them)."""
    year, persons, deaths, exposure, entrants = (
        population.year, population.persons, population.deaths, population.exposure, population.entrants
    )  # fmt: skip
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
            rows.append((year, "deaths", sex, "60+", "all", res, "all", "persons", float(died[idx].sum())))
            rows.append((year, "entrants", sex, "60", "all", res, "all", "persons", float(joined[idx].sum())))
            rows.append((year, "life_expectancy_60", sex, "60", "all", res, "all", "years", float(e60[k])))
    return rows


def care_rows(year: YearRecord) -> list[tuple]:
    """The care system's rows of a year (sex 'all', ages 60+ unless a breakdown says otherwise), in the
    catalogue's order of indicators."""
    if year.care is None:
        return []
    rows: list[tuple] = []

    def add(indicator: str, value, group: str = "all", capacity: str = "all") -> None:
        unit = catalogue()[indicator].unit
        rows.append((year.year, indicator, "all", "60+", capacity, "all", group, unit, float(value)))

    _arrangements(add, year.care)
    _homes(add, year.care)
    _workforce(add, year.care)
    _money(add, year.care)
    _costs(add, year.care)
    return rows


def _arrangements(add, care: CareRecord) -> None:
    """Who is cared for where, the hours of care and of unmet need, concentrated support."""
    a = care.arrangements
    for setting, n in a.by_setting.items():
        add("elders_by_setting", n, group=setting)
        for level in LEVELS:
            add("elders_by_setting", a.by_setting_level[setting, level], group=setting, capacity=level)
    for part, share in a.split.items():
        add("care_split", share, group=part)
    for kind, hours in a.hours.items():
        add("care_hours", hours, group=kind)
    add("persons_with_need", a.with_need)
    add("persons_with_unmet_need", a.with_unmet_need)
    add("unmet_need_share", a.unmet_need_share)
    for level, n in a.with_unmet_need_by_level.items():
        add("persons_with_unmet_need", n, capacity=level)
    # the destitute unable to care for themselves (特困 生活不能自理): concentrated support is a care home
    add("concentrated_support_share", a.concentrated_support_share)
    add("poor_disabled", a.poor_disabled)
    add("nursing_subsidy_recipients", a.nursing_subsidy_recipients)
    for group, n in a.by_income.items():
        add("elders_by_income", n, group=group)


def _homes(add, care: CareRecord) -> None:
    """Beds, staffed and occupied, occupancy, the plans' bed indicators, the waiting list, places at home."""
    h = care.homes
    for owner, staffed in h.staffed.items():
        for (o, bed), n in h.beds.items():
            if o == owner:
                add("beds", n, group=f"{owner}/{bed}")
                add("occupied_beds", h.occupied[o, bed], group=f"{owner}/{bed}")
        add("staffed_beds", staffed, group=f"{owner}/all")
    for group, share in h.occupancy.items():
        add("occupancy", share, group=group)
    add("beds_per_1000", h.beds_per_1000)
    add("nursing_share", h.nursing_share)
    add("dementia_beds_per_10k", h.dementia_beds_per_10k)
    add("waiting_list", h.waiting_list)
    add("mean_wait", h.mean_wait)
    add("admissions", h.admissions)
    add("family_beds", h.family_beds)
    add("day_care_places", h.day_care_places)
    add("home_care_hours_capacity", h.home_care_hours)
    add("home_care_capacity", h.home_care_persons)


def _workforce(add, care: CareRecord) -> None:
    """Care workers in post by certification, per 10,000 older people; the workforce everyone with a care
    need would require at the standard of their setting, the shortage against it, and the vacancies
    employers try to fill; who joined, left, trained."""
    w = care.workforce
    for group, n in w.workers.items():
        add("workers", n, group=group)
    add("workers_per_10k", w.per_10k)
    add("certified_workers_per_10k", w.certified_per_10k)
    for group, n in w.required.items():
        add("workers_required", n, group=group)
    add("workers_required_per_10k", w.required_per_10k)
    for group, n in w.shortage.items():
        add("workforce_shortage", n, group=group)
    for group, n in w.vacancies.items():
        add("vacancies", n, group=group)
    add("workers_joined", w.joined)
    add("workers_left", w.left)
    add("workers_trained", w.trained)
    add("family_carers_trained", w.carers_trained)


def _money(add, care: CareRecord) -> None:
    """The insurance fund, beneficiaries, public spending and what older people pay."""
    m = care.money
    for flow in ("income", "spending", "balance", "public_top_up"):
        add(f"ltci_{flow}", m.fund[flow])
    add("ltci_beneficiaries", m.beneficiaries)
    add("ltci_eligible", m.eligible)
    add("ltci_applicants", m.applicants)
    add("ltci_take_up", m.take_up)
    add("ltci_premium", m.fund["premium"])
    for group, spent in m.public_spending.items():
        add("public_spending", spent, group=group)
    add("out_of_pocket", m.out_of_pocket)


def _costs(add, care: CareRecord) -> None:
    """The plan's public cost by lever group, the year's and since the base year."""
    for indicator, by_group in (("plan_cost", care.costs.yearly), ("plan_cost_cumulative", care.costs.cumulative)):
        add(indicator, sum(by_group.values()))
        for group, yuan in by_group.items():
            add(indicator, yuan, group=group)


PERCENTILES = (5, 25, 50, 75, 95)  # the summary's columns p05 ... p95, the planners' Monte Carlo percentiles


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Across replicates: the mean, the 5th, 25th, 50th, 75th and 95th percentiles of every value (``p05`` ...
    ``p95``; the 90% interval is p05 to p95) and the number of replicates they come from."""
    keys = ["run", "year", "indicator", "sex", "age_group", "capacity", "residence", "group", "unit"]
    grouped = results.groupby(keys, sort=False, dropna=False)["value"]
    columns = {"mean": grouped.mean()}
    columns |= {f"p{q:02d}": grouped.quantile(q / 100) for q in PERCENTILES}
    columns["replicates"] = (
        grouped.size()
    )  # replicates run (a value missing in all of them, e.g. occupancy of no beds, is NaN)
    return pd.DataFrame(columns).reset_index()
