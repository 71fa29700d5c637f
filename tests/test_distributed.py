"""A real distributed run: a Dask scheduler and worker processes started the way users start them (the `dask`
command, on 127.0.0.1), with nannies and without (`--no-nanny`). A worker is killed with SIGKILL at each
moment one can be lost: while the client checks the workers' code, with a task in hand, holding a result the
client has not fetched yet, and once the work is done (the manifest written after); the sweep, the evaluation
and the calibration give the same results as local processes. A nanny restarts the worker it watches. With
no worker left, `sim sweep` stops in one line (exit code 2) and `--resume` finishes the sweep. A worker
running other code than the client is refused in one line.

Every kill is set off by an event, never after some seconds: workers load tests/dask_hold.py, which holds a
worker at the moment a test names until the test kills (or releases) it; other events are a part stored in
the sweep's runs/ folder and a result the scheduler says a worker holds. Waits have generous bounds that
only guard against a hang."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.analysis.executors import DaskCluster, ExecutorError
from sim.analysis.experiment import load_experiment
from sim.analysis.sweep import run_sweep
from sim.cli import app

DASK = str(Path(sys.executable).parent / "dask")
HOLD = ROOT / "tests" / "dask_hold.py"
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
HANG = 120  # seconds: the bound of every wait, only there to end a test that would hang
runner = CliRunner()
# Shengzhou's plan with 20,000 persons aged 60+ (a few hundredths of a second a run): 20 points, 40 runs
QUICK = {
    "name": "quick",
    "scenario": str(PLAN),
    "set": {"horizon": 2026, "data.population_60plus": 20000},
    "replicates": 2,
    "method": {"name": "morris", "trajectories": 4},
    "factors": [
        {"key": "policy.beds.total.2024", "range": [3000, 6000]},
        {"key": "policy.insurance.start_year", "type": "int", "range": [2021, 2025]},
        {"key": "policy.insurance.eligible_from", "levels": ["moderate", "severe", "total"]},
        {"key": "data.parameters.burden_limit", "range": [1.2, 2.0]},
    ],
    "outcomes": [
        {"name": "unmet_hours_2026", "indicator": "care_hours", "group": "unmet", "year": 2026},
        {"name": "occupancy_2026", "indicator": "occupancy", "year": 2026},
    ],
}


def _wait(condition, what: str, seconds: float = HANG) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def _address(file: Path) -> str | None:
    try:
        return json.loads(file.read_text())["address"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None  # not written yet, or not whole


class Cluster:
    """`dask scheduler` and `dask worker` processes (one thread each; with nannies or not), the workers loaded
    with tests/dask_hold.py; a client of its own to watch the scheduler."""

    def __init__(self, folder: Path, nanny: bool):
        self.folder, self.nanny = folder, nanny
        self.holds = folder / "holds"
        self.holds.mkdir(parents=True)
        self.procs: list[subprocess.Popen] = []
        file = folder / "scheduler.json"
        self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(file)])
        _wait(lambda: _address(file) is not None, "the scheduler did not start")
        self.address = _address(file)
        from dask.distributed import Client

        self.client = Client(self.address, timeout=30)

    def _start(self, command: list[str]) -> None:
        env = {**os.environ, "SIM_TEST_HOLD": str(self.holds), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs.append(subprocess.Popen([*command, "--no-dashboard"], cwd=self.folder, env=env, **quiet))

    def start_workers(self, n: int) -> None:
        before = len(self.workers())
        command = [DASK, "worker", self.address, "--nthreads", "1", "--host", "127.0.0.1", "--preload", str(HOLD)]
        for _ in range(n):
            self._start(command if self.nanny else [*command, "--no-nanny"])
        _wait(lambda: len(self.workers()) == before + n, "the workers did not join")

    def workers(self) -> set[str]:
        return set(self.client.nthreads())

    def pids(self) -> dict[str, int]:
        """Each worker's process (with a nanny: the worker the nanny started)."""
        return self.client.run(os.getpid)

    def hold(self, moment: str, after: int = 0) -> None:
        """The first worker to reach ``moment`` (past ``after`` calls) stops there: see tests/dask_hold.py."""
        (self.holds / moment).write_text(str(after))

    def held(self, moment: str) -> dict:
        """The worker held at ``moment`` (pid, address), once one is."""
        file = self.holds / f"{moment}.held"
        _wait(file.exists, f"no worker reached {moment}")
        return json.loads(file.read_text())

    def release(self, moment: str) -> None:
        (self.holds / f"{moment}.held").unlink()

    def kill(self, pid: int, address: str) -> str:
        """SIGKILL a worker process; returns once the scheduler has noticed."""
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: address not in self.workers(), f"the scheduler kept {address} after its kill")
        return address

    def kill_when_held(self, moment: str) -> threading.Thread:
        """A thread that kills the worker held at ``moment`` (its address in ``thread.killed``)."""

        def kill() -> None:
            held = self.held(moment)
            thread.killed = self.kill(held["pid"], held["address"])

        thread = threading.Thread(target=kill, daemon=True)
        thread.killed = None
        thread.start()
        return thread

    def after_kill(self, killed: str, workers: int) -> None:
        """The killed worker is gone; with a nanny, it is back under another address and answers the client's
        code check."""
        assert killed not in self.workers()
        if self.nanny:
            _wait(lambda: len(self.workers()) == workers, "the nanny did not restart the killed worker")
            with DaskCluster(self.address) as again:
                assert again.workers == workers

    def close(self) -> None:
        self.client.close()
        for p in self.procs:
            p.kill()
            p.wait()


