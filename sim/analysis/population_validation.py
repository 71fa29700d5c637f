"""The population against published figures it was not fitted to: `sim validate-population` writes
docs/validation.md from the model's own runs.

The published figures are packaged (sim/data/published_population.csv), each with its source, the
band within which the model passes and what the figure means. Each region is run (population only:
the care system does not change it) under the disability trend variants the checks name, with several
replicates; a check passes when the replicates' mean lies within its band. The interval shown is the
range over replicates: random draws only, not parameter uncertainty.

Model years are census dates (1 November). Year-end figures are read two months on (a straight line to
the next year), 1 January figures two months back, and calendar-year deaths as ten twelfths of the
model's year to 1 November plus two twelfths of the next.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

from sim.model.model import AgeingModel
from sim.results.query import value
from sim.scenario.files import parse_scenario

SCALES = {"china": 100, "tianjin": 1, "wenzhou": 1}  # persons per agent: faithful (docs/model.md)
HORIZON = 2035
PROJECTED = {
    "aged_60": "60+",
    "aged_65": "65+",
    "aged_80": "80+",
    "deaths": "deaths 60+",
    "any_loss": "any loss (mild or worse)",
    "moderate_or_worse": "moderate or worse",
    "severe_or_total": "severe or total (census 'unable to care for oneself')",
}
TWO_MONTHS = 2 / 12


@dataclass(frozen=True)
class Check:
    check: str
    region: str
    kind: str  # level, increment, growth, share_of_published
    indicator: str
    sex: str
    age_group: str
    capacity: str
    when: str  # census, year_end, jan1, calendar
    trend: str
    year: int
    published: float
    lower: float | None
    upper: float | None
    definition: str
    source: str


def published_checks() -> list[Check]:
    def number(text: str) -> float | None:
        return float(text) if text else None

    with files("sim.data").joinpath("published_population.csv").open(encoding="utf-8") as f:
        return [
            Check(
                **{
                    **r,
                    "year": int(r["year"]),
                    "published": float(r["published"]),
                    "lower": number(r["lower"]),
                    "upper": number(r["upper"]),
                }
            )
            for r in csv.DictReader(f)
        ]


def population_table(region: str, trend: str, replicate: int, seed: int) -> pd.DataFrame:
    scenario = parse_scenario(
        {
            "region": region,
            "seed": seed,
            "scale": SCALES.get(region, 1),
            "horizon": HORIZON,
            "data": {"disability_trend": trend},
        },
        "validation",
    )
    model = AgeingModel(scenario, replicate=replicate, care=False)
    model.run()
    return model.record.table()


def series(table: pd.DataFrame, c: Check) -> pd.Series:
    """The checked quantity by census year."""

    def read(indicator: str, capacity: str | None = None) -> pd.Series:
        return value(
            table, indicator, sex=c.sex, age_group=c.age_group if indicator != "deaths" else None, capacity=capacity
        )

    if c.capacity == "severe_or_total":
        return read("capacity_share", "severe") + read("capacity_share", "total")
    if c.indicator == "elders_by_capacity" and c.capacity == "any_loss":
        return read("population") - read("elders_by_capacity", "intact")
    return read(c.indicator, None if c.capacity == "all" else c.capacity)


def at(s: pd.Series, c: Check) -> float:
    """The quantity at the check's date (see the module's note on dates)."""
    y = c.year
    if c.when == "year_end":
        return float(s[y] + (s[y + 1] - s[y]) * TWO_MONTHS)
    if c.when == "jan1":
        return float(s[y] - (s[y] - s[y - 1]) * TWO_MONTHS)
    if c.when == "calendar":
        return float(s[y] * (1 - TWO_MONTHS) + s[y + 1] * TWO_MONTHS)
    return float(s[y])


def simulated(table: pd.DataFrame, c: Check) -> float:
    s = series(table, c)
    if c.kind == "increment":
        return at(s, c) - at(s, Check(**{**c.__dict__, "year": c.year - 1}))
    if c.kind == "growth":
        return at(s, c) / float(s[int(s.index.min())])
    if c.kind == "share_of_published":
        return at(s, c) / c.published
    return at(s, c)


def validate(replicates: int = 3, seed: int = 20201101) -> pd.DataFrame:
    """Every packaged check against the model: one row per check with the simulated mean and range."""
    checks = published_checks()
    runs: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for c in checks:
        key = (c.region, c.trend)
        if key not in runs:
            runs[key] = [population_table(c.region, c.trend, r, seed) for r in range(replicates)]
    rows = []
    for c in checks:
        values = np.array([simulated(t, c) for t in runs[c.region, c.trend]])
        mean = float(values.mean())
        passed = (c.lower is None or mean >= c.lower) and (c.upper is None or mean <= c.upper)
        rows.append(
            c.__dict__
            | {"simulated": mean, "low": float(values.min()), "high": float(values.max()), "passed": bool(passed)}
        )
    return pd.DataFrame(rows)


def projections(region: str, replicates: int = 3, seed: int = 20201101) -> pd.DataFrame:
    """The population quantities a planner quotes, by year, trend variant and residence (means over
    replicates)."""
    out = []
    for trend in ("none", "low", "central", "high"):
        tables = [population_table(region, trend, r, seed) for r in range(replicates)]
        for residence in ("all", "urban", "rural"):
            out.append(_projected(tables, residence).assign(trend=trend, residence=residence).reset_index())
    return pd.concat(out, ignore_index=True)


def _projected(tables: list[pd.DataFrame], residence: str) -> pd.DataFrame:
    def mean(indicator: str, **breakdown) -> pd.Series:
        return sum(value(t, indicator, residence=residence, **breakdown) for t in tables) / len(tables)

    def levels(*names: str) -> pd.Series:
        return sum(mean("elders_by_capacity", capacity=k) for k in names)

    pop = mean("population")
    return pd.DataFrame(
        {
            "aged_60": pop,
            "aged_65": mean("population", age_group="65+"),
            "aged_80": mean("population", age_group="80+"),
            "deaths": mean("deaths"),
            "any_loss": pop - levels("intact"),
            "moderate_or_worse": levels("moderate", "severe", "total"),
            "severe_or_total": levels("severe", "total"),
        }
    )


def _number(v: float, unit_millions: bool) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if unit_millions:
        return f"{v / 1e6:,.2f} M" if abs(v) >= 1e7 else f"{v:,.0f}"  # cities in persons, China in millions
    return f"{v:.4f}" if abs(v) < 10 else f"{v:,.0f}"


def markdown(checks: pd.DataFrame, tables: dict[str, pd.DataFrame], replicates: int, code_version: str) -> str:
    passed = int(checks.passed.sum())
    lines = [
        "# Validation: the population against published figures",
        "",
        f"Written by `sim validate-population` ({code_version}); do not edit by hand. {passed} of {len(checks)} "
        f"checks pass. Simulated: mean over {replicates} replicates [range], population only, at the faithful "
        f"scale of each region ({', '.join(f'{k} {v}' for k, v in SCALES.items())} persons per agent); the range "
        "is random draws only (parameter uncertainty is not included). Checks marked FITTED were inputs, shown "
        "to confirm the base year, not as validation. Dates: model years are 1 November; see "
        "`sim/analysis/population_validation.py` for how year-end, 1 January and calendar-year figures are read.",
        "",
        "| Check | Published | Simulated [range] | Band | Result | What it is | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in checks.itertuples():
        is_ratio = r.kind in ("growth", "share_of_published") or r.indicator == "capacity_share"
        millions = not is_ratio

        def fmt(v: float | None, millions: bool = millions) -> str:
            return _number(v, millions)

        published = _number(r.published, True) if r.kind == "share_of_published" else fmt(r.published)
        lower = fmt(r.lower) if r.lower is not None and not np.isnan(r.lower) else "-inf"
        upper = fmt(r.upper) if r.upper is not None and not np.isnan(r.upper) else "inf"
        band = f"{lower} to {upper}"
        lines.append(
            f"| {r.check} | {published} | {fmt(r.simulated)} [{fmt(r.low)} - {fmt(r.high)}] | {band} | "
            f"{'pass' if r.passed else '**FAIL**'} | {r.definition} | {r.source} |"
        )
    for region, table in tables.items():
        lines += ["", f"## {region.title()}: projected older people, by disability trend (means, persons)", ""]
        for residence in ("all", "urban", "rural"):
            lines += [f"### Residence: {residence}", ""]
            wide = table[(table.residence == residence)]
            cols = list(PROJECTED)
            lines += ["| Trend | Year | " + " | ".join(PROJECTED.values()) + " |", "|---|---|" + "---|" * len(cols)]
            for r in wide.itertuples():
                if r.year not in (2020, 2021, 2022, 2023, 2024, 2025, 2030, 2035):
                    continue
                if r.trend != "central" and r.year not in (2020, 2024, 2030, 2035):
                    continue
                vals = [getattr(r, c) for c in cols]
                lines.append(f"| {r.trend} | {r.year} | " + " | ".join(_number(v, True) for v in vals) + " |")
            lines.append("")
    return "\n".join(lines) + "\n"
