"""What a run reports each year, as a tidy table: one row per (year, indicator, breakdown).

The model hands over a few arrays per year (persons by sex, age and level; deaths; new 60-year-olds);
every indicator is computed from them here, in persons (agents times ``scale``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .capacity import LEVELS
from .demography import AGE_MIN, AGES, SEXES, life_expectancy

FIVE_YEAR_GROUPS = {f"{a}-{a + 4}": (a, a + 5) for a in range(60, 100, 5)} | {"100+": (100, None)}
BROAD_GROUPS = {"60+": (60, None), "65+": (65, None), "80+": (80, None)}
SEX_BREAKDOWN = {"all": [0, 1], "male": [0], "female": [1]}
OPEN_AGE_FOR_LIFE_TABLE = 100  # ages 100+ pooled: the packaged death rates are the same at every age 100+

# indicator -> (unit, description); the table's columns are documented in docs/model.md
INDICATORS = {
    "population": ("persons", "Persons alive at the end of the year"),
    "deaths": ("persons", "Deaths during the year among those aged 60+ at its start"),
    "entrants": ("persons", "Persons turning 60 during the year"),
    "elders_by_capacity": ("persons", "Persons by GB/T 42195-2022 capacity level"),
    "capacity_share": ("share", "Share of the age group at the capacity level ('any_loss' = mild or worse)"),
    "life_expectancy_60": ("years", "Period life expectancy at 60 from the year's simulated death rates"),
}
COLUMNS = ["year", "indicator", "sex", "age_group", "capacity", "unit", "value"]


def _age_mask(lo: int, hi: int | None) -> np.ndarray:
    return (AGES >= lo) & (AGES < (hi if hi is not None else np.inf))


@dataclass
class YearlyRecord:
    """Arrays kept per year; ``counts`` and ``deaths`` are agents by [sex, age, level]."""

    scale: float
    years: list[int] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)
    deaths: list[np.ndarray | None] = field(default_factory=list)
    exposure: list[np.ndarray | None] = field(default_factory=list)
    entrants: list[np.ndarray | None] = field(default_factory=list)

    def add(self, year: int, counts: np.ndarray, deaths=None, exposure=None, entrants=None) -> None:
        self.years.append(year)
        self.counts.append(counts)
        self.deaths.append(deaths)
        self.exposure.append(exposure)
        self.entrants.append(entrants)

    def table(self) -> pd.DataFrame:
        rows: list[tuple] = []
        for i, year in enumerate(self.years):
            rows += _year_rows(
                year, self.counts[i] * self.scale, self.deaths[i], self.exposure[i], self.entrants[i], self.scale
            )
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
    by_sex = {name: persons[idx].sum(axis=0) for name, idx in SEX_BREAKDOWN.items()}  # [age, level]
    for sex, p in by_sex.items():
        for group, (lo, hi) in BROAD_GROUPS.items():
            rows.append((year, "population", sex, group, "all", "persons", float(p[_age_mask(lo, hi)].sum())))
        for lvl, name in enumerate(LEVELS):
            rows.append((year, "elders_by_capacity", sex, "60+", name, "persons", float(p[:, lvl].sum())))
        for group, (lo, hi) in (FIVE_YEAR_GROUPS | BROAD_GROUPS).items():
            in_group = p[_age_mask(lo, hi)].sum(axis=0)
            total = in_group.sum()
            shares = in_group / total if total > 0 else np.full(len(LEVELS), np.nan)
            for lvl, name in enumerate(LEVELS):
                rows.append((year, "capacity_share", sex, group, name, "share", float(shares[lvl])))
            rows.append((year, "capacity_share", sex, group, "any_loss", "share", float(shares[1:].sum())))
    if deaths is not None:
        e60 = simulated_life_expectancy_60(deaths.sum(axis=-1), exposure.sum(axis=-1))
        for k, sex in enumerate(("male", "female", "all")):
            idx = SEX_BREAKDOWN[sex]
            rows.append((year, "deaths", sex, "60+", "all", "persons", float(deaths[idx].sum() * scale)))
            rows.append((year, "entrants", sex, "60", "all", "persons", float(entrants[idx].sum() * scale)))
            rows.append((year, "life_expectancy_60", sex, "60", "all", "years", float(e60[k])))
    return rows


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Across replicates: mean and the 90% interval (5th and 95th percentiles) of every value."""
    keys = ["run", "year", "indicator", "sex", "age_group", "capacity", "unit"]
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


__all__ = ["INDICATORS", "YearlyRecord", "summarise", "simulated_life_expectancy_60", "SEXES"]
