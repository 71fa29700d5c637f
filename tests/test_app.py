"""The app's parts without a browser: drafts (the same scenarios and messages as the command line), the
run queue (the same results as `sim run`, stored by content, Cancel that stops the work, per-user limits),
uploads and the `sim app` options."""

import io
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.executors import LocalProcesses
from sim.app.drafts import Draft, Places, save_upload
from sim.app.jobs import QueueFull, RunQueue, content_key
from sim.cli import app
from sim.common.errors import ScenarioError
from sim.results.runs import run_scenario

ROOT = Path(__file__).resolve().parents[1]
PLACES = Places(scenarios=ROOT / "scenarios")
PLAN = "scenario:tianjin-14th-fyp"


def test_a_draft_is_the_command_lines_scenario_and_message():
    from sim.scenario.files import load_what_if

    draft = Draft(PLAN, (), PLACES).with_change("policy.beds.total", "{2025: 130000}").with_change("replicates", "2")
    cli = load_what_if(ROOT / "scenarios" / "tianjin-14th-fyp.yaml", list(draft.changes))
    assert draft.scenario() == cli
    assert draft.scenario().name == cli.name != "tianjin-14th-fyp"
    assert draft.command()[-4:] == ["--set", "policy.beds.total={2025: 130000}", "--set", "replicates=2"]
    # a change back to the file's value is no change: the draft is the plan again
    assert Draft(PLAN, (), PLACES).with_change("policy.beds.nursing_share", "{2025: 0.6}").changes == ()
    with pytest.raises(ScenarioError) as refused:
        draft.with_change("policy.beds.total", "{2025: -5}").scenario()
    assert (
        str(refused.value)
        == "scenarios/tianjin-14th-fyp.yaml: policy.beds.total = {2025: -5}: must be >= 0 in every year"
    )
    assert "\n" not in str(refused.value)
    reopened = Draft.from_query(draft.query(), PLACES)
    assert reopened == draft and reopened.scenario() == draft.scenario()


def test_uploads_are_checked_like_files(tmp_path):
    good = b"region: shengzhou\nname: mine\npolicy: {beds: {total: {2025: 3000}}}\n"
    draft = save_upload(good, "mine.yaml", Places(uploads=tmp_path))
    assert draft.scenario().name == "mine" and draft.scenario().policy.beds.total == {2025: 3000.0}
    assert (
        save_upload(good, "again.yaml", Places(uploads=tmp_path)) == draft
    )  # the same content: the same stored upload
    refused = {
        b"region: paris\n": "mine.yaml: region = 'paris': unknown region",
        b"region: shengzhou\nregion: tianjin\n": "key 'region' is given twice",
        b"region: [\n": "mine.yaml: not valid YAML",
        b"": "the file is empty",
        b"region: my-city.yaml\n": "files cannot be followed from an upload",
        b"region: tianjin\nobserved: /etc/passwd\n": "observed = '/etc/passwd': an uploaded scenario names packaged",
        b"region: tianjin\ncalibration: ../../fit.yaml\n": "calibration = '../../fit.yaml'",
        b"\xff\xfe": "not UTF-8",
    }
    for data, message in refused.items():
        with pytest.raises(ScenarioError) as e:
            save_upload(data, "mine.yaml", Places(uploads=tmp_path))
        assert message in str(e.value) and "\n" not in str(e.value)
    assert len(list(tmp_path.glob("*.yaml"))) == 1  # nothing refused was kept


def test_the_queue_makes_the_same_run_as_sim_run_and_stores_it_by_content(tmp_path):
    scenario = Draft("region:shengzhou", ("replicates=2", "seed=7")).scenario()
    with LocalProcesses(2) as executor:
        queue = RunQueue(tmp_path, executor, per_user=1)
        job = queue.submit(scenario, "ana", ["sim", "run"], [])
        assert queue.submit(scenario, "ben", ["sim", "run"], []) is job  # asked twice: run once
        with pytest.raises(QueueFull, match="at most 1 at once"):
            queue.submit(Draft("region:shengzhou", ("seed=8",)).scenario(), "ana", [], [])
        while job.active:
            time.sleep(0.05)
        assert job.state == "done", job.error
        assert job.folder == tmp_path / "app" / content_key(scenario)
        again = queue.submit(scenario, "ana", [], [])
        assert again.state == "done" and again.folder == job.folder  # reopened: no run
    app_results = pd.read_parquet(job.folder / "results.parquet")
    cli_results = run_scenario(scenario).results
    pd.testing.assert_frame_equal(app_results, cli_results)
    assert (job.folder / "manifest.json").is_file() and (job.folder / "charts" / "en").is_dir()
    assert not (tmp_path / "app" / ".jobs" / job.key).exists()


