"""The report's charts as interactive ECharts panels: the same indicators, colours and 90% bands as
``sim.outputs.charts``, with values on hover; several runs overlaid, a colour each (the first run the
baseline) and the series of a panel told apart by line style. Each panel's description (ECharts' aria
label) lists its series' values, so a screen reader, and the browser tests, read what it shows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.app.texts import FONTS
from sim.catalogues.indicators import catalogue
from sim.outputs.charts import LINE_COLOURS, OCCUPANCY_GROUPS, RESIDENCE_COLOURS, SETTING_COLOURS
from sim.outputs.labels import labels, run_title
from sim.results.folder import Run

RUN_COLOURS = ("#000000", "#D55E00", "#0072B2", "#009E73", "#CC79A7")  # Okabe-Ito: baseline first
LINE_TYPES = ("solid", "dashed", "dotted", [8, 3, 2, 3], [2, 6])

# panel -> (title key in the charts' labels or an indicator, [(indicator, breakdown, colour)], scale, percent)
PANELS: dict[str, tuple[str, list[tuple[str, dict, str]], float, bool]] = {
    "older_people": (
        "older_people",
        [("population", {}, "#000000")]
        + [("population", {"residence": r}, c) for r, c in RESIDENCE_COLOURS.items()]
        + [("population", {"age_group": "80+"}, "#999999")],
        1.0,
        False,
    ),
    "demand_capacity": (
        "demand_capacity",
        [
            ("persons_with_need", {}, "#555555"),
            ("beds", {}, LINE_COLOURS["beds"]),
            ("staffed_beds", {}, LINE_COLOURS["staffed"]),
            ("home_care_capacity", {}, LINE_COLOURS["home_care"]),
        ],
        1.0,
        False,
    ),
    "care_arrangements": (
        "care_arrangements",
        [("elders_by_setting", {"group": g}, c) for g, c in SETTING_COLOURS.items()],
        1.0,
        False,
    ),
    "occupancy": ("occupancy", [("occupancy", {"group": g}, c) for g, c in OCCUPANCY_GROUPS.items()], 1.0, True),
    "waiting_list": ("waiting_list", [("waiting_list", {}, LINE_COLOURS["waiting"])], 1.0, False),
    "workforce": (
        "workforce",
        [("workers", {}, "#0072B2"), ("workers_required", {}, LINE_COLOURS["needed"])],
        1.0,
        False,
    ),
    "insurance": (
        "insurance",
        [
            ("ltci_income", {}, LINE_COLOURS["income"]),
            ("ltci_spending", {}, LINE_COLOURS["spending"]),
            ("ltci_balance", {}, LINE_COLOURS["balance"]),
        ],
        1e-6,
        False,
    ),
}


def panel_title(panel: str, lang: str) -> str:
    key, *_ = PANELS[panel]
    charts = labels(lang)["charts"]
    return charts[key]["title"] if key in charts else catalogue().label(key, lang)


def _unit(panel: str, lang: str) -> str:
    _, series, scale, percent = PANELS[panel]
    if percent:
        return "%"
    if scale == 1e-6:
        return catalogue().unit_label("million yuan", lang)
    return catalogue().unit_label(catalogue()[series[0][0]].unit, lang)


def _clean(values: pd.Series, scale: float, percent: bool) -> list:
    factor = 100 * scale if percent else scale
    return [None if v is None or not math.isfinite(v) else round(float(v) * factor, 4) for v in values]


def _shown(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}%" if percent else f"{value:,.0f}"


def panel_option(panel: str, runs: list[Run], lang: str) -> dict:
    """The ECharts option of one panel for one run or several overlaid."""
    _, specs, scale, percent = PANELS[panel]
    years = sorted({int(y) for r in runs for y in r.series("population").index})
    overlaid = len(runs) > 1
    series, legend, described = [], [], []
    for i, run in enumerate(runs):
        for j, (indicator, breakdown, colour) in enumerate(specs):
            if indicator.startswith("ltci") and run.scenario["policy"]["insurance"]["start_year"] is None:
                continue
            data = run.series(indicator, **breakdown).reindex(years)
            name = catalogue().describe(indicator, lang, **breakdown)
            if overlaid:
                name = f"{name} · {run_title(run, lang)}"
                colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            line = LINE_TYPES[j % len(LINE_TYPES)] if overlaid else "solid"
            mean = _clean(data["mean"], scale, percent)
            legend.append(name)
            stack = f"band-{i}-{j}"
            has_band = bool(np.any(np.abs(data["p95"].to_numpy() - data["p05"].to_numpy()) > 0))
            if has_band:
                low = _clean(data["p05"], scale, percent)
                high = _clean(data["p95"], scale, percent)
                width = [None if a is None or b is None else round(b - a, 4) for a, b in zip(low, high, strict=True)]
                series.append(band_part(f"{name} (5%)", low, stack, None))
                series.append(band_part(f"{name} (95%)", width, stack, colour))
            series.append(
                {
                    "name": name,
                    "type": "line",
                    "data": mean,
                    "showSymbol": False,
                    "lineStyle": {"color": colour, "width": 2, "type": line},
                    "itemStyle": {"color": colour},
                    "emphasis": {"focus": "series"},
                }
            )
            ends = ", ".join(f"{y} {_shown(v, percent)}" for y, v in zip(years, mean, strict=True) if y % 5 == 0)
            described.append(f"{name}: {ends}")
    title = panel_title(panel, lang)
    return {
        "textStyle": {"fontFamily": FONTS},
        "animation": False,  # drawn at once: a user opening results waits for no animation
        "title": {"text": title, "left": 0, "textStyle": {"fontSize": 14}},
        "aria": {"enabled": True, "label": {"description": f"{title}. " + "; ".join(described)}},
        "tooltip": {"trigger": "axis", "valueFormatter": None},
        # every name whole, one to a row under the chart (a paged legend hid names and cut long ones)
        "legend": {
            "data": legend,
            "bottom": 0,
            "left": 0,
            "orient": "vertical",
            "itemGap": LEGEND_GAP,
            "textStyle": {"width": LEGEND_TEXT_WIDTH, "overflow": "break", "lineHeight": LEGEND_LINE},
        },
        "grid": {"left": 70, "right": 20, "top": 40, "bottom": 36 + legend_height(legend)},
        "xAxis": {"type": "category", "data": [str(y) for y in years], "boundaryGap": False},
        "yAxis": {
            "type": "value",
            "name": _unit(panel, lang),
            "min": 0 if panel in ("waiting_list", "workforce", "occupancy") else None,
            "max": 100 if percent else None,
        },
        "series": series,
    }


LEGEND_TEXT_WIDTH, LEGEND_LINE, LEGEND_GAP = 480, 16, 6  # pixels: a panel is 560 wide
PLOT_HEIGHT = 300  # pixels of a panel above its legend: title, plot and years


def legend_height(names: list[str]) -> int:
    """Pixels the legend's rows take, a long name wrapped on as many lines as it needs (a Chinese character
    about 12 pixels wide at the legend's size, other characters about 7)."""
    lines = [max(1, -(-sum(12 if ord(c) >= 0x2E80 else 7 for c in name) // LEGEND_TEXT_WIDTH)) for name in names]
    return sum(n * LEGEND_LINE + LEGEND_GAP for n in lines) + 4


def panel_height(option: dict) -> int:
    """The panel's height in pixels: the plot, then its whole legend."""
    return PLOT_HEIGHT - 36 + option["grid"]["bottom"]


def band_part(name: str, data: list, stack: str, colour: str | None) -> dict:
    """The 90% band as two stacked series: an invisible lower edge, then its width shaded."""
    return {
        "name": name,
        "type": "line",
        "data": data,
        "stack": stack,
        "showSymbol": False,
        "silent": True,
        "lineStyle": {"opacity": 0},
        "areaStyle": {"color": colour, "opacity": 0.18} if colour else {"opacity": 0},
        "tooltip": {"show": False},
    }


def panels_for(runs: list[Run]) -> list[str]:
    insured = any(r.scenario["policy"]["insurance"]["start_year"] is not None for r in runs)
    return [p for p in PANELS if p != "insurance" or insured]
