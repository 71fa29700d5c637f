"""Picking and editing a scenario: the region and starting scenario, uploads, one field per lever of the
lever catalogue (numbers, choices, years, paths by year), the plan's targets, and the changes with the command
and the link that make the same run. Every value is checked with the command line's own code and refused
beside its field with its one-line message."""

from __future__ import annotations

import html
import shlex
from pathlib import Path

import solara
import solara.lab

from sim.app import server
from sim.app.drafts import Draft, flow_yaml, presets, save_upload
from sim.app.profiles import ProfilePath, ProfileSelect
from sim.app.running import follow
from sim.app.state import (
    draft,
    field_errors,
    guarded,
    job_key,
    job_view,
    notice,
    opened_sections,
    places,
    show,
    upload_error,
)
from sim.app.texts import choice_label, lever_label, t
from sim.catalogues.levers import lever_catalogue
from sim.common.errors import ScenarioError


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
    if isinstance(value, dict) and "profile" in value:  # a named time profile, not a table of years
        ProfilePath(key, value, label, error, css, language, change)
        return
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
        ProfileSelect(key, None, rows, language, change)
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
            solara.HTML("ul", "".join(f"<li><code>{escape(c)}</code></li>" for c in d.changes), classes=["changes"])
            solara.Button(
                t("reset", language), text=True, on_click=guarded(lambda: open_draft(Draft(d.source, (), places())))
            )
        else:
            solara.HTML("div", escape(t("no_changes", language)))
        solara.HTML("div", escape(t("command", language)), style="font-weight: 500")
        solara.HTML("pre", escape(" ".join(quoted(p) for p in d.command())), classes=["command"])
        solara.HTML("div", escape(t("link", language)), style="font-weight: 500")
        link = escape(share_link(d.query()))
        solara.HTML("div", f'<a href="{link}" class="share-link">{link}</a>', style="word-break: break-all")


def share_link(query: str) -> str:
    """The scenario's full address, to paste in a message: the page's origin as this user's browser sent it
    (its own Origin header: what it shows is what it reaches, through a proxy too; it changes no one else's
    page) and the root path fixed at the server's start, never a request's."""
    headers = solara.lab.headers.value or {}
    origin = (headers.get("origin") or [""])[0]
    if not origin.startswith(("http://", "https://")):
        host = (headers.get("host") or [""])[0]
        origin = f"http://{host}" if host else ""
    return f"{origin}{server.CONFIG.root_path}/?{query}"


def escape(text: str) -> str:

    return html.escape(text)


def quoted(part: str) -> str:

    return shlex.quote(part)