def test_cancel_stops_the_running_replicates_and_stores_nothing(tmp_path):
    # Tianjin at one agent per person: about 5 s a replicate on this machine, 4 replicates on 2 workers
    scenario = Draft("region:tianjin", ("replicates=4",)).scenario()
    with LocalProcesses(2) as executor:
        queue = RunQueue(tmp_path, executor)
        job = queue.submit(scenario, "ana", [], [])
        while job.progress() < 0.05:
            time.sleep(0.05)
        assert job.status() == "running"
        queue.cancel(job.key)
        while job.active:  # an event, however busy the machine: the job has ended
            time.sleep(0.05)
        assert job.state == "cancelled" and job.error == ""
        # the running replicates stopped at their next year rather than finishing theirs, and the queued ones
        # never started: not one of the four replicates (several seconds each) ran to its end
        assert job.replicates_done == 0
        assert queue.stored(job.key) is None and not job.folder.exists()
        assert not job.job_dir.exists()
        # the workers are free again: a small run goes through at once
        small = queue.submit(Draft("region:shengzhou").scenario(), "ana", [], [])
        while small.active:
            time.sleep(0.05)
        assert small.state == "done"


def test_sim_app_refuses_bad_options_in_one_line(tmp_path):
    runner = CliRunner()
    cases = {
        ("--port", "0"): "--port = 0: must be from 1 to 65535",
        ("--workers", "0"): "--workers = 0: must be at least 1",
        ("--scenarios", str(tmp_path / "none")): "not a folder",
        ("--runs", str(tmp_path / "a" / "b")): "not a writable folder",
    }
    for args, message in cases.items():
        result = runner.invoke(app, ["app", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_downloads_are_the_files_the_commands_write(tmp_path):
    """Charts, report, tables and scenario as the app offers them, read back with the libraries users open
    them with."""
    import docx
    import openpyxl
    import yaml
    from pypdf import PdfReader

    from sim.app import downloads
    from sim.results.folder import Run
    from sim.results.runs import write_run

    draft = Draft("region:shengzhou", ("replicates=2", "policy.beds.total={2025: 3000}"))
    draft = draft.with_change("targets", "[{indicator: beds_total, value: 3000, year: 2025}]")
    run = Run.load(write_run(run_scenario(draft.scenario()), tmp_path / "run"))
    assert downloads.chart_file([run], "demand_capacity", "png", "zh")[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in downloads.chart_file([run], "occupancy", "svg", "en")[:400]
    pdf = downloads.report_file([run], "pdf", "zh")
    assert "主要指标" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    word = docx.Document(io.BytesIO(downloads.report_file([run], "docx", "en")))
    assert any(p.text == "Key indicators" for p in word.paragraphs)
    book = openpyxl.load_workbook(io.BytesIO(downloads.table_file([run], "xlsx", "en")))
    assert len(book.sheetnames) >= 3
    summary = pd.read_csv(io.BytesIO(downloads.table_file([run], "csv", "en")))
    assert {"indicator", "year", "mean", "p05", "p25", "p50", "p75", "p95", "replicates", "spread"} <= set(
        summary.columns
    )
    # the scenario file runs as the same scenario from the command line
    path = tmp_path / "s.yaml"
    path.write_bytes(downloads.scenario_file(draft.raw() | {"name": draft.scenario().name}))
    from sim.scenario.files import load_what_if

    assert load_what_if(path, []) == draft.scenario()
    assert yaml.safe_load(path.read_text())["policy"]["beds"]["total"] == {2025: 3000}
    # the targets carry the chance of meeting each, over the replicates
    assert 0.0 <= run.targets["share_met"].iloc[0] <= 1.0