@pytest.fixture(params=[False, True], ids=["no-nanny", "nanny"])
def cluster(request, tmp_path):
    if not Path(DASK).exists():
        pytest.fail("the dask command is not installed with the package")
    c = Cluster(tmp_path / "cluster", nanny=request.param)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture()
def bare_cluster(tmp_path):
    """A scheduler without workers, without nannies."""
    c = Cluster(tmp_path / "cluster", nanny=False)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    path = tmp_path_factory.mktemp("quick") / "quick.yaml"
    path.write_text(yaml.safe_dump(QUICK, sort_keys=False))
    return load_experiment(path)


@pytest.fixture(scope="module")
def local_sweep(quick, tmp_path_factory):
    return run_sweep(quick, tmp_path_factory.mktemp("local") / "sweep", workers=2)


def _same_sweep(a, b) -> None:
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(a.indices, b.indices, check_exact=True)


# --- a worker lost at any moment -----------------------------------------------------------------------
@pytest.mark.parametrize("moment", ["check", "task", "result", "end"])
def test_a_sweep_that_loses_a_worker_gives_the_same_results(cluster, quick, local_sweep, tmp_path, moment):
    """check: while it answers the client's code check; task: with a task in hand; result: holding results
    the client has not fetched (another worker held on a task, so that the work is not done, and the client
    held in its progress report, so that it fetches nothing); end: when every run is stored, before the
    manifest is written and the workers released."""
    cluster.start_workers(2)
    pids = cluster.pids()
    killed: list[str] = []

    def progress(done: int, total: int) -> None:
        if killed or done == 0:
            return
        if moment == "result":
            held = cluster.held("task")["address"]
            other = (cluster.workers() - {held}).pop()
            # two results on the other worker: the one just stored (not released yet) and one not fetched
            _wait(lambda: sum(other in w for w in cluster.client.who_has().values()) >= 2, "no result waiting")
            killed.append(cluster.kill(pids[other], other))
            cluster.release("task")
        elif moment == "end" and done == total:
            victim = sorted(cluster.workers())[0]
            killed.append(cluster.kill(pids[victim], victim))

    killer = None
    if moment in ("check", "task"):
        cluster.hold(moment)
        killer = cluster.kill_when_held(moment)
    elif moment == "result":
        cluster.hold("task")
    on_dask = run_sweep(quick, tmp_path / "dask", scheduler=cluster.address, progress=progress)
    if killer is not None:
        killer.join(HANG)
        killed.append(killer.killed)
    assert len(killed) == 1 and killed[0] is not None
    _same_sweep(local_sweep, on_dask)
    session = json.loads((tmp_path / "dask" / "manifest.json").read_text())["sessions"][0]
    assert session["workers"] == (1 if moment == "check" else 2)  # what the start found, whatever came after
    cluster.after_kill(killed[0], workers=2)


