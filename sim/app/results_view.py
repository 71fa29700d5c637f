"""Results and comparisons: the key indicators, the targets, the interactive charts and the downloads of a
run, and up to four runs overlaid on a baseline; each table and chart drawn once per run and language for
every user."""

from __future__ import annotations

import functools
import html
import threading
import time
from pathlib import Path

import solara

from sim.app import downloads
from sim.app.panels import panel_height, panel_option, panels_for
from sim.app.state import (
    MAX_COMPARED,
    asked_at,
    compared,
    draft,
    guarded,
    log,
    session_id,
    shown,
)
from sim.app.texts import t
from sim.outputs.charts import STABLE_REPLICATES, spread_text
from sim.outputs.labels import labels, run_description, run_title, run_vintage, vintage_text
from sim.results.folder import Run


# --- results ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def load_run(folder: str, mtime: float) -> Run:
    return Run.load(Path(folder))


def run_at(folder: str) -> Run:
    from sim.results.files import recover

    recover(Path(folder))  # a write killed between its two renames left the previous results aside
    return load_run(folder, (Path(folder) / "manifest.json").stat().st_mtime)


def drawn_once(what: str, panel: str | None, runs: list[Run], language: str):
    """A chart's option or a table's HTML, made once per run (folder and its manifest's time) and language for
    every user: a stored scenario's results then open without recomputing them."""
    return _drawn(
        what, panel, tuple((str(r.folder), (r.folder / "manifest.json").stat().st_mtime) for r in runs), language
    )


_drawing = threading.Lock()  # users opening the same results at once: drawn once, the others wait for it


def _drawn(what: str, panel: str | None, folders: tuple, language: str):
    with _drawing:
        return _drawn_cached(what, panel, folders, language)


@functools.lru_cache(maxsize=512)
def _drawn_cached(what: str, panel: str | None, folders: tuple, language: str):
    from sim.outputs.report_content import differences, key_indicator_table, targets_table

    runs = [run_at(folder) for folder, _ in folders]
    if what == "panel":
        return panel_option(panel, runs, language)
    if what == "key_numbers":
        return table_html(key_indicator_table(runs, language), "key-numbers", index=True)
    if what == "targets":
        return table_html(targets_table(runs, language), "targets")
    return table_html(differences_shown(differences(runs), runs, language), "differences")


def Heading(level: str, words: str):
    """A heading as plain HTML: Solara's Markdown would have the page fetch mermaid.js (for diagrams it has
    none of) from a CDN, a request that fails offline."""
    size = {"h2": "1.5em", "h3": "1.2em"}[level]
    solara.HTML(level, html.escape(words), style=f"font-size: {size}; font-weight: 500; margin: 0.6em 0 0.3em")


def table_html(frame, classes: str, index: bool = False) -> str:
    return frame.to_html(classes=classes, border=0, na_rep="-", escape=True, index=index)


@solara.component
def Charts(runs: list[Run], language: str):
    with solara.Row(style={"flex-wrap": "wrap"}):
        for panel in panels_for(runs):
            with solara.Column(style={"width": "560px"}, classes=["panel", f"panel-{panel}"]):
                option = drawn_once("panel", panel, runs, language)
                solara.FigureEcharts(option=option, attributes={"style": f"height: {panel_height(option)}px;"})


@solara.component
def Downloads(runs: list[Run], language: str, raw: dict | None = None):
    """One button per file kind: the chart and its format are chosen, not a button for each of 21 files
    (a page of buttons is slower to draw for every user)."""
    from sim.outputs.labels import labels

    stem = "_vs_".join(r.name for r in runs)[:80]
    charts = {labels(language)["charts"].get(c, {}).get("title", c): c for c in downloads.chart_names(runs)}
    chart, set_chart = solara.use_state(next(iter(charts)))
    fmt, set_fmt = solara.use_state("png")
    chart = chart if chart in charts else next(iter(charts))
    # one file made at a time, the others' buttons off meanwhile: a browser keeps only the first of two files
    # that arrive unasked-for at once (a second download pressed while the PDF was made lost the PDF)
    making, set_making = solara.use_state(None)

    def download(make, args: tuple, filename: str, label: str):
        busy = functools.partial(lambda label, on: set_making(label if on else None), filename)
        solara.FileDownload(
            downloads.maker(make, *args, busy=busy),
            filename=filename,
            children=[
                solara.Button(
                    label,
                    icon_name="mdi-cloud-download-outline",
                    loading=making == filename,
                    disabled=making not in (None, filename),
                )
            ],
        )

    with solara.Card(t("downloads", language), classes=["downloads"]):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(t("chart_files", language), values=list(charts), value=chart, on_value=set_chart)
            formats = list(downloads.CHART_FORMATS)
            solara.Select("", values=formats, value=fmt, on_value=set_fmt, style="max-width: 90px")
            chart_args = (runs, charts[chart], fmt, language)
            download(downloads.chart_file, chart_args, f"{stem}_{charts[chart]}_{language}.{fmt}", fmt.upper())
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Text(t("report_files", language), style={"font-weight": "500"})
            for kind in downloads.REPORT_FORMATS:
                report_args = (runs, kind, language)
                download(downloads.report_file, report_args, f"{stem}_report_{language}.{kind}", kind.upper())
            solara.Text(t("table_files", language), style={"font-weight": "500"})
            for kind in downloads.TABLE_FORMATS:
                name = f"{stem}_{'summary' if len(runs) == 1 else 'differences'}.{kind}"
                download(downloads.table_file, (runs, kind, language), name, kind.upper())
            if raw is not None:
                name = f"{raw.get('name') or stem}.yaml"
                download(downloads.scenario_file, (raw,), name, t("scenario_file", language))
        if making is not None:
            solara.Text(t("making", language, what=making), classes=["making"], style={"color": "#666"})


