"""`sim optimize`: problem files checked in one line, a tiny search on Tianjin at its coarsest faithful scale
(16 persons per agent) over two years, the same front on 1 or 2 workers and after a SIGKILL and --resume, the
cheapest plan reproduced by `sim run`, an unmeetable problem said in one line."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.analysis.optimize import Search, evaluate_generation
from sim.analysis.plan_estimate import clopper_pearson
from sim.analysis.problem import ProblemError, load_problem
from sim.cli import app
from sim.results.query import value as table_value
from sim.results.runs import run_scenario
from sim.scenario import load_scenario

runner = CliRunner()

SCENARIO = {
    "name": "tiny-plan",
    "region": "tianjin",
    "horizon": 2022,
    "scale": 16,  # Tianjin's coarsest faithful scale
    "policy": {"beds": {"total": {2022: 85000}}},
    "targets": [
        {"indicator": "beds_total", "value": 85000, "year": 2022},
        {"indicator": "institution_share", "value": 0.015, "year": 2022},
    ],
}
PROBLEM = {
    "name": "tiny",
    "scenario": "tiny-plan.yaml",
    "seed": 7,
    "levers": [
        {"key": "policy.beds.total", "range": [78000, 95000], "by": 2022, "profiles": ["linear", "step"]},
        {"key": "policy.insurance.premium_per_person", "range": [120, 480]},
    ],
    "objectives": [
        {"indicator": "plan_cost_cumulative", "group": "all", "year": 2022},
        {"indicator": "persons_with_unmet_need", "year": 2022, "statistic": "quantile", "quantile": 0.9},
    ],
    "constraints": {"probability": 0.6},
    "search": {"population": 4, "generations": 3, "runs": 40, "replicates": {"first": 2, "most": 4, "step": 2}},
    "verify": {"runs": 4, "plans": 2},
}
SEARCH_RUNS = 40  # every generation's first runs and the added ones fit: the budget is spent exactly here


def write(folder, problem=PROBLEM, scenario=SCENARIO):
    (folder / "tiny-plan.yaml").write_text(yaml.safe_dump(scenario), encoding="utf-8")
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(problem), encoding="utf-8")
    return path


def changed(**parts) -> dict:
    problem = json.loads(json.dumps(PROBLEM))
    for key, value in parts.items():
        node = problem
        *head, last = key.split("__")
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return problem


# --- problem files ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("parts", "says"),
    [
        ({"levers__0__key": "policy.beds.totl"}, "levers.0.key = 'policy.beds.totl': not a lever of"),
        ({"levers__0__range": [-5, 95000]}, "levers.0.range = [-5, 95000]: outside the catalogue's range"),
        ({"levers__1__range": [120, math.nan]}, "levers.1.range.1 = nan: must be a finite number"),
        ({"levers__0__range": [78000, 5e7]}, "at most the region's people aged 60+"),
        ({"levers__0__by": 2030}, "levers.0.by = 2030: a schedule lever needs the year"),
        ({"levers__0__profiles": ["linear", "sideways"]}, "levers.0.profiles = ['linear', 'sideways']"),
        ({"search__runs": 5}, "search.runs = 5: an infeasible budget; one generation needs"),
        ({"objectives__0__indicator": "plan_costs"}, "objectives.0.indicator = 'plan_costs'"),
        ({"constraints__targets": ["beds_totl"]}, "constraints.targets.0 = 'beds_totl': not a target of the scenario"),
        ({"constraints__probability": 1.5}, "constraints.probability = 1.5: must be < 1"),
    ],
)
def test_a_bad_problem_file_is_one_line_exit_2_and_nothing_written(tmp_path, parts, says):
    path = write(tmp_path, changed(**parts))
    out = tmp_path / "out"
    result = runner.invoke(app, ["optimize", str(path), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    assert says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize("name", ["tianjin-optimize", "city003-optimize"])
def test_the_shipped_examples_load(name):
    from conftest import ROOT

    problem = load_problem(ROOT / "experiments" / "optimize" / f"{name}.yaml")
    assert len(problem.decisions) >= 3 and all(d.type == "schedule" for d in problem.decisions)
    assert problem.spec.constraints.probability == 0.8 and 2 <= len(problem.objectives) <= 3


def test_clopper_pearson_matches_its_closed_forms():
    low, high = clopper_pearson(4, 4, 0.95)
    assert low == pytest.approx(0.025 ** (1 / 4), rel=1e-9) and high == 1.0
    low, high = clopper_pearson(0, 10, 0.9)
    assert low == 0.0 and high == pytest.approx(1 - 0.05 ** (1 / 10), rel=1e-9)


class StoringRunner:
    """Stands in for the executor: each plan's every run gives the plan's fixed outcomes."""

    def __init__(self, search, outcomes):
        self.search, self.outcomes = search, outcomes

    def run(self, wanted):
        for plan, replicate, _ in wanted:
            self.search.stored[plan, replicate] = self.outcomes[plan]


def test_runs_go_only_where_they_can_decide_the_front(tmp_path):
    problem = load_problem(
        write(
            tmp_path,
            changed(
                constraints={"probability": 0.8},
                search={"population": 4, "runs": 200, "replicates": {"first": 4, "most": 8, "step": 4}},
            ),
        )
    )
    meets, misses = (85000.0, 0.015), (60000.0, 0.015)  # beds_total and institution_share in 2022
    outcomes = {
        0: (100.0, 10.0, *meets),  # a plan of an earlier generation, settled and feasible
        1: (120.0, 12.0, *meets),  # dearer and worse than plan 0: its feasibility cannot matter
        2: (90.0, 12.0, *meets),  # cheaper than plan 0: might be on the front
        3: (50.0, 5.0, *misses),  # misses the beds target in every run: clearly infeasible after 4
        4: (92.0, 13.0, *meets),  # beaten by plan 2 of its own generation: waits, and plan 2 proves feasible
    }
    search = Search(problem, stored={}, values=[()] * 5)
    runner = StoringRunner(search, outcomes)
    search.need[0] = 8
    runner.run([(0, r, ()) for r in range(8)])
    evaluate_generation(search, [1, 2, 3, 4], runner)
    assert search.need == {0: 8, 1: 4, 2: 8, 3: 4, 4: 4}
    assert search.requested == 4 * 4 + 4  # plan 0's runs were not asked by this search
    assert [search.feasible(i) for i in range(5)] == [True, False, True, False, False]
    assert [search.settled(i) for i in range(5)] == [True, False, True, True, False]


def test_a_problem_with_a_level_outside_the_lever_type_is_refused(tmp_path):
    path = write(tmp_path, changed(levers__1__by=2022))
    with pytest.raises(ProblemError, match="only a schedule lever"):
        load_problem(path)


# --- the search ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The tiny search, uninterrupted, on two local workers."""
    folder = tmp_path_factory.mktemp("reference")
    path = write(folder)
    out = folder / "out"
    result = runner.invoke(app, ["optimize", str(path), "--out", str(out), "--workers", "2", "--no-charts"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_the_search_finds_a_verified_front_within_its_budget(reference):
    out, output = reference
    front = pd.read_csv(out / "front.csv")
    evaluations = pd.read_csv(out / "evaluations.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"]["search"] <= SEARCH_RUNS
    assert manifest["seed"] == 7 and manifest["code"]["package"] and manifest["data_files_sha256"]
    assert len(front) >= 1 and (front[["p_beds_total_2022", "p_institution_share_2022"]] >= 0.6).all().all()
    assert front.plan.isin(evaluations.plan[evaluations.meets_targets]).all()
    # no feasible plan is cheaper than the front's cheapest
    feasible = evaluations[evaluations.meets_targets]
    assert front.plan_cost_cumulative_2022.iloc[0] == feasible.plan_cost_cumulative_2022.min()
    verified = pd.read_csv(out / "verified.csv")
    assert set(verified.plan) <= set(front.plan) and (verified.verified_runs == 4).all()
    assert set(front.verification) <= {"verified", "fails verification", "not verified"}
    convergence = pd.read_csv(out / "convergence.csv")
    assert list(convergence.generation) == [0, 1, 2]
    assert convergence.hypervolume.is_monotonic_increasing and convergence.runs.iloc[-1] <= SEARCH_RUNS
    # staged replicates: every plan got the first two runs, none more than four
    assert evaluations.runs.isin([2, 4]).all()
    assert "plans meet every target with P >= 0.6" in output


def test_sim_run_reproduces_the_cheapest_plan(reference):
    out, _ = reference
    front = pd.read_csv(out / "front.csv").set_index("plan")
    plan = yaml.safe_load((out / "cheapest.yaml").read_text())
    assert plan["name"].endswith(f"-plan-{plan['name'].rsplit('-', 1)[1]}")
    row = front.loc[int(plan["name"].rsplit("-", 1)[1])]
    assert row.verification == "verified"
    result = run_scenario(load_scenario(out / "cheapest.yaml"))
    costs = [
        table_value(result.results[result.results.replicate == r], "plan_cost_cumulative", 2022, group="all")
        for r in range(plan["replicates"])
    ]
    assert sum(costs) / len(costs) == pytest.approx(row.plan_cost_cumulative_2022, rel=1e-9)


def test_a_killed_search_resumes_to_the_same_front_bit_for_bit_on_one_worker(reference, tmp_path):
    path = write(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim.cli", "optimize", str(path), "--out", str(out), "--workers", "1"]
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen(
            [*command, "--no-charts"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr
        )
    deadline = time.monotonic() + 600  # a bound for a hung search, not a timing: the kill waits for stored runs
    try:
        while len(list((out / "runs").glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
            assert proc.poll() is None, errors.read_text()  # it ended before three tasks were stored
            time.sleep(0.01)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (out / "front.csv").exists(), "the search was not killed midway"
    again = runner.invoke(app, ["optimize", str(path), "--out", str(out), "--no-charts"])
    assert again.exit_code == 2 and "holds a search already (running); add --resume" in again.output
    resumed = runner.invoke(app, ["optimize", str(path), "--out", str(out), "--resume", "--workers", "1"])
    assert resumed.exit_code == 0, resumed.output
    reference_out, _ = reference
    for name in ("front.csv", "evaluations.csv", "convergence.csv", "verified.csv", "cheapest.yaml"):
        assert (out / name).read_bytes() == (reference_out / name).read_bytes(), name
    for lang in ("en", "zh"):  # the charts, drawn on the resumed search
        assert (out / "charts" / lang / "front.png").stat().st_size > 10_000
        assert (out / "charts" / lang / "schedules.png").stat().st_size > 10_000
    sessions = json.loads((out / "manifest.json").read_text())["sessions"]
    assert sessions[0]["interrupted"] and sessions[1]["runs_stored_before"] >= 3


def test_the_search_starts_from_the_starting_plan_and_refuses_stored_runs_of_other_plans(reference, tmp_path):
    import shutil

    out, _ = reference
    evaluations = pd.read_csv(out / "evaluations.csv").set_index("plan")
    start = evaluations.loc[0]  # the scenario's own plan: 85,000 beds by 2022 along a straight line, premium 240
    assert (start["policy.beds.total"], start["policy.beds.total.profile"]) == (85000, "linear")
    assert start["policy.insurance.premium_per_person"] == 240
    copy_out = tmp_path / "out"
    shutil.copytree(out, copy_out)
    part = sorted((copy_out / "runs").glob("part-*.parquet"))[0]
    table = pd.read_parquet(part)
    table["lever_0_level"] += 1  # as if another version of sim had asked another plan first
    table.to_parquet(part, index=False)
    result = runner.invoke(
        app, ["optimize", str(write(tmp_path)), "--out", str(copy_out), "--resume", "--workers", "1"]
    )
    assert result.exit_code == 2 and "are of another plan than this search asks" in result.output


def test_a_dask_cluster_gives_the_same_front(reference, tmp_path):
    from dask.distributed import LocalCluster

    path = write(tmp_path)
    out = tmp_path / "out"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        result = runner.invoke(
            app, ["optimize", str(path), "--out", str(out), "--scheduler", cluster.scheduler_address, "--no-charts"]
        )
    assert result.exit_code == 0, result.output
    reference_out, _ = reference
    for name in ("front.csv", "evaluations.csv", "convergence.csv", "verified.csv", "cheapest.yaml"):
        assert (out / name).read_bytes() == (reference_out / name).read_bytes(), name
    assert json.loads((out / "manifest.json").read_text())["sessions"][0]["executor"] == "dask"


def test_an_unmeetable_problem_says_so_in_one_line_with_the_best_probability(tmp_path):
    scenario = copy.deepcopy(SCENARIO)
    scenario["targets"][1]["value"] = 0.5  # half of all older people in care homes: no plan comes near
    problem = changed(search={"population": 4, "generations": 1, "runs": 8, "replicates": {"first": 2, "most": 2}})
    path = write(tmp_path, problem, scenario)
    out = tmp_path / "out"
    result = runner.invoke(app, ["optimize", str(path), "--out", str(out), "--workers", "1", "--no-charts"])
    assert result.exit_code == 1
    assert (
        "No plan within the ranges meets every target with P >= 0.6: the best found reaches P = 0.00" in result.output
    )
    assert len(result.output.strip().splitlines()) == 1
    assert json.loads((out / "manifest.json").read_text())["status"] == "infeasible"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sim_report_optimize_writes_every_format_with_the_trade_off_in_words(reference, tmp_path, lang):
    out, _ = reference
    for fmt in ("html", "pdf", "docx", "xlsx"):
        target = tmp_path / f"report.{fmt}"
        result = runner.invoke(
            app, ["report", "--optimize", str(out), "--format", fmt, "--lang", lang, "--out", str(target)]
        )
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 1000
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert ("costs at least" if lang == "en" else "成本至少为") in text
    assert ("P(met): Care-home beds" if lang == "en" else "达成概率：养老机构床位数") in text


def test_sim_report_optimize_refuses_a_folder_that_is_not_a_finished_search(tmp_path):
    result = runner.invoke(app, ["report", "--optimize", str(tmp_path)])
    assert result.exit_code == 2 and "not a finished search of `sim optimize`" in result.output
