"""How coarse a scale a scenario allows: home agents of each kind and places of each capacity, refused in one
line by every command that runs the model (run, validate, sweep, calibrate)."""

import pytest
from conftest import ROOT, make_scenario
from typer.testing import CliRunner

from sim.analysis.experiment import ExperimentError, load_experiment
from sim.analysis.fitting import load_spec
from sim.cli import app
from sim.common.errors import ScenarioError
from sim.scenario.scale import MIN_AGENTS, MIN_HOME_AGENTS, MIN_PLACES, coarsest_faithful_scale, scale_problem

runner = CliRunner()
PLAN = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"


def test_each_kind_of_home_keeps_enough_home_agents():
    # Tianjin: 387 homes, 16.8% public: 65 public homes, 4 home agents of them at 65 / 4 persons per agent
    limit = coarsest_faithful_scale(make_scenario(region="tianjin"))
    assert limit.scale == pytest.approx(387 * 0.168 / MIN_HOME_AGENTS)
    assert "65 public care homes" in limit.reason
    # Wenzhou has two public homes: both must stay, so only one agent per person
    assert coarsest_faithful_scale(make_scenario(region="wenzhou")).scale == 1.0
    # the nation's 19,000 public homes allow coarse scales
    assert coarsest_faithful_scale(make_scenario(region="china")).scale > 1000


def test_every_capacity_a_scenario_sets_keeps_enough_places():
    few = make_scenario(region="tianjin", policy={"beds": {"family_beds": {2025: 200}}})
    limit = coarsest_faithful_scale(few)
    assert limit.scale == pytest.approx(200 / MIN_PLACES) and "200 family beds" in limit.reason
    assert scale_problem(few.model_copy(update={"scale": 4.0})) is None
    assert "use at most 4 persons per agent" in scale_problem(few.model_copy(update={"scale": 5.0}))


def test_sim_run_and_validate_refuse_a_coarse_scale_in_one_line_and_write_nothing(tmp_path):
    out = tmp_path / "run"
    for command in (["run", str(PLAN), "--out", str(out)], ["validate", str(PLAN)]):
        result = runner.invoke(app, [*command, "--set", "scale=100"])
        assert result.exit_code == 2
        line = result.output.strip()
        assert "\n" not in line and line.startswith(f"error: {PLAN}: scale = 100: results would depend on the scale")
        assert "use at most 16.25 persons per agent" in line
    assert not out.exists()
    assert runner.invoke(app, ["validate", str(PLAN), "--set", "scale=16"]).exit_code == 0


def test_sweeps_and_calibrations_refuse_a_coarse_scale(tmp_path):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"scenario: {PLAN}\nset: {{scale: 50}}\nmethod: {{name: morris, trajectories: 4}}\n"
        "factors:\n  - {key: policy.beds.total.2025, range: [80000, 120000]}\n"
        "outcomes:\n  - {name: w, indicator: waiting_list, aggregate: max}\n"
    )
    with pytest.raises(ExperimentError, match="scale = 50: results would depend on the scale"):
        load_experiment(experiment)
    spec = (ROOT / "calibration" / "tianjin-2020.yaml").read_text().replace("scale: 4 ", "scale: 40 ")
    assert "scale: 40 " in spec
    (tmp_path / "fit.yaml").write_text(spec)
    with pytest.raises(ScenarioError, match=r"scale = 40: results would depend on the scale: use at most 16\.25"):
        load_spec(tmp_path / "fit.yaml")


def test_a_small_population_keeps_enough_elder_agents():
    small = make_scenario(region="tianjin", data={"population_60plus": 400_000})
    limit = coarsest_faithful_scale(small)
    assert limit.scale == pytest.approx(400_000 / MIN_AGENTS) and "must be at least 40,000 agents" in limit.reason
