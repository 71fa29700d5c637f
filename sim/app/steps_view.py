"""The "+N" panel on the results page: pick a lever and type steps (+10%, +20%, +30%, or +N in the lever's unit),
press one button, and read what each step changes: every target's value and P(met) and the plan's cost, against
the plan on the same random draws, as a table and ``sim steps``' chart, in the page's language. The job goes on
the server's queue (``steps_jobs``); a bad step is refused in one line beside the field."""

from __future__ import annotations

import html
import json
import threading
import time
from pathlib import Path

import pandas as pd
import solara

from sim.app import server
from sim.app.jobs import QueueFull
from sim.app.state import POLL_SECONDS, draft, guarded, shown
from sim.app.steps_jobs import StepsInputError, read_steps, step_levers, submit_steps
from sim.app.texts import t
from sim.catalogues.levers import lever_catalogue

steps_lever = solara.reactive("policy.beds.total")
steps_text = solara.reactive("+10%, +20%, +30%")
steps_error = solara.reactive("")  # why the steps typed were refused, one line beside the field
steps_job = solara.reactive(None)  # (job key, the results folder it was asked from)
steps_view = solara.reactive(("", 0.0, 0))  # the job's status, progress and runs done, as last seen


def follow_steps(key: str) -> None:
    """Keep this session's view of a "+N" job up to date until it ends (as ``running.follow`` does a run's)."""
    from solara.server import kernel_context

    context = kernel_context.get_current_context()

    def loop() -> None:
        while True:
            job = server.queue().job(key)
            with context:
                if job is None or steps_job.value is None or steps_job.value[0] != key:
                    return
                steps_view.set((job.status(), job.progress(), job.done))
                if not job.active:
                    return
            time.sleep(POLL_SECONDS)

    threading.Thread(target=loop, daemon=True, name=f"follow-{key}").start()


@guarded
def start_steps(language: str) -> None:
    scenario = draft.value.scenario()
    try:
        steps = read_steps(steps_text.value, scenario, steps_lever.value, language)
        job = submit_steps(server.queue(), scenario, steps_lever.value, steps, solara.get_session_id())
    except (StepsInputError, QueueFull) as e:
        steps_error.set(str(e))
        return
    steps_error.set("")
    steps_job.set((job.key, shown.value, str(job.folder), job.total))
    steps_view.set((job.status(), job.progress(), job.done))
    if job.active:
        follow_steps(job.key)


@solara.component
def StepsPanel(language: str):
    levers = {lever_catalogue()[k].label(language): k for k in step_levers()}
    current = next((label for label, k in levers.items() if k == steps_lever.value), None)
    with solara.Card(t("steps_heading", language), classes=["steps-panel"]):
        solara.Text(t("steps_help", language), style={"color": "#666", "font-size": "0.85em"})
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(
                t("steps_lever", language),
                values=list(levers),
                value=current,
                on_value=lambda label: steps_lever.set(levers[label]),
                classes=["steps-lever"],
                style={"min-width": "320px"},
            )
            solara.InputText(
                t("steps_by", language),
                value=steps_text.value,
                on_value=steps_text.set,
                continuous_update=True,
                classes=["steps-by"],
                style={"max-width": "240px"},
            )
            asked = steps_job.value
            status, progress, done = steps_view.value
            going = asked is not None and status in ("queued", "running")
            solara.Button(
                t("steps_run", language),
                on_click=lambda: start_steps(language),
                color="primary",
                disabled=going,
                classes=["steps-run"],
            )
            if going:
                solara.Button(
                    t("cancel", language),
                    on_click=guarded(lambda: getattr(server.queue().job(asked[0]), "cancel", lambda: None)()),
                    classes=["steps-cancel"],
                )
        if steps_error.value:
            solara.Error(steps_error.value, classes=["steps-error"])
        if asked is None or asked[1] != shown.value:  # nothing asked of the results shown
            return
        key, _, folder, total = asked
        if going:
            solara.ProgressLinear(value=100 * progress if status == "running" else True, classes=["steps-progress"])
            text = t("queued", language) if status == "queued" else t("steps_running", language, done=done, total=total)
            solara.Text(text, classes=["steps-status"])
        elif status == "failed":
            job = server.queue().job(key)
            solara.Error(t("failed", language, error=job.error if job else ""), classes=["steps-status"])
        elif status == "cancelled":
            solara.Warning(t("cancelled", language), classes=["steps-status"])
        elif (Path(folder) / "steps.csv").is_file():
            StepsAnswer(folder, language)


@solara.component
def StepsAnswer(folder: str, language: str):
    frame = pd.read_csv(Path(folder) / "steps.csv")
    record = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    solara.HTML("div", steps_html(frame, record, language), classes=["steps-table"])
    image = Path(folder) / f"steps_{language}.png"
    if image.is_file():
        solara.Image(image.read_bytes(), width="860px", classes=["steps-chart"])
    stem = f"{record['scenario']['name']}_steps"
    with solara.Row(classes=["steps-downloads"]):
        solara.FileDownload((Path(folder) / "steps.csv").read_bytes(), filename=f"{stem}.csv", label="CSV")
        if image.is_file():
            solara.FileDownload(image.read_bytes(), filename=f"{stem}_{language}.png", label="PNG")


def steps_html(frame: pd.DataFrame, record: dict, lang: str) -> str:
    """``sim steps``' table as HTML: each target (and the plan's cost) at the plan and each step."""
    from sim.outputs.formats import shown as shown_value
    from sim.outputs.labels import labels
    from sim.outputs.steps_chart import change_text, measure_label, measure_unit

    S = labels(lang)["steps"]
    lever = lever_catalogue()[record["lever"]].label(lang)
    head = "".join(f"<th>{html.escape(S['columns'][c])}</th>" for c in ("measure", "step", "value", "change", "p_met"))
    rows = []
    for measure in dict.fromkeys(frame.measure):
        unit = measure_unit(measure)
        for i, row in enumerate(frame[frame.measure == measure].itertuples()):
            p = "-" if pd.isna(row.p_met) else f"{row.p_met:.0%}"
            if row.step != "plan" and not pd.isna(row.p_met):
                p += f" ({row.p_met_change * 100:+.0f})"
            cells = (
                S["measure_year"].format(measure=measure_label(measure, lang), year=row.year) if i == 0 else "",
                S["plan"] if row.step == "plan" else row.step,
                shown_value(row.value, unit),
                "" if row.step == "plan" else change_text(row.change, unit),
                p,
            )
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    title = html.escape(S["title"].format(lever=lever))
    table = f'<table class="targets steps"><tr>{head}</tr>{"".join(rows)}</table>'
    return f'<div style="font-weight: 500">{title}</div>{table}'
