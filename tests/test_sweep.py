"""Sensitivity sweeps: experiment errors, identical results whatever runs them, durability, correctness."""

import contextlib
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT
from matplotlib.container import BarContainer
from matplotlib.text import Text
from typer.testing import CliRunner

from sim.analysis.design import make_design, value
from sim.analysis.experiment import Factor, load_experiment
from sim.analysis.sweep import Job, evaluate, run_sweep
from sim.catalogues.indicators import LANGS, catalogue
from sim.cli import app
from sim.data.regions import data_file_hashes
from sim.model.model import AgeingModel
from sim.outputs.labels import labels as chart_labels
from sim.outputs.sweep_charts import PLANE_LABELS, factor_label, morris_plane_figure, outcome_label, sweep_figures
from sim.results.query import value as table_value
from sim.results.runs import code_version, run_replicate
from sim.scenario import load_scenario

runner = CliRunner()
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
PUBLIC_SPENDING = ["voucher", "destitute_support", "nursing_and_allowance", "respite"]
# Shengzhou's plan to 2026 with its base-year population cut to 20,000 (coarser scales are refused as not
# faithful): a few hundredths of a second a run
TINY = {
    "name": "tiny",
    "scenario": str(PLAN),
    "set": {"horizon": 2026, "data.population_60plus": 20000},
    "replicates": 2,
    "method": {"name": "morris", "trajectories": 4},
    "factors": [
        {"key": "policy.beds.total.2024", "range": [3000, 6000]},
        {"key": "policy.insurance.start_year", "type": "int", "range": [2021, 2025]},
        {"key": "policy.insurance.eligible_from", "levels": ["moderate", "severe", "total"]},
        {"key": "data.parameters.burden_limit", "range": [1.2, 2.0], "group": "uncertain"},
        {"key": "data.mortality_multiplier", "range": [0.8, 1.2], "group": "uncertain"},
    ],
    "outcomes": [
        {"name": "unmet_hours_2026", "indicator": "care_hours", "group": "unmet", "year": 2026},
        {"name": "pop60_2026", "indicator": "population", "year": 2026},
        {"name": "public_spending_2026", "indicator": "public_spending", "group": PUBLIC_SPENDING, "year": 2026},
        {"name": "peak_shortage", "indicator": "workforce_shortage", "aggregate": "max"},
    ],
}


