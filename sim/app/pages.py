"""The scenario explorer's pages (Solara): pick a region and a starting scenario, change the levers, run,
read the results, compare scenarios, download, and read how the model works.

State is per browser session (Solara's reactive variables); runs are the server's (``server.queue()``).
Every field is checked with the command line's own code: a value that makes the scenario invalid is
refused beside the field with the command line's one-line message, and the scenario stays as it was.
Nothing a user does shows a traceback: an unexpected failure is logged on the server and reported in
one line.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path

import markdown
import solara

from sim.app import downloads, server
from sim.app.drafts import UPLOADS, Draft, Places, flow_yaml, presets, save_upload
from sim.app.jobs import QueueFull
from sim.app.panels import panel_option, panels_for
from sim.app.texts import FONTS, choice_label, lever_label, t
from sim.catalogues.levers import lever_catalogue
from sim.common.errors import ScenarioError
from sim.outputs.labels import run_description, run_title
from sim.results.folder import Run

log = logging.getLogger("sim.app")
EXPLAIN = Path(__file__).parent / "explain"
MAX_COMPARED = 4  # scenarios besides the baseline
POLL_SECONDS = 0.25

_asked: dict[str, float] = {}  # session -> when it asked for a page: the server's time to draw it, logged


def _session() -> str:
    try:
        return solara.get_session_id()
    except Exception:  # noqa: BLE001 - outside a browser session (tests of the pages)
        return ""


def show(folder: str | None) -> None:
    """Show a run's results (drawn at once, out of sight if the user is on another page)."""
    if folder is not None and folder != shown.value:
        _asked[f"results {_session()}"] = time.perf_counter()
    shown.set(folder)


lang = solara.reactive("en")
draft: solara.Reactive[Draft | None] = solara.reactive(None)
field_errors: solara.Reactive[dict[str, str]] = solara.reactive({})
notice = solara.reactive("")  # a one-line message for the page (queue full, link refused, ...)
upload_error = solara.reactive("")  # why an uploaded file was refused, shown under the drop zone
job_key: solara.Reactive[str | None] = solara.reactive(None)
shown: solara.Reactive[str | None] = solara.reactive(None)  # results folder on show
compared: solara.Reactive[list[str]] = solara.reactive([])  # results folders, the first the baseline
tab = solara.reactive(0)
visited = solara.reactive(frozenset({0}))  # pages opened in this session: drawn, and kept drawn


def places() -> Places:
    """What this server's drafts may read: its scenario files, its users' region files, its uploads."""
    config = server.CONFIG
    return Places(config.scenarios, config.region_files, config.runs / "app" / UPLOADS)


