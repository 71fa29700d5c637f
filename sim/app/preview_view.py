"""The emulated preview on the Scenario page (``sim app --emulator DIR``): as soon as a lever moves, the key
charts as an emulator of the model predicts them, marked as emulated, with the band a run falls in and the
emulator's held-out error; or one line saying why there is none (another scenario, a lever it does not move, a
value outside what it learnt). Outcomes it does not predict to the standard are named and not drawn. Once the
model's own results of the scenario are there (Run, or stored), the same charts show them instead.

Predictions are made in the server's process (a few milliseconds), once per draft for every user."""

from __future__ import annotations

import functools
import math

import numpy as np
import solara

from sim.analysis.preview import Line, Predicted, Preview, Verdict, as_json, best_verdict, lever_of
from sim.app import server
from sim.app.drafts import Draft
from sim.app.panels import PLOT_HEIGHT, band_part
from sim.app.state import draft, shown
from sim.app.texts import FONTS, lever_label, t
from sim.catalogues.indicators import catalogue

EMULATED_COLOUR, MODEL_COLOUR = "#7B61A8", "#000000"  # a preview never looks like the model's own run
WIDTH = 440  # pixels of one chart


@functools.lru_cache(maxsize=256)
def preview_at(d: Draft) -> tuple[Preview | None, Verdict, tuple[Predicted, ...]]:
    """The emulator that speaks for a draft (or the closest miss) and its predictions there."""
    resolved = d.resolved()
    if resolved is None:  # not valid: its fields say why
        return None, Verdict(reason="scenario"), ()
    scenario = as_json(resolved)
    preview, verdict = best_verdict(list(server.CONFIG.previews), scenario)
    if not verdict.applies:
        return preview, verdict, ()
    return preview, verdict, tuple(preview.predict(verdict.values))