def test_an_evaluation_that_loses_a_worker_with_a_run_in_hand_gives_the_same_verdicts(cluster, tmp_path):
    observed = tmp_path / "observed.csv"
    observed.write_text("indicator,year,value,tolerance,source\noccupancy,2022,0.5,0.05,synthetic\n")
    args = ["evaluate", str(PLAN), "--observed", str(observed), "--as-of", "2022", "--replicates", "12"]
    args += ["--set", "horizon=2026", "--set", "targets.0.value=30", "--set", "data.population_60plus=20000"]
    local = runner.invoke(app, [*args, "--workers", "2", "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output

    cluster.start_workers(2)
    cluster.hold("evaluation", after=1)  # the second run a worker starts
    killer = cluster.kill_when_held("evaluation")
    on_dask = runner.invoke(app, [*args, "--scheduler", cluster.address, "--out", str(tmp_path / "dask")])
    killer.join(HANG)
    assert on_dask.exit_code == 0, on_dask.output
    assert killer.killed is not None
    a, b = (pd.read_csv(tmp_path / d / "evaluation.csv") for d in ("local", "dask"))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    cluster.after_kill(killer.killed, workers=2)


def test_a_calibration_that_loses_a_worker_gives_the_same_ensemble(tmp_path):
    from sim.analysis.fitting import CalibrationSpec, FitTarget, calibrate

    spec = CalibrationSpec(
        region="shengzhou",
        inherit="tianjin-2020",
        scale=1,
        replicates=1,
        check_replicates=2,
        parameters=[{"name": "choice_constant.private_home", "low": -5, "high": 2, "reason": "test"}],
        targets=[FitTarget(label="o", indicator="occupancy", year=2020, value=0.5, tolerance=0.08, source="test")],
        method={"seed": 3, "particles": 24, "moves": 2},
    )
    local = calibrate(spec, workers=2)
    cluster = Cluster(tmp_path / "cluster", nanny=False)
    try:
        cluster.start_workers(2)
        cluster.hold("calibration", after=3)
        killer = cluster.kill_when_held("calibration")
        on_dask = calibrate(spec, scheduler=cluster.address)
        killer.join(HANG)
        assert killer.killed is not None
    finally:
        cluster.close()
    assert on_dask.values == local.values
    assert on_dask.ensemble.equals(local.ensemble)


def test_describe_tells_what_the_start_found_without_asking_the_workers_again(bare_cluster):
    """The manifest is written with what the code check learned: a worker lost since cannot fail it."""
    from sim.results.runs import code_version

    bare_cluster.start_workers(2)
    pids = bare_cluster.pids()
    with DaskCluster(bare_cluster.address) as executor:
        victim = sorted(pids)[0]
        bare_cluster.kill(pids[victim], victim)

        def ask(*args, **kwargs):
            raise AssertionError("describe() asked the workers")

        executor.client.run = ask
        assert executor.describe() == {
            "executor": "dask",
            "scheduler": bare_cluster.address,
            "workers": 2,
            "worker_code": [code_version()],
        }
        assert list(executor.map(abs, [-3, -2, -1])) == [3, 2, 1]  # the other worker does the work


# --- no worker left ------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["sweep", "evaluate", "calibrate"])
def test_a_scheduler_without_workers_is_one_line_exit_2(bare_cluster, quick, tmp_path, monkeypatch, command):
    monkeypatch.setattr("sim.analysis.executors.WORKER_WAIT_SECONDS", 1)  # none will join: no need to wait
    observed = tmp_path / "observed.csv"
    observed.write_text("indicator,year,value,tolerance,source\noccupancy,2022,0.5,0.05,synthetic\n")
    args = {
        "sweep": ["sweep", str(quick.path)],
        "evaluate": ["evaluate", str(PLAN), "--observed", str(observed), "--replicates", "10"],
        "calibrate": ["calibrate", str(ROOT / "calibration" / "shengzhou-2020.yaml")],
    }[command]
    result = runner.invoke(app, [*args, "--scheduler", bare_cluster.address, "--out", str(tmp_path / "out")])
    address = bare_cluster.address
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"error: --scheduler = '{address}': no worker (none joined within 1 s); "
        f"start workers with `dask worker {address}` from this installation"
    )
    assert not (tmp_path / "out").exists()


# `sim` in a process of its own, so that all it prints is seen (Dask's logging too), waiting 1 s for a worker
SIM_WAITING_1_S = "import sys, sim.analysis.executors as e; e.WORKER_WAIT_SECONDS = 1; from sim.cli import app; app()"


def test_a_sweep_with_every_worker_gone_stops_in_one_line_and_resumes_to_the_same_results(
    bare_cluster, quick, local_sweep, tmp_path
):
    """The only worker killed with a task in hand after two were stored: `sim sweep` prints one line naming
    the scheduler and what to do, exit code 2, the finished runs kept; --resume with a worker back gives the
    same results."""
    bare_cluster.start_workers(1)
    out = tmp_path / "sweep"
    address = bare_cluster.address
    command = ["sweep", str(quick.path), "--out", str(out), "--chunk", "2", "--no-charts", "--scheduler", address]
    bare_cluster.hold("task", after=2)
    sweep = subprocess.Popen(
        [sys.executable, "-c", SIM_WAITING_1_S, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        held = bare_cluster.held("task")
        _wait(lambda: len(list((out / "runs").glob("part-*.parquet"))) == 2, "the first two tasks were not stored")
        bare_cluster.kill(held["pid"], held["address"])
        stdout, stderr = sweep.communicate(timeout=HANG)
    finally:
        sweep.kill()
    assert sweep.returncode == 2, stderr
    assert stdout == "" and [line for line in stderr.splitlines() if line.strip()] == [
        f"error: --scheduler = '{address}': no worker (none joined within 1 s); start workers with "
        f"`dask worker {address}` from this installation; the 4 finished runs are stored: continue with --resume"
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["sessions"][0]["error"].startswith("--scheduler = ")

    bare_cluster.start_workers(1)
    resumed = runner.invoke(app, [*command, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "(36 runs now, 40 in all" in resumed.output
    for name in ("outcomes.csv", "indices.csv"):
        assert (out / name).read_bytes() == (local_sweep.out / name).read_bytes(), name


# --- other code ----------------------------------------------------------------------------------------
def test_a_worker_running_other_code_is_refused_in_one_line(tmp_path):
    """A worker started from another copy of the package (not this checkout's commit) is refused before any
    run."""
    other = tmp_path / "other"
    shutil.copytree(ROOT / "sim", other / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(file), "--no-dashboard"],
        cwd=tmp_path,
        **quiet,
    )
    worker = None
    try:
        _wait(lambda: _address(file) is not None, "the scheduler did not start")
        address = _address(file)
        env = {**os.environ, "PYTHONPATH": str(other)}  # the other copy first on the worker's path
        worker = subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
            cwd=tmp_path,
            env=env,
            **quiet,
        )
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            _wait(lambda: len(client.nthreads()) == 1, "the worker did not join")
        with pytest.raises(ExecutorError) as refused:
            DaskCluster(address)
        message = str(refused.value)
        assert "\n" not in message and "runs other code than this client" in message
    finally:
        for p in (scheduler, worker):
            if p is not None:
                p.kill()
                p.wait()


# --- the app -------------------------------------------------------------------------------------------
def test_the_apps_runs_on_dask_are_sim_runs_and_cancel_stops_them(bare_cluster, tmp_path):
    """The app's queue over the Dask cluster: the same results as `sim run`, and Cancel stops the replicates
    running on the workers (they share this machine's folders, as a bureau's one-machine cluster does)."""
    from sim.app.drafts import Draft
    from sim.app.jobs import RunQueue
    from sim.results.runs import run_scenario

    bare_cluster.start_workers(2)
    scenario = Draft("region:shengzhou", ("replicates=2", "seed=5")).scenario()
    with DaskCluster(bare_cluster.address) as executor:
        queue = RunQueue(tmp_path, executor)
        job = queue.submit(scenario, "ana", [], [])
        _wait(lambda: not job.active, "the run did not finish")
        assert job.state == "done", job.error
        big = queue.submit(Draft("region:tianjin", ("replicates=4",)).scenario(), "ana", [], [])
        _wait(lambda: big.progress() > 0.05, "the big run did not start")
        asked = time.monotonic()
        queue.cancel(big.key)
        _wait(lambda: not big.active, "cancel did not stop the run", 30)
        assert big.state == "cancelled" and time.monotonic() - asked < 5.0
        assert queue.stored(big.key) is None
    pd.testing.assert_frame_equal(pd.read_parquet(job.folder / "results.parquet"), run_scenario(scenario).results)
