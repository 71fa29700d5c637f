"""A real distributed run: a Dask scheduler and two worker processes started the way users start them (the
`dask` command, on 127.0.0.1), one worker killed with SIGKILL mid-way; the sweep and the evaluation give the
same results as local processes. A worker running other code than the client is refused in one line."""

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

from sim.analysis.executors import DaskCluster, ExecutorError
from sim.analysis.experiment import load_experiment
from sim.analysis.sweep import run_sweep

DASK = str(Path(sys.executable).parent / "dask")
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
# runs of about half a second, so that a worker dies with work in hand
SLOW = {
    "name": "slow",
    "scenario": str(PLAN),
    "set": {"horizon": 2030, "parameter_sets": "point"},
    "replicates": 2,
    "method": {"name": "morris", "trajectories": 4},
    "factors": [
        {"key": "policy.beds.total.2024", "range": [3000, 6000]},
        {"key": "policy.insurance.start_year", "type": "int", "range": [2021, 2025]},
        {"key": "data.parameters.burden_limit", "range": [1.2, 2.0]},
    ],
    "outcomes": [
        {"name": "unmet_hours_2030", "indicator": "care_hours", "group": "unmet", "year": 2030},
        {"name": "occupancy_2030", "indicator": "occupancy", "year": 2030},
    ],
}


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.2)


@pytest.fixture()
def cluster(tmp_path):
    """`dask scheduler` and two `dask worker --no-nanny` processes (so that SIGKILL really loses a worker)."""
    if not Path(DASK).exists():
        pytest.fail("the dask command is not installed with the package")
    file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path}
    common = ["--no-dashboard"]
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(file), *common], **quiet
    )
    procs = [scheduler]
    try:
        _wait(file.exists, 60, "the scheduler did not start")
        address = json.loads(file.read_text())["address"]
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", *common],
                    env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
                    **quiet,
                )
            )
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            _wait(lambda: len(client.nthreads()) == 2, 60, "the workers did not join")
        yield address, procs[1:]
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _sweep_with_a_kill(experiment, out: Path, address: str, victim: subprocess.Popen):
    result: dict = {}

    def run():
        result["sweep"] = run_sweep(experiment, out, scheduler=address)

    thread = threading.Thread(target=run)
    thread.start()
    store = out / "runs"
    _wait(lambda: store.exists() and any(store.glob("*.parquet")), 120, "no run finished")
    victim.send_signal(signal.SIGKILL)  # a worker lost with its tasks in hand
    thread.join(timeout=600)
    assert not thread.is_alive()
    return result["sweep"]


def test_a_sweep_survives_a_killed_worker_with_the_same_results(cluster, tmp_path):
    address, workers = cluster
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(SLOW, sort_keys=False))
    experiment = load_experiment(path)
    local = run_sweep(experiment, tmp_path / "local", workers=2)
    on_dask = _sweep_with_a_kill(experiment, tmp_path / "dask", address, workers[0])
    assert workers[0].poll() is not None  # it really died
    pd.testing.assert_frame_equal(local.outcomes, on_dask.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(local.indices, on_dask.indices, check_exact=True)


def test_an_evaluation_survives_a_killed_worker_with_the_same_verdicts(cluster, tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    address, workers = cluster
    observed = tmp_path / "observed.csv"
    observed.write_text("indicator,year,value,tolerance,source\noccupancy,2022,0.5,0.05,synthetic\n")
    args = ["evaluate", str(PLAN), "--observed", str(observed), "--as-of", "2023", "--replicates", "24"]
    args += ["--set", "horizon=2026", "--set", "targets.0.value=30"]
    runner = CliRunner()
    local = runner.invoke(app, [*args, "--workers", "2", "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output

    killer = threading.Timer(3.0, lambda: workers[1].send_signal(signal.SIGKILL))
    killer.start()
    on_dask = runner.invoke(app, [*args, "--scheduler", address, "--out", str(tmp_path / "dask")])
    killer.cancel()
    assert on_dask.exit_code == 0, on_dask.output
    a, b = (pd.read_csv(tmp_path / d / "evaluation.csv") for d in ("local", "dask"))
    pd.testing.assert_frame_equal(a, b)


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
        _wait(file.exists, 60, "the scheduler did not start")
        address = json.loads(file.read_text())["address"]
        env = {**os.environ, "PYTHONPATH": str(other)}  # the other copy first on the worker's path
        worker = subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--no-dashboard"],
            cwd=tmp_path,
            env=env,
            **quiet,
        )
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            _wait(lambda: len(client.nthreads()) == 1, 60, "the worker did not join")
        with pytest.raises(ExecutorError) as refused:
            DaskCluster(address)
        message = str(refused.value)
        assert "\n" not in message and "runs other code than this client" in message
    finally:
        for p in (scheduler, worker):
            if p is not None:
                p.kill()
                p.wait()


def test_a_calibration_survives_a_killed_worker_with_the_same_ensemble(cluster):
    from sim.analysis.fitting import CalibrationSpec, FitTarget, calibrate

    address, workers = cluster
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
    killer = threading.Timer(2.0, lambda: workers[0].send_signal(signal.SIGKILL))
    killer.start()
    on_dask = calibrate(spec, scheduler=address)
    killer.cancel()
    assert on_dask.values == local.values
    assert on_dask.ensemble.equals(local.ensemble)


def test_the_apps_runs_on_dask_are_sim_runs_and_cancel_stops_them(cluster, tmp_path):
    """The app's queue over the Dask cluster: the same results as `sim run`, and Cancel stops the replicates
    running on the workers (they share this machine's folders, as a bureau's one-machine cluster does)."""
    import pandas as pd

    from sim.analysis.executors import DaskCluster
    from sim.app.drafts import Draft
    from sim.app.jobs import RunQueue
    from sim.results.runs import run_scenario

    address, _ = cluster
    scenario = Draft("region:shengzhou", ("replicates=2", "seed=5")).scenario()
    with DaskCluster(address) as executor:
        queue = RunQueue(tmp_path, executor)
        job = queue.submit(scenario, "ana", [], [])
        _wait(lambda: not job.active, 120, "the run did not finish")
        assert job.state == "done", job.error
        big = queue.submit(Draft("region:tianjin", ("replicates=4",)).scenario(), "ana", [], [])
        _wait(lambda: big.progress() > 0.05, 60, "the big run did not start")
        asked = time.monotonic()
        queue.cancel(big.key)
        _wait(lambda: not big.active, 30, "cancel did not stop the run")
        assert big.state == "cancelled" and time.monotonic() - asked < 5.0
        assert queue.stored(big.key) is None
    pd.testing.assert_frame_equal(pd.read_parquet(job.folder / "results.parquet"), run_scenario(scenario).results)
