"""The lever catalogue is the one place levers are declared: the scenario schema, the yearly levers the model
hands its submodels and the app's fields offer exactly what it lists, with its ranges, defaults and labels."""

import copy

import pandas as pd
import pytest
import yaml
from conftest import ROOT, make_scenario
from typer.testing import CliRunner

from sim.catalogues.levers import COST_GROUPS, lever_catalogue, parse
from sim.cli import app
from sim.scenario import load_scenario
from sim.scenario.levers import lever_path, path_value, year_levers
from sim.scenario.policy import SECTION_MODELS, Policy

LEVERS = lever_catalogue()
runner = CliRunner()


def test_the_schema_offers_exactly_the_catalogue_with_its_defaults():
    assert set(Policy.model_fields) == set(SECTION_MODELS) == {lever.section for lever in LEVERS.levers.values()}
    schema_keys = {f"policy.{s}.{name}" for s, model in SECTION_MODELS.items() for name in model.model_fields}
    assert schema_keys == set(LEVERS.levers)
    defaults = make_scenario().policy
    for lever in LEVERS.levers.values():
        field = SECTION_MODELS[lever.section].model_fields[lever.name]
        assert field.description == lever.help["en"]
        value = getattr(getattr(defaults, lever.section), lever.name)
        assert value == (None if lever.type == "schedule" else lever.default), lever.key


def test_the_documented_scenario_lists_every_key_with_its_default():
    """scenarios/tianjin-baseline.yaml is the scenario's reference: every key of the schema, each at the
    value the schema gives when the key is left out (a lever added without its line there fails here)."""

    def flat(tree, prefix=""):
        for key, value in tree.items():
            if isinstance(value, dict) and value and key not in ("title", "description"):
                yield from flat(value, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}", value

    documented = dict(flat(yaml.safe_load((ROOT / "scenarios" / "tianjin-baseline.yaml").read_text(encoding="utf-8"))))
    defaults = dict(flat(make_scenario(region="tianjin").model_dump(mode="json")))
    assert {k for k in defaults if k.startswith("policy.")} == set(LEVERS.levers)
    missing = sorted(k for k in defaults if k not in documented and k not in ("region_file",))
    assert not missing, missing
    for key, value in documented.items():
        if key not in ("name", "title", "description"):
            assert value == defaults[key] or (value is None and defaults[key] is None), key


def test_the_app_offers_exactly_the_catalogue_with_its_labels():
    from sim.app.editing import lever_sections, section_title
    from sim.app.texts import choice_label, lever_label

    sections = lever_sections()
    offered = {key for name, fields in sections.items() if name != "run" for key, _ in fields}
    assert offered == set(LEVERS.levers)
    for name, fields in sections.items():
        if name == "run":
            continue
        assert section_title(name, "zh") == LEVERS.groups[name]["zh"]
        for key, kind in fields:
            lever = LEVERS[key]
            assert lever.group == name and lever_label(key, "en") == lever.labels["en"]
            assert kind == {"schedule": "path", "choice": "choice", "year": "year_or_none"}.get(lever.type, "number")
            for value in lever.choices:
                assert choice_label(key, value, "zh") == lever.choices[value]["zh"]


@pytest.mark.parametrize("lever", [lv for lv in LEVERS.levers.values() if isinstance(lv.high, int | float)])
def test_every_bounded_lever_refuses_a_value_beyond_its_range_in_one_line(tmp_path, lever):
    value = lever.high * 2 + 1
    setting = f"{lever.key}={{2025: {value}}}" if lever.type == "schedule" else f"{lever.key}={value}"
    result = CliRunner().invoke(app, ["validate", str(ROOT / "scenarios" / "shengzhou-2026.yaml"), "--set", setting])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert lever.key in result.output and "must be" in result.output, result.output


def test_the_years_levers_are_the_paths_from_their_base_values():
    scenario = make_scenario(
        region="tianjin", horizon=2030, policy={"beds": {"total": {2025: 100000}}, "health": {"onset_multiplier": 0.8}}
    )
    from sim.data.parameters import care_baseline
    from sim.data.regions import load_region

    baseline, population = care_baseline("tianjin"), load_region("tianjin").population_total()
    levers = year_levers(scenario, baseline, population)
    assert sorted(levers) == list(range(2020, 2031))
    for year, values in levers.items():
        assert values.beds.total == path_value({2025: 100000}, year, 2020, baseline["beds"]["value"])
        assert values.health.onset_multiplier == 0.8 and values.insurance.coverage == "urban_employees"
        dementia = baseline["dementia_beds"]["value"] / population * 1e4
        assert values.beds.dementia_per_10k == pytest.approx(dementia)  # kept at the base year's rate
    with pytest.raises(AttributeError):
        levers[2025].beds.total = 1  # immutable