def guarded(action):
    """An event handler that never shows a traceback: an unexpected failure is logged, and said in one line."""

    @functools.wraps(action)
    def run(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the user gets one line; the server log the traceback
            log.exception("app action %s failed", action.__name__)
            notice.set(t("internal", lang.value, what=f"{type(e).__name__}: {str(e)[:120]}"))

    return run


# --- picking and editing ------------------------------------------------------------------------------
def region_choices(language: str) -> dict[str, str]:
    """Shown label -> draft source, every packaged region and the user's city files, grouped."""
    from sim.data.regions import PROVINCES, region_catalogue, region_name
    from sim.data.user_region import read_region_file

    keys = region_catalogue()
    groups = [("group_nation", ["china"]), ("group_provinces", list(PROVINCES))]
    groups.append(("group_cities", [k for k in sorted(keys) if k != "china" and k not in PROVINCES]))
    choices = {}
    for group, members in groups:
        for key in members:
            choices[f"{region_name(key, language)} · {t(group, language)}"] = key
    folder = server.CONFIG.region_files
    for path in sorted(folder.glob("*.yaml")) if folder else []:
        try:
            definition = read_region_file(places().region_file(path.stem))
        except ScenarioError:
            continue
        name = definition["name_zh"] if language == "zh" else definition["name"]
        choices[f"{name} · {t('group_user', language)}"] = f"city:{path.stem}"
    return choices


def region_of(d: Draft) -> str | None:
    """The region choice a draft belongs to: ``KEY`` of a packaged region, ``city:NAME`` of a region file."""
    try:
        s = d.scenario()
    except ScenarioError:
        return None
    return f"city:{Path(s.region_file['file']).stem}" if s.region_file else s.region


def start_choices(region: str, language: str) -> dict[str, str]:
    """Shown label -> draft source: the region's baseline, then its scenario files."""
    baseline = region if region.startswith("city:") else f"region:{region}"
    choices = {t("baseline_of", language): baseline}
    for key, file_key, name, title in presets(str(server.CONFIG.scenarios)):
        if key == region:
            shown_title = title.get(language) or title.get("en") or ""
            choices[f"{shown_title} ({name})" if shown_title else name] = f"scenario:{file_key}"
    return choices


@guarded
def change(key: str, text: str) -> None:
    """Apply one field's value, or refuse it in place with the command line's message."""
    errors = dict(field_errors.value)
    candidate = draft.value.with_change(key, text)
    try:
        candidate.scenario()
    except ScenarioError as e:
        errors[key] = str(e)
        field_errors.set(errors)
        return
    errors.pop(key, None)
    field_errors.set(errors)
    draft.set(candidate)
    notice.set("")
    show_stored(candidate)


def show_stored(d: Draft) -> None:
    """Results of this exact scenario, if the server has them: shown at once, with no run."""
    from sim.app.jobs import content_key

    queue = server.queue()
    key = content_key(d.scenario())
    folder = queue.stored(key)
    running = queue.job(key) is not None and queue.job(key).active  # another user's run of the same scenario
    job_key.set(key if folder or running else None)
    job_view.set(("", 0.0))
    show(str(folder) if folder else None)
    if running:
        follow(key)


@solara.component
def Field(key: str, kind: str = "number", language: str = "en"):
    """One lever: a number, a choice, a year, or a path by year (an editable table)."""
    value = draft.value.value(key)
    error = field_errors.value.get(key, "")
    label = lever_label(key, language)
    css = ["lever", "lever-" + key.replace(".", "-").replace("_", "-")]
    if kind == "path":
        YearPath(key, value, label, error, css, language)
    elif kind == "choice":
        names = {choice_label(key, v, language): v for v in lever_catalogue()[key].choices}
        current = next((n for n, v in names.items() if v == value), None)
        solara.Select(label, values=list(names), value=current, on_value=lambda n: change(key, names[n]), classes=css)
    elif kind == "year_or_none":
        none = t("no_insurance", language)
        options = [none] + [str(y) for y in range(2020, 2036)]
        solara.Select(
            label,
            values=options,
            value=none if value is None else str(value),
            on_value=lambda v: change(key, "null" if v == none else v),
            classes=css,
        )
    elif kind == "text":  # words, never read as YAML (a title "Plan: 2025" stays a title)
        from sim.outputs.labels import in_language

        solara.InputText(
            label,
            value=in_language(value, language) if isinstance(value, dict) else str(value or ""),
            on_value=lambda text: change(key, flow_yaml(text.strip())),
            continuous_update=False,
            error=error or False,
            classes=css,
        )
    else:
        solara.InputText(
            label,
            value="" if value is None else f"{value:g}" if isinstance(value, float) else str(value),
            on_value=lambda text: change(key, text.strip() or "null"),
            continuous_update=False,
            error=error or False,
            classes=css,
        )
    if error and kind not in ("number", "path"):
        solara.Error(error, classes=["field-error"])


@solara.component
def YearPath(key: str, value, label: str, error: str, css: list[str], language: str):
    """A lever by year, as the plans state it: one row per year (one year: a target reached by then along a
    straight line from 2020; several: a schedule); no row: the region's own figure."""
    rows = sorted(value.items()) if isinstance(value, dict) else [] if value is None else [("", value)]

    def write(new_rows: list[tuple]) -> None:
        if not new_rows:
            change(key, "null")
        elif len(new_rows) == 1 and new_rows[0][0] == "":
            change(key, str(new_rows[0][1]))
        else:
            change(key, "{" + ", ".join(f"{y}: {v}" for y, v in new_rows) + "}")

    def set_row(i: int, year=None, val=None) -> None:
        new = [list(r) for r in rows]
        if year is not None:
            new[i][0] = "" if year.strip() in ("", t("every_year", language)) else year.strip()
        if val is not None:
            new[i][1] = val.strip()
        write([tuple(r) for r in new])

    with solara.Column(classes=css, style={"gap": "0px"}):
        solara.Text(label, style={"font-weight": "500"})
        if not rows:
            solara.Text(t("default_kept", language), style={"color": "#666"})
        for i, (year, val) in enumerate(rows):
            with solara.Row(style={"align-items": "center"}):
                solara.InputText(
                    t("year", language),
                    value=str(year) if year != "" else t("every_year", language),
                    on_value=lambda y, i=i: set_row(i, year=y),
                    continuous_update=False,
                    classes=["path-year"],
                    style={"max-width": "110px"},
                )
                solara.InputText(
                    t("value", language),
                    value=f"{val:g}" if isinstance(val, float) else str(val),
                    on_value=lambda v, i=i: set_row(i, val=v),
                    continuous_update=False,
                    classes=["path-value"],
                )
                solara.Button(
                    t("remove", language),
                    text=True,
                    on_click=lambda i=i: write([r for j, r in enumerate(rows) if j != i]),
                    classes=["path-remove"],
                )

        def add() -> None:
            years = [int(y) for y, _ in rows if str(y).isdigit()]
            year = min(2035, max(years) + 5) if years else 2025
            last = rows[-1][1] if rows else 0
            write([r for r in rows if r[0] != ""] + [(year, last)])

        solara.Button(t("add_year", language), text=True, on_click=guarded(add), classes=["path-add"])
        if error:
            solara.Error(error, classes=["field-error"])


FIELD_KINDS = {"schedule": "path", "choice": "choice", "year": "year_or_none"}  # the others: a number


def lever_sections() -> dict[str, list[tuple[str, str]]]:
    """The app's sections of levers, as the lever catalogue groups them, then the run's settings:
    section -> (key, kind of field)."""
    levers = lever_catalogue()
    sections = {
        group: [
            (lever.key, FIELD_KINDS.get(lever.type, "number"))
            for lever in levers.levers.values()
            if lever.group == group
        ]
        for group in levers.groups
    }
    return sections | {"run": [("name", "text"), ("replicates", "number"), ("scale", "number"), ("seed", "number")]}


def section_title(section: str, language: str) -> str:
    groups = lever_catalogue().groups
    return groups[section][language] if section in groups else t(f"sec_{section}", language)


@solara.component
def Targets(language: str):
    """The plan's targets: indicator, value, year, direction; each row editable, rows added and removed."""
    from sim.results.targets import TARGETS

    targets = draft.value.value("targets") or []
    error = field_errors.value.get("targets", "")

    def write(rows: list[dict]) -> None:
        change("targets", flow_yaml(rows))

    def edit(i: int, field: str, text: str) -> None:
        rows = [dict(r) for r in targets]
        rows[i][field] = text.strip()
        from sim.common.user_files import load_yaml

        try:
            rows[i][field] = load_yaml(text) if field in ("value", "year") else text.strip()
        except Exception:  # noqa: BLE001 - the scenario's check says what is wrong with it
            pass
        write(rows)

    directions = {t("at_least", language): "at_least", t("at_most", language): "at_most"}
    for i, target in enumerate(targets):
        with solara.Row(classes=["target-row"], style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select(
                t("indicator", language),
                values=list(TARGETS),
                value=target.get("indicator"),
                on_value=lambda v, i=i: guarded(edit)(i, "indicator", v),
                style={"min-width": "220px"},
            )
            solara.InputText(
                t("value", language),
                value=str(target.get("value", "")),
                on_value=lambda v, i=i: guarded(edit)(i, "value", v),
                continuous_update=False,
                style={"max-width": "140px"},
            )
            solara.InputText(
                t("year", language),
                value=str(target.get("year", "")),
                on_value=lambda v, i=i: guarded(edit)(i, "year", v),
                continuous_update=False,
                style={"max-width": "100px"},
            )
            direction = target.get("direction", "at_least")
            solara.Select(
                t("direction", language),
                values=list(directions),
                value=next((k for k, v in directions.items() if v == direction), None),
                on_value=lambda v, i=i: guarded(edit)(i, "direction", directions[v]),
                style={"max-width": "140px"},
            )
            solara.Button(
                t("remove", language),
                text=True,
                on_click=guarded(lambda i=i: write([r for j, r in enumerate(targets) if j != i])),
            )
    solara.Button(
        t("add_target", language),
        text=True,
        on_click=guarded(lambda: write([*targets, {"indicator": "beds_total", "value": 0, "year": 2025}])),
    )
    if error:
        solara.Error(error, classes=["field-error"])


@solara.component
def Picker(language: str):
    regions = region_choices(language)
    d = draft.value
    region = region_of(d) if d else None
    current_region = next((label for label, key in regions.items() if key == region), None)

    @guarded
    def pick_region(label: str) -> None:
        starts = start_choices(regions[label], language)
        plans = [s for s in starts.values() if s.startswith("scenario:")]
        # a region with a plan opens on it: what a planner comes for
        open_draft(Draft(plans[0] if plans else next(iter(starts.values())), (), places()))

    solara.Select(t("region", language), values=list(regions), value=current_region, on_value=pick_region)
    if region is not None:
        starts = start_choices(region, language)
        if d.source.startswith("upload:"):
            starts[f"{t('uploaded', language)}: {d.label}"] = d.source
        current = next((label for label, source in starts.items() if source == d.source), None)
        solara.Select(
            t("start_from", language),
            values=list(starts),
            value=current,
            on_value=guarded(lambda label: open_draft(Draft(starts[label], (), places()))),
        )

    @guarded
    def on_file(file) -> None:
        try:
            opened = save_upload(read_upload(file), file["name"], places())
        except ScenarioError as e:
            upload_error.set(str(e))
            return
        upload_error.set("")
        open_draft(opened)

    # lazy: the file stays in the browser until it is read, and a file over the limit is never read
    solara.FileDrop(label=t("upload", language), on_file=on_file, lazy=True)
    if upload_error.value:
        solara.Error(upload_error.value, classes=["upload-error"])


def read_upload(file: dict) -> bytes:
    """A dropped file's bytes, its size checked before any is read (and at most one byte more read)."""
    from sim.app.drafts import MAX_FILE_BYTES
    from sim.common.errors import cut

    name = cut(Path(str(file.get("name") or "upload.yaml")).name)
    if int(file.get("size") or 0) > MAX_FILE_BYTES:
        raise ScenarioError(f"{name}: {int(file['size']):,} bytes; a file here is at most {MAX_FILE_BYTES:,}")
    return file["file_obj"].read(MAX_FILE_BYTES + 1)


def open_draft(d: Draft) -> None:
    try:
        d.scenario()
    except ScenarioError as e:
        notice.set(str(e))
        return
    draft.set(d)
    field_errors.set({})
    notice.set("")
    show_stored(d)


@solara.component
def ScenarioTab(language: str):
    with solara.Columns([1, 2]):
        with solara.Column():
            Picker(language)
            if draft.value is not None:
                RunControls(language)
                Changes(language)
        with solara.Column():
            if draft.value is not None:
                for section, fields in lever_sections().items():
                    Section(section, fields, language)
                Section("targets", [], language)


opened_sections = solara.reactive(frozenset({"beds"}))


@solara.component
def Section(section: str, fields: list[tuple[str, str]], language: str):
    """A group of levers, drawn only once opened (a page of every field is slow to draw for every user);
    a section with a change in it says so when closed."""
    is_open = section in opened_sections.value
    d = draft.value
    keys = [key for key, _ in fields] or ["targets"]
    changed = sum(1 for c in d.changes if any(c.split("=", 1)[0].strip().startswith(k) for k in keys))

    def toggle():
        opened_sections.set(opened_sections.value ^ {section})

    with solara.Card(classes=["section", f"section-{section}"]):
        title = section_title(section, language) + (f" ({changed})" if changed else "")
        solara.Button(
            ("▾ " if is_open else "▸ ") + title,
            text=True,
            on_click=toggle,
            classes=["section-toggle"],
            style={"font-size": "1.05em", "text-transform": "none"},
        )
        if not is_open:
            return
        if any(kind == "path" for _, kind in fields):
            solara.Text(t("path_help", language), style={"color": "#666", "font-size": "0.85em"})
        if section == "targets":
            Targets(language)
        for key, kind in fields:
            Field(key, kind, language)


@solara.component
def Changes(language: str):
    d = draft.value
    with solara.Card(t("changes", language)):
        if d.changes:
            solara.HTML("ul", "".join(f"<li><code>{_escape(c)}</code></li>" for c in d.changes), classes=["changes"])
            solara.Button(
                t("reset", language), text=True, on_click=guarded(lambda: open_draft(Draft(d.source, (), places())))
            )
        else:
            solara.HTML("div", _escape(t("no_changes", language)))
        solara.HTML("div", _escape(t("command", language)), style="font-weight: 500")
        solara.HTML("pre", _escape(" ".join(_quoted(p) for p in d.command())), classes=["command"])
        solara.HTML("div", _escape(t("link", language)), style="font-weight: 500")
        link = _escape("?" + d.query())
        # a relative link: the browser makes it this server's full address (copy it with a right click)
        solara.HTML("div", f'<a href="{link}" class="share-link">{link}</a>', style="word-break: break-all")


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _quoted(part: str) -> str:
    import shlex

    return shlex.quote(part)


# --- running ------------------------------------------------------------------------------------------
job_view = solara.reactive(("", 0.0))  # the followed job's status and progress, as last seen


def follow(key: str) -> None:
    """Keep this session's view of a job up to date until it ends (a thread bound to the session: it goes
    on whichever page the user is on, and stops when the user follows another scenario)."""
    from solara.server import kernel_context

    context = kernel_context.get_current_context()

    def loop() -> None:
        while True:
            job = server.queue().job(key)
            with context:
                if job is None or job_key.value != key:
                    return
                job_view.set((job.status(), job.progress()))
                if not job.active:
                    if job.state == "done":
                        show(str(job.folder))
                    return
            time.sleep(POLL_SECONDS)

    threading.Thread(target=loop, daemon=True, name=f"follow-{key}").start()


@guarded
def start_run() -> None:
    d = draft.value
    scenario = d.scenario()
    try:
        job = server.queue().submit(scenario, solara.get_session_id(), d.command(), list(d.changes))
    except QueueFull as e:
        notice.set(str(e))
        return
    notice.set("")
    job_key.set(job.key)
    job_view.set((job.status(), job.progress()))
    show(str(job.folder) if job.state == "done" else None)
    if job.active:
        follow(job.key)


@solara.component
def RunControls(language: str):
    key = job_key.value
    queue = server.queue()
    job = queue.job(key) if key else None
    state, progress = job_view.value if job_view.value[0] else ((job.status(), job.progress()) if job else ("", 0.0))
    with solara.Card(t("run", language)):
        with solara.Row():
            active = state in ("queued", "running")
            solara.Button(t("run", language), on_click=start_run, color="primary", disabled=active, classes=["run"])
            solara.Button(
                t("cancel", language),
                on_click=guarded(lambda: queue.cancel(key)),
                disabled=not active,
                classes=["cancel"],
            )
        if job is None and shown.value is None:
            solara.Text(t("not_run", language), classes=["run-status"])
        elif state in ("queued", "running"):
            solara.ProgressLinear(value=100 * progress if state == "running" else True, classes=["run-progress"])
            text = t("queued", language) if state == "queued" else t("running", language, pct=100 * progress)
            solara.Text(text, classes=["run-status"])
        elif state == "cancelled":
            solara.Warning(t("cancelled", language), classes=["run-status"])
        elif state == "failed":
            solara.Error(t("failed", language, error=job.error if job else ""), classes=["run-status"])
        elif job is not None and job.seconds and state == "done":
            solara.Success(t("done", language, seconds=job.seconds), classes=["run-status"])
        elif shown.value:
            solara.Info(t("stored", language), classes=["run-status"])


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


def table_html(frame, classes: str, index: bool = False) -> str:
    return frame.to_html(classes=classes, border=0, na_rep="-", escape=True, index=index)


@solara.component
def Charts(runs: list[Run], language: str):
    with solara.Row(style={"flex-wrap": "wrap"}):
        for panel in panels_for(runs):
            with solara.Column(style={"width": "560px"}, classes=["panel", f"panel-{panel}"]):
                option = drawn_once("panel", panel, runs, language)
                solara.FigureEcharts(option=option, attributes={"style": "height: 380px;"})


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
    with solara.Card(t("downloads", language), classes=["downloads"]):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(t("chart_files", language), values=list(charts), value=chart, on_value=set_chart)
            formats = list(downloads.CHART_FORMATS)
            solara.Select("", values=formats, value=fmt, on_value=set_fmt, style="max-width: 90px")
            solara.FileDownload(
                functools.partial(downloads.chart_file, runs, charts[chart], fmt, language),
                filename=f"{stem}_{charts[chart]}_{language}.{fmt}",
                label=fmt.upper(),
            )
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Text(t("report_files", language), style={"font-weight": "500"})
            for kind in downloads.REPORT_FORMATS:
                solara.FileDownload(
                    functools.partial(downloads.report_file, runs, kind, language),
                    filename=f"{stem}_report_{language}.{kind}",
                    label=kind.upper(),
                )
            solara.Text(t("table_files", language), style={"font-weight": "500"})
            for kind in downloads.TABLE_FORMATS:
                solara.FileDownload(
                    functools.partial(downloads.table_file, runs, kind, language),
                    filename=f"{stem}_{'summary' if len(runs) == 1 else 'differences'}.{kind}",
                    label=kind.upper(),
                )
            if raw is not None:
                solara.FileDownload(
                    functools.partial(downloads.scenario_file, raw),
                    filename=f"{raw.get('name') or stem}.yaml",
                    label=t("scenario_file", language),
                )


@solara.component
def ResultsTab(language: str):
    def drawn():
        asked = _asked.pop(f"results {_session()}", None)
        if asked is not None:
            log.info("results drawn on the server in %.3f s", time.perf_counter() - asked)

    solara.use_effect(drawn, [shown.value, language])
    if shown.value is None:
        solara.Info(t("no_results", language))
        return
    run = run_at(shown.value)
    solara.Markdown(f"## {run_title(run, language)}")
    if run_description(run, language):
        solara.Text(run_description(run, language))
    if run.manifest["replicates"] == 1:
        solara.Text(t("one_replicate", language), style={"color": "#666"})
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
    solara.Markdown(f"### {t('key_numbers', language)}")
    solara.HTML("div", drawn_once("key_numbers", None, [run], language))
    if not run.targets.empty:
        solara.Markdown(f"### {t('targets', language)}")
        solara.HTML("div", drawn_once("targets", None, [run], language))
    solara.Markdown(f"### {t('charts', language)}")
    Charts([run], language)
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
        solara.Markdown(f"### {t('targets', language)}")
        solara.HTML("div", drawn_once("targets", None, runs, language))
    solara.Markdown(f"### {t('differences', language)}")
    solara.HTML("div", drawn_once("differences", None, runs, language))
    Charts(runs, language)
    Downloads(runs, language)


explain_page = solara.reactive(0)
EXPLAIN_PAGES = ("model", "data", "calibration", "limitations")


@solara.component
def ExplainTab(language: str):
    TabBar([t(f"explain_{p}", language) for p in EXPLAIN_PAGES], explain_page, "explain-tabs")
    path = EXPLAIN / language / f"{EXPLAIN_PAGES[explain_page.value]}.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    solara.HTML("div", markdown.markdown(text, extensions=["tables"]), classes=["explain"])


STYLE = """
@font-face { font-family: "Sim Noto Sans SC"; font-display: swap;
  src: url("/static/assets/NotoSansSC-Regular.otf") format("opentype");
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-9FFF, U+F900-FAFF, U+FF00-FFEF, U+2014, U+2018-201D; }
body, body *:not([class*="mdi"]):not(.fa):not([class*="fa-"]) { font-family: FONTS !important; }
table.key-numbers, table.targets, table.differences { border-collapse: collapse; font-size: 0.85em; }
table.key-numbers td, table.key-numbers th, table.targets td, table.targets th,
table.differences td, table.differences th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
.explain { max-width: 860px; line-height: 1.55; padding-left: 8px; }
.explain ol, .explain ul { padding-left: 2em; }
.explain table { border-collapse: collapse; } .explain td, .explain th { border: 1px solid #ccc; padding: 2px 6px; }
pre.command, a.share-link { font-size: 0.8em; white-space: pre-wrap; word-break: break-all; }
"""


@solara.component
def Page():
    router = solara.use_router()
    language = lang.value
    started = solara.use_memo(time.perf_counter, [])

    def opened():
        log.info("session's first page drawn on the server in %.3f s", time.perf_counter() - started)

    solara.use_effect(opened, [])

    def open_link():
        if draft.value is None and router.search:
            try:
                linked = Draft.from_query(router.search, places())
            except ScenarioError as e:
                notice.set(str(e))
                return
            if linked is not None:
                open_draft(linked)

    solara.use_effect(guarded(open_link), [])
    solara.Style(STYLE.replace("FONTS", FONTS))
    solara.Title(t("app_title", language))
    with solara.AppBar():
        solara.AppBarTitle(t("app_title", language))
        names = {"English": "en", "中文": "zh"}
        solara.ToggleButtonsSingle(
            value=next(k for k, v in names.items() if v == language),
            values=list(names),
            on_value=lambda name: lang.set(names[name]),
            classes=["language"],
            dense=True,
        )
    if notice.value:
        solara.Error(notice.value, classes=["notice"])

    def drawn():
        asked = _asked.pop(_session(), None)
        if asked is not None:
            log.info("page %d drawn on the server in %.3f s", tab.value, time.perf_counter() - asked)

    solara.use_effect(drawn)
    pages = [("tab_scenario", ScenarioTab), ("tab_results", ResultsTab), ("tab_compare", CompareTab)]
    pages.append(("tab_explain", ExplainTab))
    TabBar([t(key, language) for key, _ in pages], tab, "main-tabs")
    # every page stays drawn, the others moved out of sight (with their size, so their charts draw): results
    # opened or finished while the user is on another page are ready when they switch to them
    seen = visited.value | {tab.value}
    if seen != visited.value:
        visited.set(seen)
    for i, (key, content) in enumerate(pages):
        if i not in seen and key != "tab_results":  # a page not yet opened is not drawn (results always are)
            continue
        where = (
            "" if i == tab.value else "position: absolute; left: -30000px; top: 0; width: 1360px; visibility: hidden"
        )
        with solara.Column(classes=[f"page-{key.removeprefix('tab_')}"], style=where):
            Guarded(content, language)


@solara.component
def Guarded(content, language: str):
    """A page that cannot show a traceback: a failure while drawing it (a results folder removed on the
    server, say) is logged, and the user reads one line and can go on."""
    exception, clear = solara.use_exception()
    if exception is None:
        content(language)
        return
    log.error("app page failed: %s", exception, exc_info=exception)
    first = (str(exception).splitlines() or [""])[0][:120]
    solara.Error(t("internal", language, what=f"{type(exception).__name__}: {first}"), classes=["notice"])
    solara.Button("OK", on_click=clear)


@solara.component
def TabBar(names: list[str], current: solara.Reactive[int], css: str):
    """A row of tabs (buttons: Solara's lab tabs do not lay their pages out under Vuetify 3)."""
    with solara.Row(classes=[css], style={"border-bottom": "1px solid #ddd", "margin-bottom": "12px"}):
        for i, name in enumerate(names):
            solara.Button(
                name,
                text=True,
                on_click=lambda i=i: (_asked.__setitem__(_session(), time.perf_counter()), current.set(i)),
                color="primary" if i == current.value else None,
                classes=["tab", "tab-active" if i == current.value else "tab-idle"],
                style={"border-bottom": "3px solid" if i == current.value else "none", "border-radius": "0"},
            )