@solara.component
def ResultsTab(language: str):
    def drawn():
        asked = asked_at.pop(f"results {session_id()}", None)
        if asked is not None:
            log.info("results drawn on the server in %.3f s", time.perf_counter() - asked)

    solara.use_effect(drawn, [shown.value, language])
    if shown.value is None:
        solara.Info(t("no_results", language))
        return
    run = run_at(shown.value)
    Heading("h2", run_title(run, language))
    if run_description(run, language):
        solara.Text(run_description(run, language))
    if run.manifest["replicates"] == 1:
        solara.Text(t("one_replicate", language), style={"color": "#666"})
    elif run.manifest["replicates"] < STABLE_REPLICATES:  # an interval, but from too few replicates to be stable
        solara.Text(spread_text(run.manifest, labels(language)).lstrip(" —"), style={"color": "#666"})
    # the editions of the data, so a figure taken from the page can be traced (charts and downloads say it too)
    solara.Text(
        f"{labels(language)['vintage']['heading']}: {vintage_text(run_vintage(run), language)}",
        style={"color": "#666", "font-size": "0.85em"},
        classes=["data-vintage"],
    )
    with solara.Row():
        full = len(compared.value) > MAX_COMPARED
        solara.Button(
            t("add_compare", language),
            on_click=guarded(lambda: compared.set([*compared.value, shown.value])),
            disabled=full or shown.value in compared.value,
            classes=["add-compare"],
        )
        if full:
            solara.Text(t("compare_full", language, n=MAX_COMPARED))
    Heading("h3", t("key_numbers", language))
    solara.HTML("div", drawn_once("key_numbers", None, [run], language))
    if not run.targets.empty:
        Heading("h3", t("targets", language))
        solara.HTML("div", drawn_once("targets", None, [run], language))
    Heading("h3", t("charts", language))
    Charts([run], language)
    from sim.app.steps_view import StepsPanel

    StepsPanel(language)
    d = draft.value
    raw = d.raw() if d is not None else None
    if raw is not None and run.name != raw.get("name"):
        raw = dict(raw, name=run.name)
    Downloads([run], language, raw)


def differences_shown(table, runs: list[Run], language: str):
    """``sim compare``'s differences as a reader reads them: the indicator in words, numbers in the report's
    format, each run by its title (the CSV download keeps the plain columns)."""
    import pandas as pd

    from sim.catalogues.indicators import BREAKDOWN, catalogue
    from sim.outputs.formats import shown, shown_label

    rows = []
    for row in table.to_dict("records"):
        breakdown = {k: row[k] for k in BREAKDOWN if k in row and k != "sex"}
        unit = catalogue()[row["indicator"]].unit
        shown_row = {t("indicator", language): shown_label(row["indicator"], language, **breakdown)}
        shown_row[t("year", language)] = row["year"]
        for i, run in enumerate(runs):
            shown_row[run_title(run, language)] = shown(row[run.name], unit)
            if i:
                value = row[f"{run.name} - {runs[0].name}"]
                sign = "+" if value > 0 else ""
                shown_row[f"Δ {i}"] = sign + shown(value, unit)
        rows.append(shown_row)
    return pd.DataFrame(rows)


@solara.component
def CompareTab(language: str):
    folders = [f for f in compared.value if (Path(f) / "manifest.json").is_file()]
    solara.Text(t("compare_help", language))
    if not folders:
        solara.Info(t("compare_empty", language))
        return
    runs = [run_at(f) for f in folders]
    for i, run in enumerate(runs):
        with solara.Row(style={"align-items": "center"}, classes=["compared"]):
            solara.Text(("★ " + t("baseline", language) + ": " if i == 0 else "") + run_title(run, language))
            if i:
                solara.Button(
                    t("make_baseline", language),
                    text=True,
                    on_click=guarded(lambda f=folders[i]: compared.set([f, *(x for x in folders if x != f)])),
                )
            solara.Button(
                t("remove", language),
                text=True,
                on_click=guarded(lambda f=folders[i]: compared.set([x for x in folders if x != f])),
            )
    if len(runs) < 2:
        return
    if any(not r.targets.empty for r in runs):
        Heading("h3", t("targets", language))
        solara.HTML("div", drawn_once("targets", None, runs, language))
    Heading("h3", t("differences", language))
    solara.HTML("div", drawn_once("differences", None, runs, language))
    Charts(runs, language)
    Downloads(runs, language)