def test_each_target_has_at_most_one_lever_and_each_lever_a_cost_group():
    from sim.catalogues.indicators import catalogue

    moved = [t for lever in LEVERS.levers.values() for t in lever.moves]
    assert len(moved) == len(set(moved)) and set(moved) <= set(catalogue().targets)
    assert LEVERS.for_target("beds_total") == ("policy.beds.total", 1)
    assert LEVERS.for_target("waiting_list") == ("policy.beds.total", -1)
    assert LEVERS.for_target("home_share") is None
    for lever in LEVERS.levers.values():
        assert lever.cost in COST_GROUPS or lever.cost.startswith("none ("), lever.key


def test_a_catalogue_missing_a_label_or_naming_an_unknown_target_is_refused():
    raw = yaml.safe_load((ROOT / "sim" / "catalogues" / "levers.yaml").read_text("utf-8"))
    broken = copy.deepcopy(raw)
    del broken["levers"]["policy.beds.total"]["zh"]
    with pytest.raises(ValueError, match="policy.beds.total: no label zh"):
        parse(broken)
    broken = copy.deepcopy(raw)
    broken["levers"]["policy.beds.total"]["moves"]["no_such_target"] = 1
    with pytest.raises(ValueError, match="moves.no_such_target"):
        parse(broken)
    broken = copy.deepcopy(raw)
    broken["levers"]["policy.beds.nursing_share"]["moves"] = {"beds_total": 1}
    with pytest.raises(ValueError, match="beds_total is moved by policy.beds.total and policy.beds.nursing_share"):
        parse(broken)


@pytest.mark.parametrize(
    ("profile", "path"),
    [  # beds from Tianjin's 76,000 in 2020 to 120,000 by 2025: the change done by each year
        ("linear", [76000, 84800, 93600, 102400, 111200, 120000, 120000]),
        ("front_loaded", [76000, 91840, 104160, 112960, 118240, 120000, 120000]),
        ("back_loaded", [76000, 77760, 83040, 91840, 104160, 120000, 120000]),
        ("step", [76000, 76000, 76000, 76000, 76000, 120000, 120000]),
    ],
)
def test_a_named_profile_shapes_the_change(profile, path):
    total = {"to": 120000, "by": 2025, "profile": profile}
    scenario = make_scenario(region="tianjin", policy={"beds": {"total": total}})
    assert list(lever_path(scenario, "policy.beds.total").values())[:7] == pytest.approx(path)


def test_a_profile_starts_when_told_and_round_trips_through_a_run(tmp_path):
    spec = "{to: 120000, by: 2023, profile: back_loaded, start: 2021}"
    out = tmp_path / "run"
    plan = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"  # it names an observations file, relative to itself
    sets = ["--set", f"policy.beds.total={spec}", "--set", "horizon=2025", "--set", "scale=16"]
    assert runner.invoke(app, ["run", str(plan), *sets, "--out", str(out), "--no-charts"]).exit_code == 0
    scenario = load_scenario(out / "scenario.yaml")
    assert list(lever_path(scenario, "policy.beds.total").values()) == pytest.approx(
        [76000, 76000, 87000, *[120000] * 3]
    )
    again = tmp_path / "again"
    result = runner.invoke(app, ["run", str(out / "scenario.yaml"), "--out", str(again), "--no-charts"])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"), pd.read_parquet(again / "results.parquet"))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{to: 120000, by: 2025, profile: wobbly}", "policy.beds.total.profile = 'wobbly': must be one of linear,"),
        ("{to: 120000, by: 2040}", "policy.beds.total.by = 2040: must be after the base year (2020) and at most 2035"),
        ("{to: 120000, by: 2025, start: 2025}", "policy.beds.total.start = 2025: must be from 2020 to before `by`"),
        ("{to: .nan, by: 2025}", "policy.beds.total.to = nan: must be a finite number"),
        ("{to: -5, by: 2025}", "policy.beds.total.to = -5: must be >= 0"),
        ("{to: 120000}", "policy.beds.total.by: is required"),
        ("{to: 120000, by: 2025, colour: red}", "policy.beds.total.colour = 'red': unknown key (allowed: by, profile,"),
    ],
)
def test_a_bad_profile_is_one_line(tmp_path, spec, expected):
    out = tmp_path / "run"
    plan = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"
    result = runner.invoke(app, ["run", str(plan), "--set", f"policy.beds.total={spec}", "--out", str(out)])
    assert result.exit_code == 2 and expected in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()
