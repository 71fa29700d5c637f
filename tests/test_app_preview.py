"""The app's emulated preview: when an emulator speaks for a scenario (and why not), its yearly lines, and
`sim app --emulator` refusing a folder it cannot use. A tiny emulator of Shengzhou's plan (20,000 people,
to 2026, yearly outcomes) is trained once for the module."""

import dataclasses

import numpy as np
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.analysis.emulator_training import Plan, train_emulator
from sim.analysis.experiment import load_experiment
from sim.analysis.preview import Preview, Verdict, as_json, best_verdict, yearly_lines
from sim.cli import app
from sim.scenario.files import what_if

YEARS = list(range(2021, 2027))
TINY_YEARLY = {
    "name": "tiny-preview",
    "scenario": str(ROOT / "scenarios" / "shengzhou-2026.yaml"),
    "set": {"horizon": 2026, "data.population_60plus": 20000, "scale": 1},
    "method": {"name": "sobol", "base_samples": 8},
    "factors": [
        {"key": "policy.beds.total.2025", "range": [3000, 6000]},
        {"key": "policy.insurance.eligible_from", "levels": ["moderate", "severe", "total"]},
        {"key": "policy.insurance.start_year", "type": "int", "range": [2021, 2025]},
    ],
    # beds follow the lever's path (predicted to the standard); occupancy and the waiting list are noisy at this size
    "outcomes": [{"name": f"beds_{y}", "indicator": "beds", "group": "all/all", "year": y} for y in YEARS]
    + [{"name": f"occupancy_{y}", "indicator": "occupancy", "group": "all", "year": y} for y in YEARS]
    + [{"name": f"waiting_{y}", "indicator": "waiting_list", "year": y} for y in reversed(YEARS)]
    + [{"name": "peak_waiting", "indicator": "waiting_list", "aggregate": "max"}],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preview")
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(TINY_YEARLY), encoding="utf-8")
    exp = load_experiment(path)
    train_emulator(exp, folder / "em", Plan(runs=48, holdout=12, replicates=3), workers=1)
    return exp, Preview.load(folder / "em")


def scenario(exp, *changes: str) -> dict:
    """The experiment's base scenario with ``--set`` changes, resolved, as the app has a draft's."""
    return as_json(what_if(exp.base.model_dump(), list(changes), "test", "test"))


def test_yearly_outcomes_make_one_line_per_indicator_and_breakdown_in_year_order():
    lines = yearly_lines(TINY_YEARLY["outcomes"])
    assert [(line.indicator, line.breakdown) for line in lines] == [
        ("beds", {"group": "all/all"}),
        ("occupancy", {"group": "all"}),
        ("waiting_list", {}),
    ]  # the aggregate (peak) is not a point of a line
    assert lines[2].years == YEARS and lines[2].outcomes == [f"waiting_{y}" for y in YEARS]  # listed backwards
    mixed = [
        {"name": "a", "indicator": "population", "age_group": "80+", "year": 2030},
        {"name": "b", "indicator": "population", "year": 2030},
        {"name": "c", "indicator": "population", "age_group": "80+", "year": 2025},
    ]
    assert [(line.breakdown, line.outcomes) for line in yearly_lines(mixed)] == [
        ({"age_group": "80+"}, ["c", "a"]),
        ({}, ["b"]),
    ]


def test_the_emulator_applies_to_its_scenario_with_only_its_factors_moved_within_range(tiny):
    exp, preview = tiny
    verdict = preview.verdict(scenario(exp, "policy.beds.total={2025: 4500}", "policy.insurance.eligible_from=total"))
    assert verdict.applies and verdict.values == (4500.0, "total", 2024)
    # the run's settings do not change what a run is expected to show: name, seed, replicates, targets
    again = preview.verdict(
        scenario(exp, "policy.beds.total={2025: 4500}", "seed=7", "replicates=5", "name=mine", "targets=[]")
    )
    assert again.applies and again.values == (4500.0, "severe", 2024)


@pytest.mark.parametrize(
    "changes, expected",
    [
        (["policy.beds.total={2025: 7000}"], Verdict(reason="range", key="policy.beds.total.2025", value=7000.0,
                                                     allowed="3000 to 6000")),
        (["policy.beds.total={2025: 4000}", "policy.insurance.start_year=2026"],
         Verdict(reason="range", key="policy.insurance.start_year", value=2026,
                 allowed="2021, 2022, 2023, 2024, 2025")),
        (["policy.beds.total={2025: 4000}", "policy.family.respite_days={2025: 20}"],
         Verdict(reason="lever", key="policy.family.respite_days", value={"2025": 20.0})),
        (["policy.beds.total={2025: 4000, 2026: 5000}"],
         Verdict(reason="form", key="policy.beds.total", value={"2025": 4000.0, "2026": 5000.0})),
        (["policy.beds.total={2025: 4000}", "data.mortality_multiplier=1.1"],
         Verdict(reason="scenario", key="data.mortality_multiplier")),
        ([], Verdict(reason="range", key="policy.beds.total.2025", value=None, allowed="3000 to 6000")),
    ],
)  # fmt: skip
def test_the_emulator_says_why_it_does_not_apply(tiny, changes, expected):
    exp, preview = tiny
    assert preview.verdict(scenario(exp, *changes)) == expected


