"""The app's "+N" jobs (sim/app/steps_jobs.py) without a browser: steps typed are read or refused in one line in
the user's language, and a job on the app's queue makes the same table as `sim steps`, stored by content, under
the queue's limits."""

import time

import pandas as pd
import pytest

from sim.analysis.executors import LocalProcesses
from sim.analysis.steps import run_steps
from sim.app.drafts import Draft
from sim.app.jobs import QueueFull, RunQueue
from sim.app.steps_jobs import StepsInputError, read_steps, submit_steps

TARGET = "targets=[{indicator: beds_total, value: 3000, year: 2022}]"
SMALL = ("replicates=2", "horizon=2022", "seed=5", TARGET)


def test_steps_typed_are_read_or_refused_in_one_line_in_the_users_language():
    plan = Draft("region:shengzhou", SMALL).scenario()
    steps = read_steps("+10%, -5%,+200", plan, "policy.beds.total", "en")
    assert [(s.text, s.amount, s.relative) for s in steps] == [
        ("+10%", 10, True),
        ("-5%", -5, True),
        ("+200", 200, False),
    ]
    refused = {
        ("ten", "en"): "step = ten: a step is +N or +N%",
        ("+0%", "zh"): "调整幅度 = +0%：应为 +N 或 +N%",
        ("", "en"): "steps: give at least one",
        ("+1%,+2%,+3%,+4%,+5%", "en"): "steps: 5 given; at most 4 here",
        ("-200%", "en"): "step = -200%: Care-home beds (all types) would leave its allowed range",
    }
    for (text, lang), message in refused.items():
        with pytest.raises(StepsInputError) as e:
            read_steps(text, plan, "policy.beds.total", lang)
        assert str(e.value).startswith(message) and "\n" not in str(e.value)
    one = Draft("region:shengzhou", ("replicates=1",)).scenario()
    with pytest.raises(StepsInputError, match="replicates = 1: steps need at least 2"):
        read_steps("+10%", one, "policy.beds.total", "en")


def test_a_steps_job_makes_the_table_of_sim_steps_stored_by_content_under_the_queues_limits(tmp_path):
    plan = Draft("region:shengzhou", SMALL).scenario()
    steps = read_steps("+10%, +500", plan, "policy.beds.total", "en")
    with LocalProcesses(2) as executor:
        queue = RunQueue(tmp_path, executor, per_user=1)
        job = submit_steps(queue, plan, "policy.beds.total", steps, "ana")
        assert submit_steps(queue, plan, "policy.beds.total", steps, "ben") is job  # asked twice: run once
        with pytest.raises(QueueFull, match="at most 1 at once"):  # the user's runs and steps count together
            queue.submit(Draft("region:shengzhou", ("seed=8",)).scenario(), "ana", [], [])
        while job.active:
            time.sleep(0.05)
        assert job.state == "done", job.error
        again = submit_steps(queue, plan, "policy.beds.total", steps, "ana")
        assert again.state == "done" and again.folder == job.folder  # stored: no run
    assert job.folder.parent == tmp_path / "app" / "steps"
    assert {p.name for p in job.folder.iterdir()} == {"steps.csv", "manifest.json", "steps_en.png", "steps_zh.png"}
    app = pd.read_csv(job.folder / "steps.csv")
    cli, _ = run_steps(plan, "policy.beds.total", steps, workers=1)
    assert list(app.step.unique()) == ["plan", "+10%", "+500"]
    pd.testing.assert_frame_equal(app[["step", "measure", "year"]], cli[["step", "measure", "year"]])
    for column in ("value", "change", "p_met"):
        assert app[column].to_numpy() == pytest.approx(cli[column].to_numpy(), rel=1e-5, nan_ok=True)


def test_cancel_stops_a_steps_job_and_stores_nothing(tmp_path):
    plan = Draft("region:shengzhou", ("replicates=6", "seed=9", TARGET.replace("2022", "2030"))).scenario()
    steps = read_steps("+10%, +20%", plan, "policy.beds.total", "en")
    with LocalProcesses(1) as executor:
        queue = RunQueue(tmp_path, executor)
        job = submit_steps(queue, plan, "policy.beds.total", steps, "ana")
        job.cancel()
        assert job.state == "cancelled" and not job.active
        job.thread.join()  # the runs already started have ended
        assert job.state == "cancelled" and job.error == ""
        assert not (job.folder / "steps.csv").exists()
        assert sum(f.cancelled() for f in job.futures) >= len(job.futures) - 2  # at most the started ones ran
