"""The "Find a plan" page: for the scenario being edited, the search for the cheapest plan meeting its targets
(``sim.analysis.plan_search``: which levers, targets and objectives, said before it runs), a budget within the
server's limits, one button, progress and Cancel; then what the search found in words, the Pareto front (chart
and table, in the report's words), the downloads, and the cheapest plan opened as a scenario in one click (stored
as an upload, so that its link names it by key). The search goes on the server's queue (``optimize_jobs``)."""

from __future__ import annotations

import functools
import html
import json
import threading
import time
from pathlib import Path

import solara

from sim.analysis.plan_search import MOST_REPLICATES, plan_problem
from sim.analysis.problem import Problem, ProblemError
from sim.app import server
from sim.app.drafts import Draft
from sim.app.jobs import QueueFull
from sim.app.optimize_jobs import budgets, submit_search
from sim.app.state import POLL_SECONDS, draft, guarded, places, tab
from sim.app.texts import t
from sim.catalogues.indicators import catalogue
from sim.catalogues.levers import lever_catalogue
from sim.common.errors import ScenarioError
from sim.outputs.formats import shown
from sim.outputs.labels import labels

plan_budget = solara.reactive(0)  # the runs chosen (0: the smallest offered)
plan_error = solara.reactive("")  # why the search was refused, one line under the button
plan_job = solara.reactive(None)  # (job key, the draft it was asked for, its folder, its runs at most)
plan_view = solara.reactive(("", 0.0, 0, 0.0))  # the job's status, progress, runs done and seconds, as last seen


def follow_search(key: str) -> None:
    """Keep this session's view of a search up to date until it ends (as ``running.follow`` does a run's)."""
    from solara.server import kernel_context

    context = kernel_context.get_current_context()

    def loop() -> None:
        while True:
            job = server.queue().job(key)
            with context:
                if job is None or plan_job.value is None or plan_job.value[0] != key:
                    return
                plan_view.set((job.status(), job.progress(), job.done, job.seconds))
                if not job.active:
                    return
            time.sleep(POLL_SECONDS)

    threading.Thread(target=loop, daemon=True, name=f"follow-{key}").start()


def chosen_budget() -> int:
    offered = budgets(server.queue().max_search_runs)
    return plan_budget.value if plan_budget.value in offered else offered[0]


@guarded
def start_search() -> None:
    d = draft.value
    try:
        job = submit_search(server.queue(), d.scenario(), chosen_budget(), solara.get_session_id())
    except (QueueFull, ProblemError, ScenarioError) as e:
        plan_error.set(str(e))
        return
    plan_error.set("")
    plan_job.set((job.key, d, str(job.folder), job.total))
    plan_view.set((job.status(), job.progress(), job.done, 0.0))
    if job.active:
        follow_search(job.key)


@guarded
def open_plan(folder: str) -> None:
    """The cheapest plan as the scenario being edited: stored as an upload (checked as one), opened by its key."""
    from sim.app.drafts import save_upload
    from sim.app.editing import open_draft

    path = Path(folder) / "cheapest.yaml"
    try:
        opened = save_upload(path.read_bytes(), path.name, places())
    except ScenarioError as e:
        plan_error.set(str(e))
        return
    open_draft(opened)
    tab.set(0)


@solara.component
def PlanTab(language: str):
    d = draft.value
    if d is None:
        solara.Info(t("plan_pick", language), classes=["plan-status"])
        return
    scenario = d.scenario()
    if not scenario.targets:
        solara.Info(t("plan_no_targets", language, name=scenario.name), classes=["plan-no-targets"])
        return
    queue = server.queue()
    try:
        problem = problem_of(d, chosen_budget(), min(queue.max_replicates, MOST_REPLICATES))
    except ProblemError as e:
        solara.Error(str(e), classes=["plan-error"])
        return
    with solara.Card(t("tab_plan", language), classes=["plan-panel"]):
        PlanProblem(problem, language)
        offered = budgets(queue.max_search_runs)
        names = {t("plan_runs", language, runs=runs): runs for runs in offered}
        asked = plan_job.value
        status, progress, done, seconds = plan_view.value
        going = asked is not None and status in ("queued", "running", "stopping")
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(
                t("plan_budget", language),
                values=list(names),
                value=next(name for name, runs in names.items() if runs == chosen_budget()),
                on_value=lambda name: plan_budget.set(names[name]),
                classes=["plan-budget"],
                style={"min-width": "220px", "max-width": "320px"},
            )
            solara.Button(
                t("plan_run", language), on_click=start_search, color="primary", disabled=going, classes=["plan-run"]
            )
            if going:
                solara.Button(
                    t("cancel", language),
                    on_click=guarded(lambda: getattr(server.queue().job(asked[0]), "cancel", lambda: None)()),
                    disabled=status == "stopping",
                    classes=["plan-cancel"],
                )
        if plan_error.value:
            solara.Error(plan_error.value, classes=["plan-error"])
        if asked is None or asked[1] != d:  # nothing asked of the scenario being edited
            return
        key, _, folder, total = asked
        if going:
            solara.ProgressLinear(value=100 * progress if status != "queued" else True, classes=["plan-progress"])
            words = {"queued": t("queued", language), "stopping": t("plan_stopping", language)}
            solara.Text(words.get(status, t("plan_running", language, done=done, total=total)), classes=["plan-status"])
        elif status == "failed":
            job = server.queue().job(key)
            solara.Error(t("plan_failed", language, error=job.error if job else ""), classes=["plan-status"])
        elif status == "cancelled":
            solara.Warning(t("plan_cancelled", language), classes=["plan-status"])
        elif (Path(folder) / "front.csv").is_file():
            done_words = t("done", language, seconds=seconds) if seconds else t("plan_stored", language)
            solara.Success(done_words, classes=["plan-status"])
            Found(folder, language)


