"""Running: Run queues the draft on the server's one queue, a thread bound to the session follows the job's
progress, Cancel stops it."""

from __future__ import annotations

import threading
import time

import solara

from sim.app import server
from sim.app.jobs import QueueFull
from sim.app.state import (
    POLL_SECONDS,
    draft,
    guarded,
    job_key,
    job_view,
    notice,
    show,
    shown,
)
from sim.app.texts import t


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