def write(folder, experiment: dict, name: str = "exp.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(experiment, sort_keys=False))
    return path


def changed(**changes) -> dict:
    out = json.loads(json.dumps(TINY))
    out.update(changes)
    return out


def stored_rows(folder) -> pd.DataFrame:
    """Every row of every part file, duplicates kept."""
    parts = sorted((folder / "runs").glob("part-*.parquet"))
    return pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_experiment(write(tmp_path_factory.mktemp("exp"), TINY))


@pytest.fixture(scope="module")
def reference(tiny, tmp_path_factory):
    """The tiny sweep, uninterrupted, in this process."""
    return run_sweep(tiny, tmp_path_factory.mktemp("ref") / "sweep", workers=1)


# --- bad input: one line, exit 2, nothing written ------------------------------------------------------
def _factor(**f) -> dict:
    """TINY with its first factor replaced (and any other on the same key left out)."""
    return changed(factors=[f, *(g for g in TINY["factors"][1:] if g["key"] != f["key"])])


def _outcome(**o) -> dict:
    return changed(outcomes=[o])


BAD = {
    "unknown_method": (
        changed(method={"name": "anneal", "trajectories": 4}),
        "method.name = 'anneal': must be one of morris, sobol",
    ),
    "sobol_samples_not_power_of_two": (
        changed(method={"name": "sobol", "base_samples": 1000}),
        "method.base_samples = 1000: must be a power of 2 of at least 8",
    ),
    "setting_of_the_other_method": (
        changed(method={"name": "morris", "trajectories": 4, "base_samples": 64}),
        "method.base_samples = 64: only for sobol",
    ),
    "misspelt_top_key": (
        changed(replicate=2),
        "replicate = 2: unknown key (allowed: description, factors, method, model, name, outcomes, replicates, "
        "scenario, seed, seeds, set)",
    ),
    "no_scenario_file": (changed(scenario="nope.yaml"), "scenario = 'nope.yaml': no such file ({dir}/nope.yaml)"),
    "unknown_factor_key": (
        _factor(key="policy.beds.totl", range=[3000, 6000]),
        "factors.0 at its low end: policy.beds.totl = 3000: unknown key (allowed: day_care_places, "
        "dementia_per_10k, family_beds, nursing_share, public_share_of_new, total)",
    ),
    "factor_value_outside_the_scenario_schema": (
        _factor(key="policy.beds.nursing_share.2024", range=[0.5, 1.5]),
        "factors.0 at its high end: policy.beds.nursing_share = {2024: 1.5}: must be between 0 and 1 in every year",
    ),
    "whole_number_factor_not_declared_int": (
        _factor(key="policy.insurance.start_year", range=[2021, 2025]),
        "factors.0 at its low end: policy.insurance.start_year = 2021.0: must be a whole number (declare type: int)",
    ),
    "level_the_scenario_refuses": (
        _factor(key="policy.insurance.eligible_from", levels=["moderate", "mild"]),
        "factors.0 at level 'mild': policy.insurance.eligible_from = 'mild': must be one of moderate, severe, total",
    ),
    "range_upside_down": (
        _factor(key="policy.beds.total.2024", range=[6000, 3000]),
        "factors.0.range = [6000, 3000]: must be [low, high] with low < high",
    ),
    "range_and_levels": (
        _factor(key="policy.beds.total.2024", range=[1, 2], levels=[1, 2]),
        "factors.0: give a range [low, high] or levels [...], one of them",
    ),
    "unknown_distribution": (
        _factor(key="policy.beds.total.2024", range=[3000, 6000], dist="beta"),
        "factors.0.dist = 'beta': must be one of uniform, triangular, normal",
    ),
    "triangular_without_mode": (
        _factor(key="policy.beds.total.2024", range=[3000, 6000], dist="triangular"),
        "factors.0.mode: is required for dist triangular",
    ),
    "seed_as_a_factor": (
        _factor(key="seed", range=[1, 9], type="int"),
        "factors.0.key = 'seed': set by the experiment's own seed",
    ),
    "unknown_indicator": (
        _outcome(name="x", indicator="happiness", year=2026),
        "outcomes.0.indicator = 'happiness': unknown indicator (allowed: {indicators})",
    ),
    "unknown_group": (
        _outcome(name="x", indicator="care_hours", group="unmt", year=2026),
        "outcomes.0.group = 'unmt': not a breakdown of care_hours (allowed: formal, informal, need, unmet)",
    ),
    "year_outside_the_run": (
        _outcome(name="x", indicator="care_hours", group="unmet", year=2035),
        "outcomes.0.year = 2035: must be from 2020 to 2026 for care_hours",
    ),
    "year_and_aggregate": (
        _outcome(name="x", indicator="waiting_list", year=2026, aggregate="max"),
        "outcomes.0: give a year or an aggregate (one of them)",
    ),
    "unknown_aggregate": (
        _outcome(name="x", indicator="waiting_list", aggregate="peak"),
        "outcomes.0.aggregate = 'peak': must be one of max, min, mean, sum, last",
    ),
    "outcome_named_like_a_factor": (
        _outcome(name="policy.beds.total.2024", indicator="waiting_list", aggregate="max"),
        "outcomes.0.name = 'policy.beds.total.2024': is already the name of factors.0",
    ),
    "test_function_missing_an_input": (
        {
            "model": "ishigami",
            "method": {"name": "sobol", "base_samples": 8},
            "factors": [{"key": "x1", "range": [-3, 3]}, {"key": "x2", "range": [-3, 3]}],
            "outcomes": [{"name": "y", "indicator": "y"}],
        },
        "factors: ishigami needs a factor for every input (missing: x3)",
    ),
    "not_a_mapping": ("- 1\n", "must be a mapping of keys to values, got list"),
    "empty_file": ("", "the file is empty; an experiment needs a scenario, method, factors and outcomes"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_experiment_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    experiment, message = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(experiment if isinstance(experiment, str) else yaml.safe_dump(experiment, sort_keys=False))
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    indicators = catalogue().allowed()
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"error: {path}: " + message.replace("{dir}", str(tmp_path.resolve())).replace(
        "{indicators}", indicators
    )
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--workers", "0"], "--workers = 0: must be at least 1"),
        (["--chunk", "0"], "--chunk = 0: must be at least 1"),
        (
            ["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"],
            "--workers = 2 with --scheduler = 'tcp://127.0.0.1:9': give one of them",
        ),
    ],
)
def test_bad_option_is_one_line_exit_2_and_writes_nothing(tmp_path, options, message):
    path = write(tmp_path, TINY)
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out"), *options])
    assert result.exit_code == 2 and result.output.strip() == f"error: {message}"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_unreachable_scheduler_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.analysis.executors.DASK_CONNECT_SECONDS", 1)
    path = write(tmp_path, TINY)
    result = runner.invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --scheduler = 'tcp://127.0.0.1:9': cannot connect (")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# --- what a sweep writes ----------------------------------------------------------------------------
def test_sweep_folder_records_design_runs_indices_and_what_made_them(reference, tiny):
    out = reference.out
    assert sorted(p.name for p in out.iterdir()) == [
        "convergence.csv",
        "design.parquet",
        "indices.csv",
        "manifest.json",
        "outcomes.csv",
        "runs",
    ]
    design = make_design(tiny)
    assert design.points == 4 * (3 + 1 + 1)  # 4 trajectories of (3 factors + 1 group) steps
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert len(outcomes) == design.points * 2 and not outcomes.duplicated(["point", "replicate"]).any()
    assert list(outcomes.columns[:2]) == ["point", "replicate"]
    stored = pd.read_parquet(out / "design.parquet")
    assert stored["policy.insurance.start_year"].between(2021, 2025).all()
    assert set(stored["policy.insurance.eligible_from"]) <= {"moderate", "severe", "total"}
    merged = outcomes.merge(stored, on="point", suffixes=("", "_design"))
    assert (merged["policy.beds.total.2024"] == merged["policy.beds.total.2024_design"]).all()

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["kind"] == "sweep"
    assert manifest["experiment_sha256"] == tiny.fingerprint() and manifest["seed"] == 20201101
    assert manifest["data_files_sha256"] == data_file_hashes()
    assert manifest["code"]["package"] and manifest["design"]["runs"] == len(outcomes)
    scenario = manifest["experiment"]["scenario"]
    assert scenario["data"]["population_60plus"] == 20000 and scenario["seed"] == 20201101
    assert manifest["sessions"][0]["runs_done"] == len(outcomes) and manifest["sessions"][0]["executor"] == "in-process"

    indices = pd.read_csv(out / "indices.csv", keep_default_na=False, na_values=[""])
    groups = {"policy.beds.total.2024", "policy.insurance.start_year", "policy.insurance.eligible_from", "uncertain"}
    for outcome in ("unmet_hours_2026", "pop60_2026"):
        mine = indices[indices.outcome == outcome]
        assert set(mine.factor) == groups and set(mine["index"]) == {"mu", "mu_star", "sigma"}
    # only mortality moves the population: every policy lever has no effect on it
    pop = indices[(indices.outcome == "pop60_2026") & (indices["index"] == "mu_star")].set_index("factor").value
    assert pop["uncertain"] > 0 and (pop.drop("uncertain") == 0).all()
    convergence = pd.read_csv(out / "convergence.csv")
    assert sorted(convergence.sample_size.unique()) == [2, 4]


def test_outcomes_fast_path_equal_the_results_table(tmp_path):
    """Outcomes read from the model's record equal those computed from the full results table."""
    outcomes = [
        {"name": "unmet", "indicator": "care_hours", "group": "unmet", "year": 2026},
        {"name": "severe_unmet", "indicator": "persons_with_unmet_need", "capacity": "severe", "year": 2025},
        {"name": "peak_wait", "indicator": "waiting_list", "aggregate": "max"},
        {"name": "least_workers", "indicator": "workers", "aggregate": "min"},
        {"name": "occupancy_last", "indicator": "occupancy", "aggregate": "last"},
        {"name": "mean_balance", "indicator": "ltci_balance", "aggregate": "mean"},
        {"name": "public_spending", "indicator": "public_spending", "group": PUBLIC_SPENDING, "year": 2024},
        {"name": "pop80_women", "indicator": "population", "sex": "female", "age_group": "80+", "year": 2026},
        {"name": "deaths", "indicator": "deaths", "aggregate": "sum"},
        {"name": "e60", "indicator": "life_expectancy_60", "year": 2023},
        {
            "name": "severe_share_85",
            "indicator": "capacity_share",
            "age_group": "85-89",
            "capacity": "severe",
            "year": 2026,
        },
    ]
    exp = load_experiment(write(tmp_path, changed(outcomes=outcomes)))
    values = (4500.0, 2022, "moderate", 1.4, 0.9)
    fast = dict(zip([o["name"] for o in outcomes], evaluate(Job.of(exp), 3, 1, values), strict=True))

    overrides = ["data.population_60plus=20000", "horizon=2026", "seed=20201101", "policy.beds.total.2024=4500"]
    overrides += ["policy.insurance.start_year=2022", "policy.insurance.eligible_from=moderate"]
    overrides += ["data.parameters.burden_limit=1.4", "data.mortality_multiplier=0.9"]
    table = run_replicate(load_scenario(PLAN, overrides), 1)
    years = sorted(table.year.unique())
    for o in outcomes:
        groups = o.get("group", "all")
        breakdown = {k: o.get(k) for k in ("sex", "age_group", "capacity")}
        by_group = [table_value(table, o["indicator"], group=g, **breakdown) for g in np.atleast_1d(groups)]
        series = sum(by_group).reindex(years)  # missing (deaths in the base year) if missing in any group
        if "year" in o:
            expected = series[o["year"]]
        else:
            expected = {
                "max": series.max(),
                "min": series.min(),
                "last": series.iloc[-1],
                "mean": series.mean(),
                "sum": series.sum(min_count=1),
            }[o["aggregate"]]
        if o.get("aggregate") in ("mean", "sum"):
            assert fast[o["name"]] == pytest.approx(expected, rel=1e-12), o["name"]
        else:
            assert fast[o["name"]] == expected or (math.isnan(expected) and math.isnan(fast[o["name"]])), o["name"]
    assert fast["deaths"] > 0 and fast["pop80_women"] > 0 and 0 <= fast["occupancy_last"] <= 1  # values, not just equal


def test_common_random_numbers_share_the_population_across_points(reference, tiny):
    """Replicate r draws the same population at every point: the 60+ population depends only on the
    factor that changes mortality, for each replicate; replicates differ; independent seeds do not share."""
    out = reference.outcomes
    per_mortality = out.groupby(["replicate", "data.mortality_multiplier"]).pop60_2026.nunique()
    assert (per_mortality == 1).all() and out.groupby("replicate").pop60_2026.nunique().min() >= 2
    same_point = out.pivot(index="point", columns="replicate", values="pop60_2026")
    assert (same_point[0] != same_point[1]).any()
    job = replace(Job.of(tiny), seeds="independent")
    values = make_design(tiny).values[0]
    assert evaluate(job, 0, 0, values) != evaluate(job, 7, 0, values)  # same values, each point its own seed


def test_integer_and_level_factors_take_every_value_with_equal_chances():
    u = (np.arange(6000) + 0.5) / 6000
    years = Factor(key="k", type="int", range=[2021, 2025])
    counts = pd.Series([value(years, x) for x in u]).value_counts()
    assert sorted(counts.index) == [2021, 2022, 2023, 2024, 2025] and (counts == 1200).all()
    levels = Factor(key="k", levels=["moderate", "severe", "total"])
    assert [value(levels, x) for x in (0.0, 0.34, 0.67, 1.0)] == ["moderate", "severe", "total", "total"]


def test_sobol_designs_are_nested_so_prefixes_are_designs_of_their_own(tmp_path):
    exp = load_experiment(write(tmp_path, changed(method={"name": "sobol", "base_samples": 32})))
    small = load_experiment(write(tmp_path, changed(method={"name": "sobol", "base_samples": 8}), "small.yaml"))
    full, part = make_design(exp), make_design(small)
    assert full.block == 4 + 2 and full.points == 32 * 6 and part.points == 8 * 6
    np.testing.assert_array_equal(full.sample[: part.points], part.sample)


# --- identical whatever runs it -----------------------------------------------------------------------
def _assert_same_results(a, b) -> None:
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(a.indices, b.indices, check_exact=True)
    pd.testing.assert_frame_equal(a.convergence, b.convergence, check_exact=True)
    for name in ("outcomes.csv", "indices.csv", "convergence.csv", "design.parquet"):
        assert (a.out / name).read_bytes() == (b.out / name).read_bytes(), name


def test_one_and_two_workers_give_identical_results(reference, tiny, tmp_path):
    two = run_sweep(tiny, tmp_path / "two", workers=2)
    _assert_same_results(reference, two)
    assert json.loads((tmp_path / "two" / "manifest.json").read_text())["sessions"][0]["workers"] == 2


def test_dask_cluster_gives_the_same_results_as_local_processes(reference, tiny, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        on_dask = run_sweep(tiny, tmp_path / "dask", scheduler=cluster.scheduler_address)
    _assert_same_results(reference, on_dask)
    session = json.loads((tmp_path / "dask" / "manifest.json").read_text())["sessions"][0]
    assert session["executor"] == "dask" and session["workers"] == 2
    assert session["worker_code"] == [code_version()]


# --- durability ---------------------------------------------------------------------------------------
def test_a_killed_sweep_resumes_to_the_same_results_with_no_run_lost_or_repeated(reference, tmp_path):
    path = write(tmp_path, TINY)
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "2"]
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(
            [*command, "--chunk", "1", "--no-charts"],
            start_new_session=True,  # its own process group: the kill takes the workers too
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 600  # a bound for a hung sweep, not a timing: the kill waits for stored runs
    try:
        while len(list((out / "runs").glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, errors.read_text()  # it ended before three runs were stored
            time.sleep(0.01)
    finally:
        with contextlib.suppress(ProcessLookupError):  # none left if it ended on its own
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = stored_rows(out)
    assert 3 <= len(killed) < 40, "the sweep was not killed midway"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    assert not (out / "outcomes.csv").exists()

    again = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--no-charts"])
    assert again.exit_code == 2 and "holds a sweep already (running); add --resume" in again.output
    resumed = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "--workers", "1", "--no-charts"])
    assert resumed.exit_code == 0, resumed.output
    assert f"({40 - len(killed)} runs now, 40 in all" in resumed.output
    everything = stored_rows(out)
    assert len(everything) == 40 and not everything.duplicated(["point", "replicate"]).any()
    for name in ("outcomes.csv", "indices.csv", "convergence.csv"):
        assert (out / name).read_bytes() == (reference.out / name).read_bytes(), name
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert [s["runs_stored_before"] for s in sessions] == [0, len(killed)]
    assert [s["runs_done"] for s in sessions] == [len(killed), 40 - len(killed)]
    assert sessions[0]["interrupted"] and "interrupted" not in sessions[1]
    assert sorted(everything.session.unique()) == [0, 1]


FEWEST_BEDS = 3500  # below this 2024 bed target, step_that_fails raises


def step_that_fails(model) -> None:
    """The model's yearly step, failing in 2024 where the plan has fewer than FEWEST_BEDS beds by then."""
    beds = model.config.policy.beds.total or {}
    if model.year == 2023 and beds.get(2024, FEWEST_BEDS) < FEWEST_BEDS:
        raise FloatingPointError(f"{beds[2024]:g} beds in 2024: too few for this test's model")
    REAL_STEP(model)


REAL_STEP = AgeingModel.step


def test_a_failed_run_keeps_its_traceback_and_stops_the_sweep_with_one_line(reference, tmp_path, monkeypatch):
    """A factor value at which the model raises: `sim sweep` stops (exit code 1) in one line naming the file
    that keeps the run's traceback; the runs finished before are stored, and --resume with a model that
    works gives the results of an uninterrupted sweep."""
    path = write(tmp_path, TINY)
    out = tmp_path / "sweep"
    design = make_design(load_experiment(path))
    # in this process, one run at a time in design order: the first point with too few beds fails first
    point = next(p for p, v in enumerate(design.values) if v[0] < FEWEST_BEDS)
    monkeypatch.setattr(AgeingModel, "step", step_that_fails)
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1", "--chunk", "1"])
    assert result.exit_code == 1
    details = out / "errors" / f"point-{point}-replicate-0.txt"
    why = f"point {point}, replicate 0 {design.values[point]}: FloatingPointError: 3000 beds in 2024: too few for "
    why += "this test's model"
    assert result.output.strip() == (
        f"error: {path}: a run failed: {why}; its traceback is in {details}; the {2 * point} finished runs are stored"
    )
    text = details.read_text(encoding="utf-8")
    assert text.startswith(why + "\n\nTraceback (most recent call last):\n")
    assert "model.run()" in text and "in step_that_fails" in text  # the model's frames, down to where it raised
    assert sorted(p.name for p in (out / "errors").iterdir()) == [details.name]  # written whole, no debris
    assert len(stored_rows(out)) == 2 * point and not (out / "outcomes.csv").exists()

    monkeypatch.setattr(AgeingModel, "step", REAL_STEP)
    resumed = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1", "--resume", "--no-charts"])
    assert resumed.exit_code == 0, resumed.output
    assert (out / "indices.csv").read_bytes() == (reference.out / "indices.csv").read_bytes()


def test_a_run_error_comes_back_from_a_worker_with_its_traceback():
    """Local and Dask workers send a failure back pickled: the one line and the traceback both arrive."""
    import pickle

    from sim.analysis.sweep import RunError

    error = RunError("point 3, replicate 1 (1.0,): ValueError: no", 3, 1, "point 3 ...\n\nTraceback ...")
    back = pickle.loads(pickle.dumps(error))
    assert (str(back), back.point, back.replicate, back.details) == (str(error), 3, 1, error.details)


def test_resume_refuses_a_changed_experiment_and_other_folders(reference, tmp_path):
    before = {p.relative_to(reference.out): p.read_bytes() for p in reference.out.rglob("*") if p.is_file()}
    path = write(tmp_path, changed(factors=[{**TINY["factors"][0], "range": [3000, 7000]}, *TINY["factors"][1:]]))
    result = runner.invoke(app, ["sweep", str(path), "--out", str(reference.out), "--resume"])
    assert result.exit_code == 2
    new = load_experiment(path).fingerprint()
    old = json.loads((reference.out / "manifest.json").read_text())["experiment_sha256"]
    assert result.output.strip() == (
        f"error: {reference.out}: the stored sweep is of another experiment (sha256 {old[:12]}, this one "
        f"{new[:12]}); a changed experiment cannot be resumed: choose another --out"
    )
    assert {p.relative_to(reference.out): p.read_bytes() for p in reference.out.rglob("*") if p.is_file()} == before

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("precious")
    result = runner.invoke(app, ["sweep", str(path), "--out", str(mine), "--resume"])
    assert result.exit_code == 2
    assert (
        result.output.strip() == f"error: {mine}: exists and is not a sweep folder of this tool; choose another --out"
    )
    assert [p.name for p in mine.iterdir()] == ["thesis.docx"]


# --- correctness on a function with known indices ------------------------------------------------------
def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic S1 and ST of y = sin x1 + a sin^2 x2 + b x3^4 sin x1, x uniform on [-pi, pi]
    (Sobol' & Levitan 1999): V1 = (1 + b pi^4 / 5)^2 / 2, V2 = a^2 / 8, V13 = 8 b^2 pi^8 / 225."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * np.pi**8 / 225
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def test_ishigami_sobol_indices_match_the_analytic_ones_within_their_intervals(tmp_path):
    s1, st = ishigami_indices()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-5)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-5)
    exp = load_experiment(ROOT / "experiments" / "ishigami-sobol.yaml")
    result = run_sweep(exp, tmp_path / "ishigami", workers=1)
    assert len(result.outcomes) == 8192 * 5
    got = result.indices.set_index(["index", "factor"])
    for index, analytic in (("S1", s1), ("ST", st)):
        for factor, expected in zip(("x1", "x2", "x3"), analytic, strict=True):
            row = got.loc[(index, factor)]
            assert abs(row.value - expected) <= row.conf, (index, factor, row.value, expected, row.conf)
            assert row.conf < 0.05  # intervals narrow enough for the check to mean something
    assert sorted(result.convergence.sample_size.unique()) == [1024, 2048, 4096, 8192]


# --- charts -------------------------------------------------------------------------------------------
def test_charts_rank_factors_and_show_morris_plane_and_convergence(reference, tiny):
    import matplotlib.pyplot as plt

    plt.close("all")  # figures other tests left open
    figures = dict(sweep_figures(tiny, reference.indices, reference.convergence, 40))
    analysed = list(dict.fromkeys(reference.indices.outcome))
    assert sorted(figures) == sorted(
        f"{kind}_{o}" for o in analysed for kind in ("ranking", "morris_plane", "convergence")
    )
    ax = figures["ranking_pop60_2026"].axes[0]
    L = chart_labels("en")
    factor_of = {factor_label(tiny, f, L): f for f in reference.indices.factor.unique()}
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # a lever's name, not its key
    assert "Care-home beds (all types), 2024" in labels and "Insurance: first year of benefits" in labels
    factors = [factor_of[label] for label in labels]
    assert factors[0] == "uncertain"  # the only group that moves the population is ranked first (at the top)
    bars = next(c for c in ax.containers if isinstance(c, BarContainer))
    widths = {factor: bar.get_width() for factor, bar in zip(factors, bars, strict=True)}
    mu_star = reference.indices[(reference.indices.outcome == "pop60_2026") & (reference.indices["index"] == "mu_star")]
    assert widths == dict(zip(mu_star.factor, mu_star.value, strict=True))
    plane = figures["morris_plane_unmet_hours_2026"].axes[0]
    assert sorted(factor_of[t.get_text()] for t in plane.texts) == sorted(widths)
    convergence = figures["convergence_unmet_hours_2026"].axes[0]
    assert [t.get_text() for t in convergence.get_xticklabels()] == ["2", "4"]
    plt.close("all")


def test_sweep_command_writes_charts_and_prints_the_ranking(tmp_path):
    experiment = {
        "model": "ishigami",
        "method": {"name": "sobol", "base_samples": 64, "resamples": 100},
        "factors": [{"key": k, "range": [-math.pi, math.pi]} for k in ("x1", "x2", "x3")],
        "outcomes": [{"name": "y", "indicator": "y"}],
    }
    path = write(tmp_path, experiment, "ish.yaml")
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "y: x1 " in result.output and "(320 runs now, 320 in all" in result.output
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["en", "zh"]  # as a run's charts/LANG
    for lang in ("en", "zh"):
        assert sorted(p.name for p in (out / "charts" / lang).iterdir()) == ["convergence_y.png", "ranking_y.png"]
    ranking = dict(sweep_figures(load_experiment(path), *_tables(out), 320))["ranking_y"].axes[0]
    bars = [c for c in ranking.containers if isinstance(c, BarContainer)]
    assert [len(b) for b in bars] == [3, 3]  # ST and S1 side by side for each factor
    assert [t.get_text() for t in ranking.get_yticklabels()][-1] == "x3"  # least influential at the bottom


@pytest.mark.parametrize("lang", LANGS)
def test_sweep_charts_are_in_the_language_and_name_factors_and_outcomes_in_words(reference, tiny, lang):
    import matplotlib.pyplot as plt

    L = chart_labels(lang)
    S = L["sweep"]
    figures = dict(sweep_figures(tiny, reference.indices, reference.convergence, 40, lang))
    keys = [f.key for f in tiny.factors]
    for outcome in dict.fromkeys(reference.indices.outcome):
        for stem, title in (
            ("ranking", "ranking_title"),
            ("morris_plane", "plane_title"),
            ("convergence", "convergence_title"),
        ):
            fig = figures[f"{stem}_{outcome}"]
            words = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
            assert not [w for w in words if any(k in w for k in keys)], stem  # every factor of tiny has a name
            title = S[title].format(outcome=outcome_label(tiny, outcome, L))
            assert fig._suptitle.get_text() == title and outcome not in title
    ranking = [t.get_text() for t in figures["ranking_pop60_2026"].axes[0].get_yticklabels()]
    assert key_words(L, "policy.beds.total", 2024) in ranking
    if lang == "zh":
        assert figures["ranking_pop60_2026"]._suptitle.get_text() == "2026年60岁及以上人口：哪些因素影响最大"
        assert "养老机构床位总数（2024年）" in ranking and "长护险：开始给付年份" in ranking
        assert figures["morris_plane_pop60_2026"].axes[0].get_xlabel().startswith("μ*（基本效应绝对值的均值")
    plt.close("all")


def key_words(L: dict, lever: str, year: int) -> str:
    from sim.catalogues.levers import lever_catalogue

    return L["sweep"]["in_year"].format(name=lever_catalogue()[lever].label(L["lang"]), year=year)


def test_morris_plane_labels_never_overlap_even_where_factors_crowd_together():
    import matplotlib.pyplot as plt

    exp = load_experiment(ROOT / "experiments" / "tianjin-levers-morris.yaml")
    names = list(dict.fromkeys(f.group or f.name for f in exp.factors))
    rng = np.random.default_rng(1)
    # ten factors within a few percent of each other, the rest bunched near the origin
    mu_star = np.r_[100 + rng.normal(0, 2, 10), rng.uniform(0, 20, len(names) - 10)]
    rows = [
        {"outcome": "unmet_hours_2035", "factor": name, "factor2": "", "index": index, "value": v, "conf": 5.0}
        for name, m in zip(names, mu_star, strict=True)
        for index, v in (("mu", m), ("mu_star", m), ("sigma", np.nan if name == "uncertain parameters" else 0.8 * m))
    ]
    indices = pd.DataFrame(rows)
    top = [n for _, n in sorted(zip(-mu_star, names, strict=True))][:PLANE_LABELS]
    for lang in LANGS:
        L = chart_labels(lang)
        fig = morris_plane_figure(exp, indices, "unmet_hours_2035", 2320, lang)
        ax = fig.axes[0]
        assert sorted(t.get_text() for t in ax.texts) == sorted(factor_label(exp, n, L) for n in top)
        assert not [t for t in ax.texts if "." in t.get_text()]  # names, not key paths
        for dpi in (fig.dpi, 300):  # as shown and as saved
            fig.set_dpi(dpi)
            renderer = fig.canvas.get_renderer()
            boxes = [t.get_window_extent(renderer) for t in ax.texts]
            frame = ax.get_window_extent(renderer)
            assert not [(a, b) for a, b in combinations(boxes, 2) if a.overlaps(b)]
            assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    plt.close("all")


def _tables(out):
    read = lambda name: pd.read_csv(out / name, keep_default_na=False, na_values=[""])  # noqa: E731
    return read("indices.csv"), read("convergence.csv")


def test_shipped_experiments_load_with_the_sizes_the_readme_gives():
    from sim.analysis.design import groups

    morris = load_experiment(ROOT / "experiments" / "tianjin-levers-morris.yaml")
    m = morris.spec.method
    assert len(morris.factors) > 30 and "uncertain parameters" in groups(morris)
    assert m.optimal_trajectories * (len(groups(morris)) + 1) * morris.spec.replicates == 2320
    sobol = load_experiment(ROOT / "experiments" / "tianjin-levers-sobol.yaml")
    assert len(sobol.factors) == 10 and sobol.base.scale == 16 and sobol.base.name == "tianjin-14th-fyp"
    assert sobol.spec.method.base_samples * (10 + 2) * sobol.spec.replicates == 12288
    assert {f.key for f in sobol.factors} <= {f.key for f in morris.factors}