def test_another_region_is_another_scenario_and_the_closest_miss_is_reported(tiny):
    exp, preview = tiny
    other = as_json(what_if({"region": "tianjin"}, [], "test", "test"))
    assert preview.verdict(other).reason == "scenario"
    near = scenario(exp, "policy.beds.total={2025: 9000}")
    assert best_verdict([preview, preview], other)[1].reason == "scenario"
    assert best_verdict([preview], near)[1].reason == "range"
    assert best_verdict([preview], scenario(exp, "policy.beds.total={2025: 5000}"))[1].applies


def test_a_preview_draws_usable_years_only_each_with_the_emulators_own_prediction_and_band(tiny):
    exp, preview = tiny
    em = preview.emulator
    dropped = "waiting_2023"
    validation = {o: dict(v, usable=True) for o, v in em.validation.items()}
    validation[dropped] = dict(validation[dropped], usable=False, r2=0.41)
    preview = dataclasses.replace(preview, emulator=dataclasses.replace(em, validation=validation))
    values = (5000.0, "moderate", 2022)
    lines = {p.line.indicator: p for p in preview.predict(values)}
    waiting = lines["waiting_list"]
    direct = em.predict([values])
    for i, (year, outcome) in enumerate(zip(waiting.line.years, waiting.line.outcomes, strict=True)):
        if outcome == dropped:
            assert np.isnan(waiting.mean[i]) and not waiting.usable[i]
            continue
        low, high = direct[outcome].interval()
        assert waiting.mean[i] == pytest.approx(direct[outcome].mean[0]), year
        assert (waiting.low[i], waiting.high[i]) == pytest.approx((low[0], high[0]))
        assert waiting.low[i] < waiting.mean[i] < waiting.high[i]
    assert preview.not_usable(waiting.line) == [(2023, validation[dropped])]
    assert waiting.relative_error == max(validation[o]["relative_error"] for o in waiting.line.outcomes if o != dropped)
    # beds decide occupancy: more beds, lower occupancy, as the model says
    more = {p.line.indicator: p for p in preview.predict((6000.0, "moderate", 2022))}["occupancy"]
    assert more.mean[-1] < lines["occupancy"].mean[-1]


def test_only_outcomes_meeting_the_standard_are_predicted(tiny):
    exp, preview = tiny
    predicted = preview.predict((4000.0, "severe", 2023))
    usable = set(preview.emulator.usable())
    for p in predicted:
        for outcome, drawn, mean in zip(p.line.outcomes, p.usable, p.mean, strict=True):
            assert drawn == (outcome in usable) and np.isfinite(mean) == drawn


def test_the_apps_one_line_says_what_to_change(tiny):
    from sim.app.preview_view import why_not

    exp, preview = tiny
    verdict = preview.verdict(scenario(exp, "policy.beds.total={2025: 7000}"))
    assert why_not(preview, verdict, "en") == (
        "No emulated preview: Care-home beds (all types), 2025 = 7000 is outside what the emulator learnt "
        "(3000 to 6000); it is not extrapolated: press Run"
    )
    assert "养老机构床位总数" in why_not(preview, verdict, "zh")
    lever = preview.verdict(scenario(exp, "policy.beds.total={2025: 4000}", "policy.family.respite_days={2025: 20}"))
    assert "is not one of the levers the emulator learnt" in why_not(preview, lever, "en")
    form = preview.verdict(scenario(exp, "policy.beds.total={2025: 4000, 2026: 5000}"))
    assert "by its 2025 value only" in why_not(preview, form, "en")


def test_sim_app_refuses_an_emulator_folder_it_cannot_use_before_serving(tiny, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["app", "--runs", str(tmp_path), "--emulator", str(tmp_path / "none")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--emulator = '{tmp_path / 'none'}': not an emulator folder" in lines[0], result.output
    exp = load_experiment(ROOT / "experiments" / "ishigami-sobol.yaml")
    train_emulator(exp, tmp_path / "ish", Plan(runs=16, holdout=4, replicates=1), workers=1)
    result = runner.invoke(app, ["app", "--runs", str(tmp_path), "--emulator", str(tmp_path / "ish")])
    assert result.exit_code == 2 and "an emulator of a test function, not of a scenario" in result.output
