"""What ``sim steps`` shows: the change each step of a lever makes to every target and to the plan's cost, as a
chart (one panel per measure: the mean paired change with its 5th-95th percentile, P(met) above each bar) and
as a terminal table, in English or Chinese."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from rich.table import Table  # noqa: E402

from sim.catalogues.indicators import catalogue  # noqa: E402
from sim.catalogues.levers import lever_catalogue  # noqa: E402
from sim.outputs.formats import shown, shown_label  # noqa: E402
from sim.outputs.labels import labels, recorded_vintage, style, vintage_text  # noqa: E402

A4_WIDTH_IN = 8.27
COST = "plan_cost_cumulative"


def measure_label(measure: str, lang: str) -> str:
    """A target's label, or the plan cost's with the unit its values are shown in (million yuan)."""
    if measure == COST:
        return shown_label(COST, lang)
    return catalogue().target(measure).labels[lang]


def measure_unit(measure: str) -> str:
    indicator = COST if measure == COST else catalogue().target(measure).indicator
    return catalogue()[indicator].unit


def change_text(v: float, unit: str) -> str:
    """A change as tables show the value, with its sign; a share's in percentage points."""
    if pd.isna(v):
        return "-"
    if unit == "share":
        return f"{v * 100:+.1f} pp"
    text = shown(abs(v), unit)
    return ("-" if v < 0 else "+") + text


def steps_figure(frame: pd.DataFrame, record: dict, lang: str = "en") -> Figure:
    S, L = labels(lang)["steps"], labels(lang)
    measures = list(dict.fromkeys(frame.measure))
    steps = [s for s in dict.fromkeys(frame.step) if s != "plan"]
    cols = 2 if len(measures) > 1 else 1
    rows = int(np.ceil(len(measures) / cols))
    with plt.rc_context(style(lang)):
        fig, grid = plt.subplots(rows, cols, figsize=(A4_WIDTH_IN, 2.1 * rows + 1.0), squeeze=False)
        for k, measure in enumerate(measures):
            ax = grid[k // cols, k % cols]
            mine = frame[(frame.measure == measure) & (frame.step != "plan")].set_index("step").loc[steps]
            unit = measure_unit(measure)
            scale = 1e6 if unit.startswith("yuan") else 0.01 if unit == "share" else 1  # shares in points
            x = np.arange(len(steps))
            ax.bar(x, mine.change / scale, color="#0072B2", width=0.6)
            low = (mine.change - mine.change_p05) / scale
            high = (mine.change_p95 - mine.change) / scale
            ax.errorbar(x, mine.change / scale, yerr=[low.clip(lower=0), high.clip(lower=0)], fmt="none", color="#333")
            ax.axhline(0, color="#000", linewidth=0.6)
            ax.set_xticks(x, steps)
            for xi, p in zip(x, mine.p_met, strict=True):
                if not pd.isna(p):
                    ax.annotate(
                        f"P {p:.0%}",
                        (xi, 1.0),
                        xycoords=("data", "axes fraction"),
                        ha="center",
                        va="bottom",
                        fontsize=6.5,
                        color="#555",
                    )
            what = (
                "pp"
                if unit == "share"
                else catalogue().unit_label("million yuan", lang)
                if scale == 1e6
                else (catalogue().unit_label(unit, lang))
            )
            ax.set_title(measure_label(measure, lang), fontsize=8, loc="left", pad=12)
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
            ax.set_ylabel(S["change"].format(unit=what), fontsize=7)
        for k in range(len(measures), rows * cols):
            grid[k // cols, k % cols].set_visible(False)
        lever = lever_catalogue()[record["lever"]].label(lang)
        fig.suptitle(S["title"].format(lever=lever), fontsize=10, x=0.01, ha="left")
        source = S["source"].format(
            scenario=record["scenario"]["name"], replicates=record["replicates"], seed=record["seed"]
        ) + L["vintage"]["appended"].format(data=vintage_text(recorded_vintage(record), lang))
        width = 120 if lang == "zh" else 190  # characters a line of the footer holds at its size
        fig.text(0.01, 0.005, "\n".join(textwrap.wrap(source, width)), fontsize=5.5, color="#555555")
        fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig


def steps_table(frame: pd.DataFrame, record: dict, lang: str = "en") -> Table:
    """Rows: each measure at each step; columns that fit 80 characters."""
    S = labels(lang)["steps"]
    lever = lever_catalogue()[record["lever"]].label(lang)
    table = Table(title=S["title"].format(lever=lever), title_justify="left")
    for col in ("measure", "step", "value", "change", "p_met"):
        table.add_column(S["columns"][col], overflow="fold", justify="left" if col == "measure" else "right")
    for measure in dict.fromkeys(frame.measure):
        unit = measure_unit(measure)
        for i, row in enumerate(frame[frame.measure == measure].itertuples()):
            p = "-" if pd.isna(row.p_met) else f"{row.p_met:.0%}"
            if row.step != "plan" and not pd.isna(row.p_met):
                p += f" ({row.p_met_change * 100:+.0f})"
            table.add_row(
                S["measure_year"].format(measure=measure_label(measure, lang), year=row.year) if i == 0 else "",
                S["plan"] if row.step == "plan" else row.step,
                shown(row.value, unit),
                "" if row.step == "plan" else change_text(row.change, unit),
                p,
            )
    return table