@functools.lru_cache(maxsize=32)
def problem_of(d: Draft, runs: int, most: int) -> Problem:
    """The search a draft asks for (built once per draft and budget: the page is drawn often)."""
    return plan_problem(d.scenario(), runs, most)


@solara.component
def PlanProblem(problem: Problem, language: str):
    """What the search will do, before it runs: its levers, targets and objectives in the catalogues' words."""
    W = labels(language)["optimize"]
    spec = problem.spec
    p, year, scale = spec.constraints.probability, problem.base.horizon, problem.base.scale
    solara.Text(t("plan_help", language, p=p, year=year, scale=scale), style={"color": "#666", "font-size": "0.85em"})
    levers = [lever_catalogue()[d.key].label(language) for d in problem.decisions]
    direction = {"at_least": "≥", "at_most": "≤"}
    targets = []
    for x in problem.targets:
        found = catalogue().target(x.indicator)
        value = shown(x.value, catalogue()[found.indicator].unit)
        targets.append(f"{found.labels[language]} {direction[x.direction]} {value} ({x.year})")
    judged = [
        W["statistic"][o.statistic].format(
            name=catalogue().describe(o.indicator, language, group=o.group), year=o.year, quantile=o.quantile
        )
        for o in spec.objectives
    ]
    rows = [("plan_levers", levers), ("plan_targets", targets), ("plan_objectives", judged)]
    colon, semicolon = ("：", "；") if language == "zh" else (": ", "; ")
    solara.HTML(
        "div",
        "".join(
            f"<div><b>{html.escape(t(key, language))}</b>{colon}{html.escape(semicolon.join(items))}</div>"
            for key, items in rows
        ),
        classes=["plan-problem"],
    )


@solara.component
def Found(folder: str, language: str):
    """The search's findings (the report's words and table), the front's chart, the cheapest plan, downloads."""
    from sim.outputs.optimize_report import front_table, read_table, texts

    where = Path(folder)
    manifest = json.loads((where / "manifest.json").read_text(encoding="utf-8"))
    lines = texts(where, language)
    cheapest = manifest.get("cheapest_plan")
    for i, line in enumerate(lines):
        if manifest.get("status") == "infeasible" and i == 0:
            solara.Warning(line, classes=["plan-infeasible"])
        else:
            solara.Text(line, classes=["plan-findings"])
    image = where / "charts" / language / "front.png"
    if image.is_file():
        solara.Image(image.read_bytes(), width="860px", classes=["plan-chart"])
    front = front_table(where, language) if not read_table(where / "front.csv").empty else None
    if front is not None:
        R = labels(language)["optimize_report"]
        solara.HTML("div", f'<div style="font-weight: 500">{html.escape(R["front"])}</div>')
        solara.HTML("div", front.to_html(index=False, classes="targets plan-front", escape=True))
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, classes=["plan-cheapest"]):
        if cheapest is not None and (where / "cheapest.yaml").is_file():
            solara.Text(t("plan_cheapest", language, plan=cheapest), style={"font-weight": "500"})
            solara.Button(
                t("plan_open", language), on_click=lambda: open_plan(folder), color="primary", classes=["plan-open"]
            )
        elif front is not None:
            solara.Warning(t("plan_none_verified", language))
    with solara.Row(classes=["plan-downloads"]):
        stem = manifest["name"]
        solara.FileDownload((where / "front.csv").read_bytes(), filename=f"{stem}_front.csv", label="front.csv")
        if (where / "cheapest.yaml").is_file():
            data = (where / "cheapest.yaml").read_bytes()
            solara.FileDownload(data, filename=f"{stem}_cheapest.yaml", label="cheapest.yaml")
