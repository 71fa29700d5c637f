"""`sim steps` (issue 29): the plan with a lever raised by given steps on common random numbers."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis.steps import StepsError, parse_steps, run_steps
from sim.cli import app
from sim.scenario.files import load_scenario
from tests.conftest import ROOT

runner = CliRunner()
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"


def test_steps_are_parsed_and_bad_ones_refused():
    steps = parse_steps(["+10%", "-5%,+2000", "3"])
    assert [(s.text, s.amount, s.relative) for s in steps] == [
        ("+10%", 10, True), ("-5%", -5, True), ("+2000", 2000, False), ("+3", 3, False)
    ]  # fmt: skip
    assert steps[0].apply(200) == pytest.approx(220) and steps[2].apply(1) == 2001
    for bad in (["ten"], ["+0%"], ["+5x"], []):
        with pytest.raises(StepsError):
            parse_steps(bad)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--lever", "policy.beds.nope", "--by", "+10%"], "--lever = 'policy.beds.nope': must be a numeric lever"),
        (["--lever", "policy.insurance.coverage", "--by", "+10%"], "must be a numeric lever"),
        (["--lever", "policy.beds.total", "--by", "ten"], "--by = 'ten': a step is +N or +N%"),
        (["--lever", "policy.beds.nursing_share", "--by", "+1"], "policy.beds.nursing_share would leave its range"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, words):
    out = tmp_path / "steps"
    result = runner.invoke(app, ["steps", str(PLAN), *args, "--out", str(out), "--replicates", "2", "--workers", "1"])
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_steps_change_the_lever_and_keep_the_draws():
    scenario = load_scenario(PLAN, ["horizon=2026", "replicates=3"])
    frame, _ = run_steps(scenario, "policy.beds.dementia_per_10k", parse_steps(["+50%", "+100%"]), workers=1)
    plan = frame[frame.step == "plan"].set_index("measure")
    assert (plan.change == 0).all() and (plan.change_p05 == 0).all()  # the plan against itself
    dementia = frame[frame.measure == "dementia_beds_per_10k"].set_index("step")
    assert dementia.loc["+50%", "value"] > plan.loc["dementia_beds_per_10k", "value"]
    assert dementia.loc["+100%", "change"] == pytest.approx(2 * dementia.loc["+50%", "change"], rel=0.05)
    cost = frame[frame.measure == "plan_cost_cumulative"].set_index("step")
    assert cost.loc["+100%", "change"] > cost.loc["+50%", "change"] > 0
    assert set(frame.measure) == {t.indicator for t in scenario.targets} | {"plan_cost_cumulative"}
    again, _ = run_steps(scenario, "policy.beds.dementia_per_10k", parse_steps(["+50%", "+100%"]), workers=1)
    pd.testing.assert_frame_equal(frame, again)  # same seeds, same answers


def test_command_writes_table_chart_and_manifest(tmp_path):
    out = tmp_path / "steps"
    args = ["steps", str(PLAN), "--lever", "policy.workforce.trained_per_year", "--by", "+500", "--lang", "zh"]
    result = runner.invoke(
        app, [*args, "--set", "horizon=2026", "--replicates", "2", "--workers", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "steps.csv", "steps_en.png", "steps_zh.png"]
    assert "规划" in result.output
