"""The model against published figures it was not fitted to: `sim validate-published` writes
docs/validation.md from the model's own runs.

The published figures are packaged (sim/data/validation/published_figures.csv; not model inputs, so
outside the data the calibrations record), each with its source, the band within which the model passes
and what the figure means. Population checks run the region's population alone (the care system does not
change it) under the disability trend variant the check names; care checks run the region's baseline with
its care system, with any scenario keys the check sets (`set`, JSON), at the scale its calibration uses.
Each is run with several replicates; a check passes when the replicates' median lies within its band. The
interval shown is the replicates' 90% band (5th to 95th percentile): random draws for a population check,
random draws and the calibration's parameter uncertainty for a care check. A check's `role` says whether
the model was fitted to it (fitted), it is a model input shown for the base year (input), or it was held
out (held out: validation proper); `same_definition` says whether the published figure measures what the
model's quantity does, and if not, what differs.

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
import yaml

from sim.analysis.executors import make_executor
from sim.model.model import AgeingModel
from sim.results.query import value
from sim.results.record import table as record_table
from sim.scenario.files import parse_scenario

POPULATION_AGENTS = 2_500_000  # a population check runs about this many agents at most (sampling error ~0.1%)
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
LEVEL_GROUPS = {
    "any_loss": ("mild", "moderate", "severe", "total"),
    "moderate_or_worse": ("moderate", "severe", "total"),
    "severe_or_total": ("severe", "total"),
}


@dataclass(frozen=True)
class Check:
    check: str
    region: str
    kind: str  # level, increment or growth
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
    set: str = ""  # scenario keys for a care check (a YAML or JSON mapping), e.g. a policy in force
    since: int | None = None  # a growth check's first year (default: the base year)
    role: str = "held out"  # held out, fitted or input
    published_on: str = ""  # when the figure was published
    same_definition: str = "yes"  # yes, or what differs between the figure and the model's quantity
    section: str = ""  # the part of docs/validation.md it is reported in (default: its model's)
    known_difference: str = ""  # why the model's quantity and the published figure differ, where that is known

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
                    "since": int(r["since"]) if r["since"] else None,
                    "section": r["section"] or r["model"],
                }
            )
            for r in csv.DictReader(f)
        ]


def deaths_under_60(region: str, year: int) -> float:
    """Calendar-year deaths under 60 (the model's population starts at 60), as data-raw/build_data.py
    estimated them from the region's census population and mortality level."""
    report = json.loads(files("sim.data").joinpath("region_demography.json").read_text(encoding="utf-8"))
    return float(report["deaths_under_60"][region][str(year)])


def scale_of(region: str, care: bool) -> float:
    """Persons per agent for a check's run: a care check at the scale its region's calibration was fitted
    at; a population check at one agent per person up to POPULATION_AGENTS agents, coarser beyond."""
    from sim.data.fits import read_fit, shipped_path
    from sim.data.regions import load_region

    if care:
        record, _ = read_fit(shipped_path(f"{region}-2020"))
        return float(record["fit"]["scale"])
    return max(1.0, round(load_region(region).population_total() / POPULATION_AGENTS))


def run_table(region: str, trend: str, model: str, set_json: str, replicate: int, seed: int) -> pd.DataFrame:
    """One replicate's results table for a check's run (see the module's note)."""
    care = model == "care"
    scale = scale_of(region, care)
    raw = {"region": region, "seed": seed, "scale": scale, "horizon": HORIZON, "data": {"disability_trend": trend}}
    for key, value_ in (yaml.safe_load(set_json) if set_json else {}).items():  # JSON or YAML flow style
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
        if c.indicator == "ltci_spending_per_income":
            return value(table, "ltci_spending") / value(table, "ltci_income").replace(0.0, np.nan)
        if c.indicator == "ltci_spending_per_beneficiary":
            return value(table, "ltci_spending") / value(table, "ltci_beneficiaries").replace(0.0, np.nan)
        return value(table, c.indicator, group=None if c.capacity == "all" else c.capacity)

    def read(indicator: str, capacity: str | None = None) -> pd.Series:
        return value(
            table, indicator, sex=c.sex, age_group=c.age_group if indicator != "deaths" else None, capacity=capacity
        )

    if c.capacity in LEVEL_GROUPS:  # a group of levels: their shares or their persons
        return sum(read(c.indicator, level) for level in LEVEL_GROUPS[c.capacity])
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
    if c.indicator == "deaths_all_ages":  # the model's deaths at 60+ and the census's aged forward under 60
        return at(value(table, "deaths", sex=c.sex), c) + deaths_under_60(c.region, c.year)
    s = series(table, c)
    if c.kind == "increment":
        return at(s, c) - at(s, Check(**{**c.__dict__, "year": c.year - 1}))
    if c.kind == "growth":
        return at(s, c) / float(s[c.since if c.since is not None else int(s.index.min())])
    return at(s, c)


def validate(replicates: int = 10, seed: int = 20201101, workers: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Every packaged check against the model (one row per check with the replicates' median and 90% band),
    and the population projections of China and Tianjin by year, trend variant and residence (means over
    replicates), from the same runs, made on ``workers`` local processes."""
    checks = published_checks()
    by_run: dict[tuple, list[Check]] = {}
    for c in checks:
        by_run.setdefault(c.run_key, []).append(c)
    for region in PROJECTED_REGIONS:
        for trend in TRENDS:
            by_run.setdefault((region, trend, "population", ""), [])
    tasks = [(key, r, seed, by_run[key]) for key in by_run for r in range(replicates)]
    values: dict[tuple, list[list[float]]] = {key: [] for key in by_run}
    projected: dict[str, list[pd.DataFrame]] = {}
    with make_executor(workers) as executor:
        for (key, _, _, _), (found, frame) in zip(tasks, executor.map(_evaluate_run, tasks), strict=True):
            values[key].append(found)
            if frame is not None:
                projected.setdefault(key[0], []).append(frame.assign(trend=key[1]))
    rows = []
    for key, key_checks in by_run.items():
        for i, c in enumerate(key_checks):
            found = np.array([v[i] for v in values[key]])
            median = float(np.median(found))
            passed = (c.lower is None or median >= c.lower) and (c.upper is None or median <= c.upper)
            rows.append(
                c.__dict__
                | {
                    "simulated": median,
                    "low": float(np.percentile(found, 5)),
                    "high": float(np.percentile(found, 95)),
                    "passed": bool(passed),
                }
            )
    order = {c.check: i for i, c in enumerate(checks)}
    table = pd.DataFrame(rows).sort_values("check", key=lambda s: s.map(order)).reset_index(drop=True)
    means = {
        region: pd.concat(frames).groupby(["trend", "residence", "year"], sort=False).mean().reset_index()
        for region, frames in projected.items()
    }
    return table, means


PROJECTED_REGIONS = ("china", "tianjin")
TRENDS = ("none", "low", "central", "high")


def _evaluate_run(task) -> tuple[list[float], pd.DataFrame | None]:
    """One run of a check's kind: its checks' values, and its projections for a projected region."""
    (region, trend, model, set_json), replicate, seed, key_checks = task
    table = run_table(region, trend, model, set_json, replicate, seed)
    found = [simulated(table, c) for c in key_checks]
    project = model == "population" and not set_json and region in PROJECTED_REGIONS
    frame = (
        pd.concat([_projected([table], r).assign(residence=r).reset_index() for r in ("all", "urban", "rural")])
        if project
        else None
    )
    return found, frame


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


SECTIONS = {
    "population": "The population",
    "care": "The care system",
    "regions": "National and provincial figures, 2020-2025, and official projections to 2035",
}


def markdown(checks: pd.DataFrame, tables: dict[str, pd.DataFrame], replicates: int, code_version: str) -> str:
    held = checks[checks.role == "held out"]
    regions = sorted(set(checks.region))
    scales = ", ".join(f"{r} {scale_of(r, False):g}" for r in regions)
    care = ", ".join(f"{r} {scale_of(r, True):g}" for r in sorted(set(checks[checks.model == "care"].region)))
    lines = [
        "# Validation: the model against published figures",
        "",
        f"Written by `sim validate-published` ({code_version}); do not edit by hand. {int(checks.passed.sum())} "
        f"of {len(checks)} checks pass; of the {len(held)} held out (the model was neither fitted to them nor "
        f"given them), {int(held.passed.sum())}. Model: the median of {replicates} replicates [their 90% band]; "
        f"a check passes when the median is within its band. Population checks run the population alone "
        f"({scales} persons per agent), care checks the region's baseline with its care system at its "
        f"calibration's scale ({care}) with the policy the check names; the band of a population check is "
        "random draws only, that of a care check also the calibration's parameter uncertainty (each replicate "
        "its own member of the ensemble). Role: held out (validation), fitted (the model was fitted to it: a "
        "check of the fit) or input (given to the model). Same definition: whether the published figure "
        "measures what the model's quantity does, and if not, what differs. Dates: model years are 1 November; "
        "see `sim/analysis/published.py` for how year-end, 1 January and calendar-year figures are read.",
        "",
    ]
    header = "| Check | Published | Model [90%] | Band | Result | Role | Same definition | What it is | Source |"
    for part, title in SECTIONS.items():
        lines += ["", f"## {title}", "", header, "|---" * 9 + "|"]
        lines += _check_rows(checks[checks.section == part])
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
        is_ratio = r.kind == "growth" or abs(r.published) < 10
        millions = not is_ratio

        def fmt(v: float | None, millions: bool = millions) -> str:
            return _number(v, millions)

        published = fmt(r.published)
        lower = fmt(r.lower) if r.lower is not None and not np.isnan(r.lower) else "-inf"
        upper = fmt(r.upper) if r.upper is not None and not np.isnan(r.upper) else "inf"
        band = f"{lower} to {upper}"
        source = f"{r.source} ({r.published_on})" if r.published_on else r.source
        lines.append(
            f"| {r.check} | {published} | {fmt(r.simulated)} [{fmt(r.low)} - {fmt(r.high)}] | {band} | "
            f"{_result(r)} | {r.role} | {r.same_definition} | {r.definition} | {source} |"
        )
    return lines


def _result(r) -> str:
    if r.passed:
        return "pass"
    return f"**FAIL**: {r.known_difference}" if r.known_difference else "**FAIL** (no known reason)"
