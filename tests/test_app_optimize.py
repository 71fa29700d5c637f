"""The app's "Find a plan" jobs (sim/app/optimize_jobs.py) without a browser: a search on the app's queue writes
what `sim optimize` writes, stored by its problem in RUNS/app/optimize/<key>/ and reused, under the server's
limits (its budget checked before any work); Cancel keeps the runs done and the same search asked again goes on
from them; the cheapest plan opens as an uploaded scenario, naming no file of the server."""

import json
import time

import pandas as pd
import pytest

from sim.analysis.executors import LocalProcesses
from sim.analysis.optimize import RUNS
from sim.analysis.sweep import RunStore
from sim.app.drafts import Draft, Places, save_upload
from sim.app.jobs import QueueFull, RunQueue
from sim.app.optimize_jobs import budgets, submit_search
from sim.app.texts import t

# Tianjin's plan with two targets for 2022: the search is cut there (two simulated years a run)
TARGETS = (
    "targets=[{indicator: beds_total, value: 80000, year: 2022}, {indicator: nursing_share, value: 0.5, year: 2022}]"
)


@pytest.fixture(scope="module")
def executor():
    with LocalProcesses(2) as workers:
        yield workers


def plan():
    return Draft("scenario:tianjin-14th-fyp", (TARGETS,)).scenario()


def wait_for(job) -> None:
    while job.active:  # the job's own end: its thread has written everything or stopped
        job.thread.join(0.1)


def test_budgets_offered_are_within_the_servers_limit():
    assert budgets(5000) == [200, 1000, 3000]
    assert budgets(500) == [200, 500]
    assert budgets(8) == [8]


def test_a_search_stores_what_sim_optimize_writes_by_its_problem_and_reuses_it(tmp_path, executor):
    queue = RunQueue(tmp_path, executor, per_user=1, max_search_runs=8)
    with pytest.raises(QueueFull, match="runs = 9: a search on this server spends at most 8"):
        submit_search(queue, plan(), 9, "ana")
    assert not (tmp_path / "app" / "optimize").exists()  # refused before any work
    job = submit_search(queue, plan(), 8, "ana")
    assert submit_search(queue, plan(), 8, "ben") is job  # asked twice: searched once
    with pytest.raises(QueueFull, match="at most 1 at once"):  # the user's runs and searches count together
        queue.submit(Draft("region:shengzhou", ("seed=8",)).scenario(), "ana", [], [])
    wait_for(job)
    assert job.state == "done", job.error
    assert job.folder.parent == tmp_path / "app" / "optimize" and job.folder.name.startswith("search-")
    names = {p.name for p in job.folder.iterdir()}
    assert {"manifest.json", "front.csv", "cheapest.yaml", "evaluations.csv", "verified.csv", "charts"} <= names
    assert {p.name for p in (job.folder / "charts" / "zh").iterdir()} == {"front.png", "schedules.png"}
    manifest = json.loads((job.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest["runs"]["search"] <= 8
    front = pd.read_csv(job.folder / "front.csv")
    assert not front.empty and (front.verification == "verified").any()
    assert job.done == manifest["runs"]["search"] + manifest["runs"]["verification"]

    # stored: done at once, no run, even for a user with no room left for a new job
    running = queue.submit(Draft("region:shengzhou", ("seed=9", "replicates=1")).scenario(), "ana", [], [])
    again = submit_search(queue, plan(), 8, "ana")
    assert again.state == "done" and again.folder == job.folder and again.done == 0
    queue.cancel(running.key)
    while running.active:
        time.sleep(0.05)

    # the cheapest plan opened as a scenario: an upload of this server, named by key, naming no file here
    text = (job.folder / "cheapest.yaml").read_text(encoding="utf-8")
    assert str(tmp_path) not in text and "observed: null" in text
    opened = save_upload(text.encode(), "cheapest.yaml", Places(uploads=tmp_path / "app" / "uploads"))
    assert opened.source.startswith("upload:") and opened.query() == f"from=upload%3A{opened.source[7:]}"
    scenario = opened.scenario()
    cheapest = front[front.plan == manifest["cheapest_plan"]].iloc[0]
    assert scenario.policy.beds.total.to == cheapest["policy.beds.total"] >= 80000
    assert scenario.horizon == 2022 and scenario.replicates == cheapest["runs"]


def test_cancel_keeps_the_runs_done_and_the_search_asked_again_goes_on_from_them(tmp_path, executor):
    queue = RunQueue(tmp_path, executor, max_search_runs=40)
    job = submit_search(queue, plan(), 40, "ana")
    while job.active and not job.done:  # the first runs stored
        job.thread.join(0.05)
    job.cancel()
    assert job.status() in ("stopping", "cancelled")
    wait_for(job)
    assert job.state == "cancelled" and job.error == "" and job.done < job.total
    manifest = json.loads((job.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "running"
    stored = len(RunStore(job.folder / RUNS, []).read())
    assert stored >= 1

    resumed = submit_search(queue, plan(), 40, "ana")
    assert resumed is not job and resumed.folder == job.folder
    wait_for(resumed)
    assert resumed.state == "done", resumed.error
    manifest = json.loads((job.folder / "manifest.json").read_text(encoding="utf-8"))
    assert [s["runs_stored_before"] for s in manifest["sessions"]] == [0, stored]
    assert manifest["status"] in ("complete", "infeasible")


def test_every_word_of_the_page_is_in_english_and_chinese():
    for key in ("tab_plan", "plan_run", "plan_open", "plan_no_targets", "plan_cancelled", "plan_budget"):
        en, zh = t(key, "en", name="x"), t(key, "zh", name="x")
        assert en and zh and en != zh
    assert t("plan_no_targets", "zh", name="tianjin-baseline").startswith("tianjin-baseline没有规划目标")


def test_a_search_no_plan_can_meet_says_so_with_the_best_probability_in_the_pages_language(tmp_path, executor):
    from sim.outputs.optimize_report import texts

    unmeetable = TARGETS.replace("value: 0.5", "value: 1.5")  # a share above 1: beyond the lever's range
    queue = RunQueue(tmp_path, executor, max_search_runs=4)
    job = submit_search(queue, Draft("scenario:tianjin-14th-fyp", (unmeetable,)).scenario(), 4, "ana")
    wait_for(job)
    assert job.state == "done", job.error
    assert json.loads((job.folder / "manifest.json").read_text(encoding="utf-8"))["status"] == "infeasible"
    assert not (job.folder / "cheapest.yaml").exists()
    assert texts(job.folder, "en") == [
        "No plan within the ranges meets every target with P ≥ 80%: the best found reaches 0% for its least-met target."
    ]
    assert texts(job.folder, "zh")[0].startswith("在给定范围内没有方案能以不低于80%的概率达成全部目标")
