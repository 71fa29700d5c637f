"""The model against published figures it was not fitted to: `sim validate-published` writes
docs/validation.md from the model's own runs.

The published figures are packaged (sim/data/validation/published_figures.csv; not model inputs, so
outside the data the calibrations record), each with its source, the band within which the model passes
and what the figure means. Population checks run the region's population alone (the care system does not
change it) under the disability trend variant the check names; care checks run the region's baseline with
its care system, with any scenario keys the check sets (`set`, JSON), at the scale its calibration uses.
Each is run with several replicates; a check passes when the replicates' mean lies within its band. The
interval shown is the range over replicates: random draws only, not parameter uncertainty.

Model years are census dates (1 November). Year-end figures are read two months on (a straight line to
the next year), 1 January figures two months back, and calendar-year deaths as ten twelfths of the
model's year to 1 November plus two twelfths of the next.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

from sim.model.model import AgeingModel
from sim.results.query import value
from sim.results.record import table as record_table
from sim.scenario.files import parse_scenario

SCALES = {"china": 100, "tianjin": 1, "wenzhou": 1}  # persons per agent: faithful (docs/model.md)
CARE_SCALES = {"china": 200, "tianjin": 4}  # the scales their calibrations are fitted at
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
    model: str = "population"  # population (alone) or care
    set: str = ""  # JSON mapping of scenario keys for a care check, e.g. a policy in force

    @property
    def run_key(self) -> tuple[str, str, str, str]:
        return (self.region, self.trend, self.model, self.set)


def published_checks() -> list[Check]:
    def number(text: str) -> float | None:
        return float(text) if text else None

    with files("sim.data").joinpath("validation", "published_figures.csv").open(encoding="utf-8") as f:
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
    return run_table(region, trend, "population", "", replicate, seed)


def run_table(region: str, trend: str, model: str, set_json: str, replicate: int, seed: int) -> pd.DataFrame:
    """One replicate's results table for a check's run (see the module's note)."""
    care = model == "care"
    scale = (CARE_SCALES if care else SCALES).get(region, 1)
    raw = {"region": region, "seed": seed, "scale": scale, "horizon": HORIZON, "data": {"disability_trend": trend}}
    for key, value_ in (json.loads(set_json) if set_json else {}).items():
        raw[key] = value_
    model_ = AgeingModel(parse_scenario(raw, "validation"), replicate=replicate, care=care)
    model_.run()
    return record_table(model_.record)


def series(table: pd.DataFrame, c: Check) -> pd.Series:
    """The checked quantity by census year."""
    if c.model == "care":  # the `capacity` column names the indicator's group
        if c.indicator == "ltci_beneficiaries_per_contributor":  # contributors: income over the premium
            contributors = value(table, "ltci_income") / value(table, "ltci_premium").replace(0.0, np.nan)
            return value(table, "ltci_beneficiaries") / contributors
        if c.indicator == "workers_certified":
            return value(table, "workers") - value(table, "workers", group="none")
        return value(table, c.indicator, group=None if c.capacity == "all" else c.capacity)

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
    runs: dict[tuple[str, str, str, str], list[pd.DataFrame]] = {}
    for c in checks:
        if c.run_key not in runs:
            runs[c.run_key] = [run_table(*c.run_key, r, seed) for r in range(replicates)]
    rows = []
    for c in checks:
        values = np.array([simulated(t, c) for t in runs[c.run_key]])
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
        "# Validation: the model against published figures",
        "",
        f"Written by `sim validate-published` ({code_version}); do not edit by hand. {passed} of {len(checks)} "
        f"checks pass. Simulated: mean over {replicates} replicates [range]; population checks run the "
        f"population alone at a faithful scale ({', '.join(f'{k} {v}' for k, v in SCALES.items())} persons per "
        f"agent), care checks the region's baseline with its care system at its calibration's scale "
        f"({', '.join(f'{k} {v}' for k, v in CARE_SCALES.items())}) with the policy the check names; the range "
        "of a population check is random draws only, that of a care check also the calibration's parameter "
        "uncertainty (each replicate its own member of the ensemble). Checks marked FITTED were inputs, shown "
        "to confirm the base year, not as validation. Dates: model years are 1 November; see "
        "`sim/analysis/published.py` for how year-end, 1 January and calendar-year figures are read.",
        "",
    ]
    for part, title in (("population", "The population"), ("care", "The care system")):
        lines += ["", f"## {title}", ""]
        lines += ["| Check | Published | Simulated [range] | Band | Result | What it is | Source |", "|---" * 7 + "|"]
        lines += _check_rows(checks[checks.model == part])
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


def _check_rows(checks: pd.DataFrame) -> list[str]:
    lines = []
    for r in checks.itertuples():
        is_ratio = r.kind in ("growth", "share_of_published") or abs(r.published) < 10
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
    return lines
