"""`sim emulate PROBLEM.yaml` and `sim optimize PROBLEM.yaml --emulator DIR`: an emulator trained on a problem's
plans (Shengzhou's plan at 20,000 people to 2026: a tiny problem), a search on it whose every reported plan is
verified by the model, a plan the model does not confirm flagged, refusals in one line, the same front twice."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.analysis.design import point_seed
from sim.analysis.problem import load_problem
from sim.analysis.problem_emulation import decision_values
from sim.cli import app
from sim.results.query import value as table_value
from sim.results.runs import run_scenario
from sim.scenario import load_scenario

runner = CliRunner()
PROBLEM = {
    "name": "tiny-emulated",
    "scenario": str(ROOT / "scenarios" / "shengzhou-2026.yaml"),
    "set": {"horizon": 2026, "data.population_60plus": 20000},
    "seed": 11,
    "levers": [
        {"key": "policy.beds.nursing_share", "range": [0.45, 0.75], "by": 2026, "profiles": ["linear", "front_loaded"]},
        {"key": "policy.workforce.trained_per_year", "range": [100, 500], "by": 2024, "profiles": ["step"]},
    ],
    "objectives": [
        {"indicator": "plan_cost_cumulative", "group": "workforce_training", "year": 2026},
        {
            "indicator": "plan_cost_cumulative",
            "name": "beds_cost",
            "group": "beds_construction",
            "year": 2026,
            "statistic": "quantile",
            "quantile": 0.9,
        },
    ],
    "constraints": {"probability": 0.8, "targets": ["nursing_share"]},
    "search": {"population": 8, "generations": 10, "runs": 400},
    "verify": {"runs": 8, "plans": 3},
}
TRAINING = ["--runs", "48", "--holdout", "12", "--replicates", "3", "--workers", "1"]
MODEL_COLUMNS = ["plan_cost_cumulative_2026", "beds_cost", "runs", "p_nursing_share_2026", "p_nursing_share_2026_low"]
EMULATED_COLUMNS = ["emulated_plan_cost_cumulative_2026", "emulated_beds_cost", "emulated_p_nursing_share_2026"]


def write(folder, problem=PROBLEM, name="tiny.yaml"):
    path = folder / name
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


def optimize(path, emulator, out, *extra):
    return runner.invoke(
        app, ["optimize", str(path), "--emulator", str(emulator), "--out", str(out), "--workers", "1", *extra]
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("emulated")
    path = write(folder)
    result = runner.invoke(app, ["emulate", str(path), *TRAINING, "--out", str(folder / "em")])
    assert result.exit_code == 0, result.output
    assert "3 of 3 outcomes predicted to the standard" in result.output  # the tiny problem's outcomes are smooth
    return folder, path, folder / "em"


@pytest.fixture(scope="module")
def searched(trained):
    folder, path, emulator = trained
    result = optimize(path, emulator, folder / "out", "--no-charts")
    assert result.exit_code == 0, result.output
    return folder / "out", result.output


def test_an_emulator_of_a_problem_learns_the_plans_the_search_would_run(trained):
    folder, path, emulator = trained
    problem = load_problem(path)
    manifest = json.loads((emulator / "manifest.json").read_text())
    assert manifest["trained_for"] == "problem" and "problem_sha256" in manifest["trained_on"]
    names = [f["name"] for f in manifest["factors"]]  # a profile factor only where several profiles are searched
    share, workers = "policy.beds.nursing_share", "policy.workforce.trained_per_year"
    assert names == [share, f"{share}.profile", workers]
    assert [v["outcome"] for v in manifest["validation"]] == [
        "plan_cost_cumulative_2026",
        "beds_cost",
        "target_nursing_share_2026",
    ]
    design = pd.read_parquet(emulator / "design.parquet")
    runs = pd.read_parquet(emulator / "runs")
    row = design.iloc[0]
    # the point's levels lie on the search's grid (Decision.decode): 5 decimals for a share, 2 for 100-500
    assert round(row["policy.beds.nursing_share"], 5) == row["policy.beds.nursing_share"]
    # its stored run is the model's run of that plan, as the search builds it, with the point's own seed
    values = decision_values(problem, tuple(row[n] for n in names))
    scenario = problem.plan_scenario(values, seed=point_seed(problem.spec.seed, "independent", 0))
    model = run_scenario(scenario).results
    stored = runs[(runs.point == 0) & (runs.replicate == 0)].iloc[0]
    assert table_value(model, "nursing_share", 2026) == pytest.approx(stored["target_nursing_share_2026"], rel=1e-12)
    cost = table_value(model, "plan_cost_cumulative", 2026, group="workforce_training")
    assert cost == pytest.approx(stored["plan_cost_cumulative_2026"], rel=1e-12)


def test_every_reported_plan_is_verified_by_the_model_beside_the_emulators_estimate(searched):
    out, output = searched
    front = pd.read_csv(out / "front.csv")
    evaluations = pd.read_csv(out / "evaluations.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(front) == 3 and set(MODEL_COLUMNS + EMULATED_COLUMNS) <= set(front.columns)
    assert (front.runs == 8).all() and front.verification.isin(["verified", "fails verification"]).all()
    for _, plan in front.iterrows():  # the verdict is the model's P(met), not the emulator's
        assert (plan.verification == "verified") == (plan.p_nursing_share_2026 >= 0.8)
    assert front.plan.isin(evaluations.plan[evaluations.emulated_front]).all()
    assert set(front.plan) == set(evaluations.plan[evaluations.verified_by_model])
    assert not any(c in evaluations for c in MODEL_COLUMNS)  # the plans asked have the emulator's numbers only
    verified = pd.read_csv(out / "verified.csv")
    assert set(verified.plan) == set(front.plan) and (verified.verified_runs == 8).all()
    assert manifest["emulator"]["sha256"] and manifest["emulator"]["trained_on"]["problem_sha256"]
    assert manifest["runs"]["search"] == 0 and manifest["runs"]["verification"] == 24
    assert manifest["sessions"][0]["verification_runs_done"] == 24
    assert "Proposed by an emulator, verified by the model" in output


def test_the_cheapest_plan_written_is_the_models_and_sim_run_reproduces_it(searched):
    out, _ = searched
    front = pd.read_csv(out / "front.csv").set_index("plan")
    plan = yaml.safe_load((out / "cheapest.yaml").read_text())
    number = int(plan["name"].rsplit("-", 1)[1])
    row = front.loc[number]
    assert row.verification == "verified" and plan["replicates"] == 8
    assert row.plan_cost_cumulative_2026 == front[front.verification == "verified"].plan_cost_cumulative_2026.min()
    result = run_scenario(load_scenario(out / "cheapest.yaml"))
    runs = [result.results[result.results.replicate == r] for r in range(8)]
    costs = [table_value(run, "plan_cost_cumulative", 2026, group="workforce_training") for run in runs]
    assert np.mean(costs) == pytest.approx(row.plan_cost_cumulative_2026, rel=1e-9)  # the model's mean, not emulated
    assert row.plan_cost_cumulative_2026 != row.emulated_plan_cost_cumulative_2026


def test_the_same_command_gives_the_same_front(trained, searched):
    folder, path, emulator = trained
    again = optimize(path, emulator, folder / "again")  # with its charts this time
    assert again.exit_code == 0, again.output
    for name in ("front.csv", "evaluations.csv", "verified.csv", "convergence.csv", "cheapest.yaml"):
        assert (folder / "again" / name).read_bytes() == (searched[0] / name).read_bytes(), name
    for lang in ("en", "zh"):
        assert (folder / "again" / "charts" / lang / "front.png").stat().st_size > 10_000


def test_a_plan_the_model_does_not_confirm_is_flagged_and_never_the_cheapest(trained, tmp_path, monkeypatch):
    from sim.analysis import emulated_search
    from sim.analysis.problem_emulation import Emulated, emulated

    def optimistic(problem, emulator, plans):  # an emulator that says every plan meets every target
        return [Emulated(e.objectives, np.ones_like(e.probability)) for e in emulated(problem, emulator, plans)]

    monkeypatch.setattr(emulated_search, "emulated", optimistic)
    _, _, emulator = trained
    path = write(tmp_path, changed(search={"population": 8, "generations": 4}))  # search settings: same emulator
    result = optimize(path, emulator, tmp_path / "out", "--no-charts")
    assert result.exit_code == 0, result.output
    front = pd.read_csv(tmp_path / "out" / "front.csv")
    failed = front[front.verification == "fails verification"]
    assert len(failed) >= 1 and (failed.emulated_p_nursing_share_2026 == 1.0).all()
    assert (failed.p_nursing_share_2026 < 0.8).all()
    assert "the model does not confirm it" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert set(manifest["not_confirmed"]) == set(failed.plan)
    assert manifest["cheapest_plan"] not in set(failed.plan)


def refused(result, out, says):
    assert result.exit_code == 2, result.output
    assert says in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not out.exists()


def test_an_emulator_of_another_problem_or_an_experiment_is_refused(trained, tmp_path):
    _, _, emulator = trained
    other = write(tmp_path, changed(levers__1__range=[100, 400]))
    refused(optimize(other, emulator, tmp_path / "out"), tmp_path / "out", "trained on another problem")
    copy = tmp_path / "experiment-em"
    shutil.copytree(emulator, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["trained_on"]["experiment_sha256"] = manifest["trained_on"].pop("problem_sha256")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    refused(
        optimize(write(tmp_path), copy, tmp_path / "out"), tmp_path / "out", "trained on an experiment, not a problem"
    )


def test_an_outcome_the_emulator_does_not_predict_to_the_standard_is_refused_by_name(trained, tmp_path):
    _, path, emulator = trained
    copy = tmp_path / "em"
    shutil.copytree(emulator, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    row = next(v for v in manifest["validation"] if v["outcome"] == "beds_cost")
    row.update(r2=0.61, usable=False)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    refused(
        optimize(path, copy, tmp_path / "out"),
        tmp_path / "out",
        "beds_cost is not predicted to the standard (held-out R² 0.610",
    )


def test_emulator_with_resume_is_refused(trained, tmp_path):
    _, path, emulator = trained
    refused(optimize(path, emulator, tmp_path / "out", "--resume"), tmp_path / "out", "--resume")


def test_the_report_says_the_front_was_proposed_by_an_emulator_and_verified_by_the_model(searched, tmp_path):
    out, _ = searched
    for lang, words in (("en", "proposed by a search on an emulator"), ("zh", "仿真器")):
        target = tmp_path / f"report-{lang}.html"
        result = runner.invoke(app, ["report", "--optimize", str(out), "--lang", lang, "--out", str(target)])
        assert result.exit_code == 0, result.output
        assert words in target.read_text(encoding="utf-8")
