"""The search built from a scenario (sim/analysis/plan_search.py, the app's "Find a plan"): the catalogue's
levers that move the scenario's targets around the scenario's own levels, its targets at P >= 0.8, cost and unmet
need as objectives, the scenario cut at its targets' last year at its coarsest faithful scale; the same problem
as the problem file that states it; refused in one line without targets."""

import pytest
import yaml
from conftest import ROOT

from sim.analysis.plan_search import plan_problem, search_settings
from sim.analysis.problem import ProblemError, load_problem
from sim.scenario import load_scenario, parse_scenario
from sim.scenario.levers import lever_path
from sim.scenario.policy import PROFILES
from sim.scenario.scale import faithful_scale

TIANJIN = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"


def test_tianjins_plan_searches_the_levers_of_its_targets_to_2025_at_its_coarsest_faithful_scale():
    scenario = load_scenario(TIANJIN)
    problem = plan_problem(scenario, 1000)
    decisions = {d.key: d for d in problem.decisions}
    assert list(decisions) == [
        "policy.beds.total",  # beds_total and institution_share
        "policy.beds.nursing_share",
        "policy.beds.family_beds",
        "policy.workforce.trained_per_year",
        "policy.family.carers_trained_per_year",
    ]
    for key, d in decisions.items():
        assert d.type == "schedule" and d.by == 2025 and d.profiles == PROFILES
        level = lever_path(scenario, key)[2025]  # half to one and a half times the plan's own level
        assert (d.low, d.high) == pytest.approx((0.5 * level, 1.5 * level), rel=1e-6)
    assert (decisions["policy.beds.total"].low, decisions["policy.beds.total"].high) == (50000, 150000)
    assert (decisions["policy.beds.nursing_share"].low, decisions["policy.beds.nursing_share"].high) == (0.3, 0.9)
    assert [t.indicator for t in problem.targets] == [t.indicator for t in scenario.targets]
    assert problem.spec.constraints.probability == 0.8
    spec = problem.spec.objectives
    assert (spec[0].indicator, spec[0].group, spec[0].year, spec[0].statistic) == (
        "plan_cost_cumulative",
        "all",
        2025,
        "mean",
    )
    assert (spec[1].indicator, spec[1].year, spec[1].statistic, spec[1].quantile) == (
        "persons_with_unmet_need",
        2025,
        "quantile",
        0.9,
    )
    base = problem.base
    assert (base.horizon, base.scale, base.seed, base.replicates) == (2025, 16.0, scenario.seed, 1)
    assert base.scale == faithful_scale(scenario) and base.observed is None
    assert problem.spec.search.runs == 1000 and problem.spec.search.replicates.most == 16


def test_the_scenario_is_cut_at_its_targets_last_year_with_its_levers_unchanged_to_then():
    raw = {
        "name": "later-levers",
        "region": "shengzhou",
        "horizon": 2030,
        "policy": {
            "beds": {"total": {2022: 2600, 2030: 4000}, "family_beds": {"to": 500, "by": 2028, "profile": "step"}},
            "insurance": {"start_year": 2026},
        },
        "targets": [{"indicator": "beds_total", "value": 2500, "year": 2022}],
    }
    scenario = parse_scenario(raw, "test")
    problem = plan_problem(scenario, 200)
    base = problem.base
    assert base.horizon == 2022 and base.policy.insurance.start_year is None  # insurance would start later
    for key in ("policy.beds.total", "policy.beds.family_beds"):
        assert lever_path(base, key) == {y: v for y, v in lever_path(scenario, key).items() if y <= 2022}
    assert [d.key for d in problem.decisions] == ["policy.beds.total"]


def test_the_problem_is_the_one_its_problem_file_states(tmp_path):
    """One way to a problem: the file stating the same scenario, levers and settings loads to the same problem."""
    scenario = load_scenario(TIANJIN)
    problem = plan_problem(scenario, 200)
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(scenario.model_dump(), allow_unicode=True), encoding="utf-8")
    stated = problem.spec.model_dump() | {"scenario": "plan.yaml"}
    (tmp_path / "problem.yaml").write_text(yaml.safe_dump(stated, allow_unicode=True), encoding="utf-8")
    assert load_problem(tmp_path / "problem.yaml").fingerprint() == problem.fingerprint()


def test_a_scenario_without_targets_or_levers_for_them_is_refused_in_one_line():
    with pytest.raises(ProblemError, match=r"^tianjin-baseline: the scenario has no targets: a search needs"):
        plan_problem(load_scenario(ROOT / "scenarios" / "tianjin-baseline.yaml"), 200)
    unmoved = {"indicator": "home_share", "value": 0.1, "year": 2025}  # no lever moves it (catalogue)
    scenario = parse_scenario({"name": "x", "region": "shengzhou", "targets": [unmoved]}, "test")
    with pytest.raises(ProblemError, match=r"^x: no lever of sim/catalogues/levers.yaml moves its targets"):
        plan_problem(scenario, 200)


@pytest.mark.parametrize("runs", [4, 8, 40, 200, 1000, 3000])
@pytest.mark.parametrize("most", [1, 3, 16])
def test_every_budget_makes_a_search_of_at_least_one_generation_within_the_replicates_allowed(runs, most):
    search, verify = search_settings(runs, most)
    replicates = search["replicates"]
    assert search["population"] * replicates["first"] <= runs == search["runs"]
    assert replicates["first"] <= replicates["most"] <= max(most, 1) and verify["runs"] >= 1
    if runs >= 1000 and most >= 4:
        assert (search["population"], replicates["first"], replicates["most"]) == (16, 4, most)