def percent(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def _number(v: float, is_share: bool) -> str:
    return f"{v:.1%}" if is_share else f"{v:,.0f}"


def why_not(preview: Preview | None, verdict: Verdict, language: str) -> str:
    """The one line saying why there is no preview."""
    name = preview.name if preview else ""
    if verdict.reason == "lever":
        return t("preview_lever", language, lever=lever_label(verdict.key, language))
    if verdict.reason == "form":
        years = [f.key.removeprefix(verdict.key + ".") for f in preview.emulator.factors if f.key != verdict.key]
        years = [y for y in years if y.isdigit()] or ["?"]
        return t("preview_form", language, lever=lever_label(verdict.key, language), years=", ".join(years))
    if verdict.reason == "range":
        lever = lever_of(verdict.key) or verdict.key
        label = lever_label(lever, language) if lever_of(verdict.key) else verdict.key
        year = verdict.key.removeprefix(lever + ".") if verdict.key != lever else ""
        value = (
            t("preview_unset", language)
            if verdict.value is None
            else f"{verdict.value:g}"
            if isinstance(verdict.value, float)
            else str(verdict.value)
        )
        return t("preview_range", language, lever=f"{label}{f', {year}' if year else ''}", value=value,
                 allowed=verdict.allowed)  # fmt: skip
    return t("preview_scenario", language, name=name, key=verdict.key or "region")


def line_option(title: str, years: list[int], mean, low, high, is_share: bool, emulated: bool, kind: str) -> dict:
    """One line and its 90% band (NaN: a year not drawn), as the results' charts draw theirs."""
    factor = 100.0 if is_share else 1.0
    colour = EMULATED_COLOUR if emulated else MODEL_COLOUR

    def clean(values) -> list:
        return [None if not np.isfinite(v) else round(float(v) * factor, 4) for v in values]

    m, lo, hi = clean(mean), clean(low), clean(high)
    width = [None if a is None or b is None else round(b - a, 4) for a, b in zip(lo, hi, strict=True)]
    ends = ", ".join(
        f"{y} {_number(v, is_share)}"
        for y, v in zip(years, mean, strict=True)
        if (y % 5 == 0 or y == years[-1]) and np.isfinite(v)
    )
    return {
        "textStyle": {"fontFamily": FONTS},
        "animation": False,
        "title": {"text": title, "left": 0, "textStyle": {"fontSize": 13}},
        "aria": {"enabled": True, "label": {"description": f"{kind}. {title}: {ends}"}},
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 70, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": [str(y) for y in years], "boundaryGap": False},
        "yAxis": {"type": "value", "name": "%" if is_share else "", "min": 0 if is_share else None},
        "series": [
            band_part(f"{title} (5%)", lo, "band", None),
            band_part(f"{title} (95%)", width, "band", colour),
            {
                "name": title,
                "type": "line",
                "data": m,
                "showSymbol": False,
                "connectNulls": False,
                "lineStyle": {"color": colour, "width": 2, "type": "dashed" if emulated else "solid"},
                "itemStyle": {"color": colour},
            },
        ],  # fmt: skip
    }


def title_of(line: Line, language: str) -> str:
    return catalogue().describe(line.indicator, language, **line.breakdown)


def is_share(line: Line) -> bool:
    return catalogue()[line.indicator].unit == "share"


@solara.component
def Chart(option: dict, kind: str, line: Line):
    with solara.Column(style={"width": f"{WIDTH}px"}, classes=[f"{kind}-chart", f"{kind}-{line.key}"]):
        solara.FigureEcharts(option=option, attributes={"style": f"height: {PLOT_HEIGHT - 40}px;"})


@solara.component
def PreviewPanel(language: str):
    """Nothing without --emulator; else the preview, the reason there is none, or the model's own results."""
    previews = server.CONFIG.previews
    d = draft.value
    if not previews or d is None:
        return
    preview, verdict, predicted = preview_at(d)
    with solara.Card(t("preview_heading", language), classes=["preview"]):
        if shown.value is not None:
            ModelCharts(shown.value, (preview or previews[0]).lines, language)
            return
        if not verdict.applies:
            solara.Text(why_not(preview, verdict, language), classes=["preview-none"])
            return
        drawn = [p for p in predicted if any(p.usable)]
        error = max((p.relative_error for p in drawn), default=float("nan"))
        solara.Warning(t("preview_banner", language, error=percent(error)), classes=["preview-banner"])
        runs = len(preview.emulator.train)
        help_text = t("preview_help", language, runs=runs, name=preview.name)
        solara.Text(help_text, style={"color": "#666", "font-size": "0.85em"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            for p in drawn:
                title = title_of(p.line, language)
                kind = t("preview_kind", language, error=percent(p.relative_error))
                option = line_option(title, p.line.years, p.mean, p.low, p.high, is_share(p.line), True, kind)
                Chart(option, "preview", p.line)
        missing = [(p.line, year, figures) for p in predicted for year, figures in preview.not_usable(p.line)]
        if missing:
            items = "".join(f"<li>{not_previewed(*m, language)}</li>" for m in missing)
            solara.HTML("ul", items, classes=["preview-not"])


def not_previewed(line: Line, year: int, figures: dict, language: str) -> str:
    import html

    from sim.analysis.emulator_training import R2_STANDARD

    what = f"{title_of(line, language)} {year}"
    r2 = figures.get("r2", float("nan"))
    if not (math.isfinite(r2) and r2 >= R2_STANDARD):
        return html.escape(t("preview_not", language, what=what, r2=f"{r2:.2f}"))
    coverage = percent(figures.get("coverage_90", 0.0))
    return html.escape(t("preview_not_coverage", language, what=what, coverage=coverage))


@solara.component
def ModelCharts(folder: str, lines: list[Line], language: str):
    """The model's own results of the scenario, in the preview's charts: they replace it."""
    from sim.app.results_view import run_at

    run = run_at(folder)
    solara.Success(t("preview_model", language, replicates=run.manifest["replicates"]), classes=["preview-model"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        for line in lines:
            breakdown = {k: v for k, v in line.breakdown.items() if k != "sex"}
            data = run.series(line.indicator, **breakdown).reindex(line.years)
            title = title_of(line, language)
            option = line_option(
                title, line.years, data["mean"].to_numpy(float), data["p05"].to_numpy(float),
                data["p95"].to_numpy(float), is_share(line), False, t("preview_model_kind", language),
            )  # fmt: skip
            Chart(option, "model", line)
