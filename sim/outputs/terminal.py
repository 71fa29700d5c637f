"""What the terminal shows: the progress bar, and the tables after a run, a fit, a sweep and for the regions."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sim.catalogues.indicators import catalogue


class Rate(ProgressColumn):
    """Items done per second, e.g. 7.08 runs/s."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        return Text(f"{task.speed:.2f} {self.unit}/s" if task.speed else f"- {self.unit}/s")


def progress_bar(console: Console, unit: str) -> Progress:
    """A progress bar: done of total, rate, time elapsed and time left; gone when finished."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(unit),
        TimeElapsedColumn(),
        TextColumn("elapsed,"),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=console,
        transient=True,
    )


# the indicators (and breakdowns) the terminal shows after a run, at the base year, every fifth year and the horizon
HEADLINE = [
    ("population", {"age_group": "60+"}),
    ("population", {"age_group": "80+"}),
    ("capacity_share", {"capacity": "any_loss"}),
    ("life_expectancy_60", {}),
    ("elders_by_setting", {"group": "institution"}),
    ("beds", {}),
    ("occupancy", {}),
    ("waiting_list", {}),
    ("persons_with_unmet_need", {}),
    ("workers", {}),
    ("ltci_balance", {}),
]


def headline_table(result) -> Table:
    from sim.outputs.formats import shown, shown_label
    from sim.results.query import value

    s = result.scenario
    years = sorted({s.base_year, *range(2025, s.horizon + 1, 5), s.horizon})
    table = Table(title=f"{s.name} ({s.region}), mean of {s.replicates} replicate(s)")
    table.add_column("Indicator")
    for y in years:
        table.add_column(str(y), justify="right")
    for indicator, breakdown in HEADLINE:
        series = value(result.summary, indicator, column="mean", **breakdown)
        unit = catalogue()[indicator].unit
        table.add_row(shown_label(indicator, **breakdown), *(shown(series.get(y), unit) for y in years))
    return table


def targets_table(result) -> Table:
    """The plan's targets as a reader reads them in 80 columns: the target's label, its year, the target and
    the value then as the reports show them (shares as percentages), met (an outcome) or delivered (a
    commitment), and the first year met; targets.csv keeps every column."""
    from sim.outputs.formats import shown

    table = Table(title="Plan targets (commitments: set by the scenario; outcomes: projected)", title_justify="left")
    table.add_column("target", overflow="fold", max_width=30)
    for col in ("by", "target", "value then", "met", "first met"):
        table.add_column(col, justify="right", overflow="fold")
    for t in result.targets.itertuples():
        info = catalogue().target(t.target)
        unit = catalogue()[info.indicator].unit
        first = "-" if pd.isna(t.first_year_met) else str(int(t.first_year_met))
        if t.kind == "outcome":
            met = "yes" if t.met_at_target_year else "no"
        else:
            met = "delivered" if t.met_at_target_year else "not delivered"
        table.add_row(
            info.labels["en"], str(t.target_year), shown(t.target_value, unit), shown(t.value_at_target_year, unit),
            met, first,
        )  # fmt: skip
    return table


def evaluation_table(ev) -> Table:
    """The verdict table of ``sim evaluate``: each target's probability and verdict, expected value and 90%
    interval given the observations (and before them), and what it would take."""
    from sim.outputs.formats import number

    table = Table(title=f"{ev.scenario.name}: targets as of {ev.as_of}")
    columns = (
        "target",
        "kind",
        "by",
        "target",
        "P(met)",
        "verdict",
        "expected (90%)",
        "before observations",
        "what it would take",
    )
    for col in columns:
        table.add_column(col, overflow="fold")
    for t in ev.table.itertuples():
        share = t.target_value <= 1 and t.expected <= 1

        def fmt(v: float, share: bool = share) -> str:
            return f"{v:.1%}" if share else number(v)

        scheduled = "" if pd.isna(t.scheduled) else f"scheduled {fmt(t.scheduled)}"
        table.add_row(
            t.target,
            t.kind,
            str(t.target_year),
            ("<= " if t.direction == "at_most" else ">= ") + fmt(t.target_value),
            f"{t.p_met:.2f}",
            t.verdict,
            f"{fmt(t.expected)} ({fmt(t.p05)}-{fmt(t.p95)})",
            f"{fmt(t.prior_expected)} ({fmt(t.prior_p05)}-{fmt(t.prior_p95)}), P {t.prior_p_met:.2f}",
            scheduled or (t.what_it_takes if isinstance(t.what_it_takes, str) else ""),
        )
    return table


def fit_table(table: pd.DataFrame, title: str) -> Table:
    from sim.outputs.fit_report import fit_number as n

    t = Table(title=title)
    ensemble = "ensemble_mean" in table
    columns = ["kind", "observed quantity", "year", "observed", "accepted", "point estimate (90%)"]
    for col in columns + ["ensemble (90%)"] * ensemble + ["within"]:
        t.add_column(col, overflow="fold")
    for r in table.itertuples():
        members = [f"{n(r.ensemble_mean)} ({n(r.ensemble_p05)}-{n(r.ensemble_p95)})"] if ensemble else []
        t.add_row(
            r.kind,
            r.label,
            str(r.year),
            n(r.observed),
            f"{n(r.lower) or '...'} to {n(r.upper) or '...'}",
            f"{n(r.simulated)} ({n(r.p05)}-{n(r.p95)})",
            *members,
            "yes" if r.within else "[bold red]no[/]",
        )
    return t


def ranking_lines(exp, result) -> list[str]:
    from sim.analysis.sensitivity import MAIN_INDEX, ranking

    method = exp.spec.method.name
    main = MAIN_INDEX[method]
    lines = [f"[bold]Most influential by {main}[/] (all indices in indices.csv):"]
    for outcome in dict.fromkeys(result.indices.outcome):
        ranked = ranking(result.indices, outcome, method).head(5)
        lines.append(f"  {outcome}: " + ", ".join(f"{name} {row[main]:.3g}" for name, row in ranked.iterrows()))
    return lines


def emulator_table(validation: pd.DataFrame) -> Table:
    """Held-out validation of an emulator, one row per outcome."""
    t = Table(title="Emulator on held-out runs")
    for col in ("outcome", "R²", "error / spread", "90% interval holds", "predicted"):
        t.add_column(col, overflow="fold")
    for r in validation.itertuples():
        t.add_row(
            r.outcome,
            f"{r.r2:.3f}",
            f"{r.relative_error:.1%}",
            f"{r.coverage_90:.0%} of {r.heldout_runs}",
            "yes" if r.usable else f"[bold red]no[/]: {r.why_not}",
        )
    return t


def regions_table() -> tuple[Table, list[str]]:
    """The packaged regions (China, the 31 provinces, the plans' cities) with their names, population aged
    60+ and calibration, and their sources."""
    from sim.data.fits import shipped
    from sim.data.regions import PROVINCES, load_region, region_keys

    table = Table(title="Packaged regions (a scenario names one by key, English or Chinese name)")
    table.add_column("key", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("aged 60+ (2020)", justify="right", no_wrap=True)
    table.add_column("calibrated", no_wrap=True)
    found = [load_region(key) for key in region_keys()]
    kinds = {"nation": ["china"], "provinces": sorted(PROVINCES), "cities": []}
    kinds["cities"] = [r.key for r in found if r.key not in kinds["nation"] + kinds["provinces"]]
    by_key = {r.key: r for r in found}
    for kind, keys in kinds.items():
        for key in keys:
            r = by_key[key]
            fitted = "yes" if f"{r.key}-{r.base_year}" in shipped() else "no"
            table.add_row(r.key, f"{r.name} {r.name_zh}", f"{r.population_total():,.0f}", fitted)
        if kind != "cities":
            table.add_section()
    sources = [
        "[bold]Sources[/] (all regions: mortality UN WPP2024; capacity levels and transitions from CLHLS "
        "studies and national anchors, see docs/model.md; care supply: sim/data/care_regions.yaml)"
    ]
    sources += [f"  {r.key} {k}: {v}" for r in found for k, v in r.sources.items()]
    return table, sources
