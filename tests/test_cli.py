import json

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.cli import app
from sim.results.query import value

runner = CliRunner()
ALL_KEYS = (
    "base_year, calibration, data, description, horizon, name, observed, parameter_member, parameter_sets, policy, "
    "region, region_file, replicates, scale, seed, targets, title"
)

BAD = {
    "unknown_region": (
        "region: paris\n",
        "region = 'paris': unknown region (allowed: a key, English or Chinese name from `sim regions`, e.g. "
        "anhui, beijing, china, chongqing, city003, fujian, ...; or the path of a region file ending .yaml)",
    ),
    "horizon_before_base": (
        "region: tianjin\nhorizon: 2019\n",
        "horizon = 2019: must be after base_year (2020) and at most 2035",
    ),
    "horizon_too_late": (
        "region: tianjin\nhorizon: 2040\n",
        "horizon = 2040: must be after base_year (2020) and at most 2035",
    ),
    "base_year_not_census": (
        "region: tianjin\nbase_year: 2010\n",
        "base_year = 2010: must be 2020, the base year of region tianjin",
    ),
    "replicates_text": ("region: tianjin\nreplicates: many\n", "replicates = 'many': must be a whole number"),
    "replicates_fraction": ("region: tianjin\nreplicates: 2.5\n", "replicates = 2.5: must be a whole number"),
    "replicates_zero": ("region: tianjin\nreplicates: 0\n", "replicates = 0: must be >= 1"),
    "scale_below_one": ("region: tianjin\nscale: 0.5\n", "scale = 0.5: must be >= 1"),
    "scale_quoted": ("region: tianjin\nscale: '10'\n", "scale = '10': must be a number"),
    "seed_negative": ("region: tianjin\nseed: -1\n", "seed = -1: must be >= 0"),
    "misspelt_key": ("region: tianjin\nhorizonn: 2030\n", f"horizonn = 2030: unknown key (allowed: {ALL_KEYS})"),
    "negative_multiplier": (
        "region: tianjin\ndata:\n  entrants_multiplier: -0.5\n",
        "data.entrants_multiplier = -0.5: must be >= 0",
    ),
    "negative_count": (
        "region: tianjin\ndata:\n  population_60plus: -100\n",
        "data.population_60plus = -100: must be > 0",
    ),
    "unknown_data_key": (
        "region: tianjin\ndata:\n  fertility: 2\n",
        "data.fertility = 2: unknown key (allowed: disability_trend, entrants_multiplier, mortality_multiplier, "
        "onset_multiplier, "
        "parameters, population_60plus, recovery_multiplier, worsening_multiplier)",
    ),
    "share_above_one": (
        "region: tianjin\npolicy:\n  beds:\n    nursing_share: {2025: 1.6}\n",
        "policy.beds.nursing_share = {2025: 1.6}: must be between 0 and 1 in every year",
    ),
    "lever_year_outside_run": (
        "region: tianjin\npolicy:\n  beds:\n    total: {2040: 100000}\n",
        "policy.beds.total = {2040: 100000}: years must be from 2020 to 2035",
    ),
    "unknown_coverage": (
        "region: tianjin\npolicy:\n  insurance:\n    coverage: everyone\n",
        "policy.insurance.coverage = 'everyone': must be one of urban_employees, urban, all",
    ),
    "unknown_parameter": (
        "region: tianjin\ndata:\n  parameters:\n    happiness: 3\n",
        "data.parameters.happiness = 3: unknown parameter (sim/data/care_parameters.yaml and plan_costs.yaml list"
        " them)",
    ),
    "parameter_wrong_shape": (
        "region: tianjin\ndata:\n  parameters:\n    need_hours_per_week: [1, 2]\n",
        "data.parameters.need_hours_per_week = [1, 2]: must be a list of 5 numbers",
    ),
    "parameter_unknown_part": (
        "region: tianjin\ndata:\n  parameters:\n    choice_constant: {palace: 1}\n",
        "data.parameters.choice_constant = {'palace': 1}: must be a mapping with some of the keys family, "
        "home_care, day_care, family_bed, public_home, private_home",
    ),
    "unknown_target_indicator": (
        "region: tianjin\ntargets:\n  - {indicator: happiness, value: 1, year: 2025}\n",
        "targets.0.indicator = 'happiness': unknown indicator (allowed: beds_total, beds_per_1000, nursing_share, "
        "dementia_beds_per_10k, family_beds, certified_workers_per_10k, workers_trained, family_carers_trained, "
        "occupancy, public_occupancy, institution_share, community_share, home_share, unmet_need_share, "
        "ltci_beneficiaries, waiting_list)",
    ),
    "unknown_calibration": (
        "region: tianjin\ncalibration: tianjin-2030\n",
        "calibration = 'tianjin-2030': unknown calibration (allowed: default, none, a shipped one named "
        "<region>-<base year> such as tianjin-2020 (`sim regions` says which regions have one), or the path of a "
        "fit file)",
    ),
    "calibration_of_another_region": (
        "region: tianjin\ncalibration: wenzhou-2020\n",
        "calibration = 'wenzhou-2020': is a fit for region wenzhou, not tianjin",
    ),
    "section_not_mapping": ("region: tianjin\ndata: 3\n", "data = 3: must be a mapping of keys to values"),
    "missing_region": ("horizon: 2030\n", "region: is required"),
    "not_yaml": ("region: [tianjin\n", "not valid YAML at line 2"),
    "empty_file": ("", "the file is empty; a scenario needs at least `region`"),
    "list_not_mapping": ("- region: tianjin\n", "must be a mapping of keys to values, got list"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenario_is_one_line_exit_2_and_writes_nothing(tmp_path, case, command):
    text, message = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    args = [command, str(path)] + (["--out", str(out)] if command == "run" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {path}: {message}"
    assert "Traceback" not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_bad_override_names_the_key_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--set", "data.onset_multiplier=abc"])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {scenario}: data.onset_multiplier = 'abc': must be a number"
    assert not out.exists()


def test_missing_file(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and result.output.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"


@pytest.mark.parametrize("name", ["tianjin", "wenzhou", "xuchang", "shengzhou", "china"])
def test_shipped_scenarios_validate(name):
    result = runner.invoke(app, ["validate", str(ROOT / "scenarios" / f"{name}-baseline.yaml")])
    assert result.exit_code == 0, result.output
    assert f"valid ({name}, 2020-2035" in result.output


def test_run_writes_results_summary_manifest_and_scenario(tmp_path):
    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    result = runner.invoke(
        app, ["run", str(scenario), "--out", str(out), "--replicates", "3", "--seed", "9", "--set", "horizon=2030"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "charts",
        "manifest.json",
        "results.csv",
        "results.parquet",
        "scenario.yaml",
        "summary.csv",
        "summary.parquet",
        "targets.csv",
    ]
    results = pd.read_parquet(out / "results.parquet")
    assert list(results.columns) == [
        "run",
        "replicate",
        "year",
        "indicator",
        "sex",
        "age_group",
        "capacity",
        "residence",
        "group",
        "unit",
        "value",
    ]
    assert sorted(results.replicate.unique()) == [0, 1, 2] and results.year.max() == 2030
    pd.testing.assert_frame_equal(results, pd.read_csv(out / "results.csv"), check_dtype=False)
    summary = pd.read_csv(out / "summary.csv")
    summary = summary[summary["mean"].notna()]  # e.g. occupancy of a bed type there are none of
    assert (summary.p05 <= summary["mean"] + 1e-9).all() and (summary["mean"] <= summary.p95 + 1e-9).all()
    pop = value(summary, "population", 2030, sex="all", age_group="60+", column=["replicates", "p05", "p95"])
    assert pop.replicates == 3 and pop.p05 < pop.p95
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 9 and manifest["replicates"] == 3
    assert manifest["scenario"]["horizon"] == 2030 and manifest["scenario"]["region"] == "shengzhou"
    from sim.data.regions import data_file_hashes

    assert manifest["data_files_sha256"] == data_file_hashes()
    assert manifest["code"]["package"]
    if (ROOT / ".git").exists():  # a checkout: the commit the results were made with
        assert len(manifest["code"]["git_commit"]) == 40 and isinstance(manifest["code"]["git_dirty"], bool)
    assert sorted(p.name for p in (out / "charts" / "en").iterdir()) == [
        "care_arrangements.png",
        "demand_capacity.png",
        "insurance.png",
        "occupancy.png",
        "older_people.png",
        "workforce.png",
    ]
    # the resolved scenario reproduces the run
    again = tmp_path / "again"
    assert runner.invoke(app, ["run", str(out / "scenario.yaml"), "--out", str(again), "--no-charts"]).exit_code == 0
    pd.testing.assert_frame_equal(results, pd.read_parquet(again / "results.parquet"))


def test_a_failed_write_leaves_no_partial_results_and_keeps_the_old_ones(tmp_path, monkeypatch):
    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    assert (
        runner.invoke(app, ["run", str(scenario), "--out", str(out), "--set", "horizon=2022", "--no-charts"]).exit_code
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--set", "horizon=2025", "--no-charts"])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {out}: results not written (disk full); nothing was changed there"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left behind
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"} == before


def test_will_not_overwrite_a_folder_that_is_not_a_results_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    result = runner.invoke(app, ["run", str(ROOT / "scenarios" / "shengzhou-baseline.yaml"), "--out", str(out)])
    assert result.exit_code == 2
    assert (
        result.output.strip() == f"error: {out}: exists and is not a results folder of this tool; choose another --out"
    )
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


def test_schema_and_regions():
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    assert schema["required"] == ["region"]
    assert schema["properties"]["horizon"]["default"] == 2035
    assert "mortality_multiplier" in schema["$defs"]["DataOverrides"]["properties"]
    listing = runner.invoke(app, ["regions"]).output
    for name in ("Tianjin", "Wenzhou", "Xuchang", "Shengzhou", "China", "3,002,688", "WPP2024"):
        assert name in listing
    for name in ("Inner Mongolia", "内蒙古自治区", "新疆维吾尔自治区", "zhejiang"):
        assert name in listing


def test_set_reaches_a_year_of_a_lever_and_a_position_in_a_list():
    from sim.scenario import load_scenario

    plan = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"
    s = load_scenario(plan, ["policy.beds.total.2025=90000", "policy.beds.day_care_places.2030=30000"])
    assert s.policy.beds.total == {2025: 90000} and s.policy.beds.day_care_places == {2030: 30000}
    hours = "data.parameters.need_hours_per_week"
    s = load_scenario(plan, [f"{hours}=[0, 7, 21, 42, 63]", f"{hours}.3=40"])
    assert s.data.parameters["need_hours_per_week"] == [0, 7, 21, 40, 63]
    result = runner.invoke(
        app, ["validate", str(plan), "--set", f"{hours}=[0, 7, 21, 42, 63]", "--set", f"{hours}.5=1"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --set '{hours}.5=1': 5 is not a position in a list of 5"


def test_the_written_scenario_runs_again_as_it_was(tmp_path):
    """scenario.yaml keeps a lever's years as numbers, so the resolved scenario is itself a valid scenario."""
    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "tianjin-14th-fyp.yaml"
    args = ["run", str(scenario), "--out", str(out), "--no-charts", "--set", "scale=16", "--set", "horizon=2025"]
    assert runner.invoke(app, args).exit_code == 0
    from sim.scenario import load_scenario

    written = load_scenario(out / "scenario.yaml")
    assert written.name == "tianjin-14th-fyp_horizon-2025"  # a changed horizon is a what-if: its own name
    assert written == load_scenario(scenario, ["scale=16", "horizon=2025", f"name={written.name}"])
    assert written.policy.beds.total == {2025: 100000.0}


def test_a_what_if_run_is_named_for_its_changes_and_compare_keeps_them_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = ROOT / "scenarios" / "shengzhou-2026.yaml"
    common = ["--set", "horizon=2026", "--no-charts"]
    assert runner.invoke(app, ["run", str(plan), *common]).exit_code == 0
    result = runner.invoke(app, ["run", str(plan), *common, "--set", "policy.beds.total.2024=5000", "--seed", "7"])
    assert result.exit_code == 0, result.output
    plan_dir = tmp_path / "runs" / "shengzhou-2026_horizon-2026"
    what_if = tmp_path / "runs" / "shengzhou-2026_horizon-2026_total.2024-5000_seed-7"
    assert plan_dir.is_dir() and what_if.is_dir()  # the plan's own results are not overwritten
    manifest = json.loads((what_if / "manifest.json").read_text())
    assert manifest["scenario"]["name"] == what_if.name
    assert manifest["changes"] == ["horizon=2026", "policy.beds.total.2024=5000", "seed=7"]
    result = runner.invoke(app, ["compare", str(plan_dir), str(what_if), "--out", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    differences = (tmp_path / "cmp" / "differences.csv").read_text()
    assert f"{what_if.name} - {plan_dir.name}" in differences
    # scale and replicates leave the scenario itself alone: the name stays
    result = runner.invoke(app, ["run", str(plan), "--set", "scale=1", "--replicates", "1", "--no-charts"])
    assert result.exit_code == 0 and (tmp_path / "runs" / "shengzhou-2026").is_dir()
    assert not (tmp_path / "runs" / "shengzhou-2026_scale-1").exists()


def test_sweep_and_calibrate_take_set_with_one_line_errors(tmp_path):
    sweep = ["sweep", str(ROOT / "experiments" / "tianjin-levers-morris.yaml"), "--out", str(tmp_path / "s")]
    result = runner.invoke(app, [*sweep, "--set", "scale=1000"])
    assert result.exit_code == 2 and "scale = 1000: results would depend on the scale" in result.output
    result = runner.invoke(app, [*sweep, "--set", "scale"])
    assert result.exit_code == 2 and result.output.strip().endswith("--set 'scale': expected key.path=value")
    calibration = ["calibrate", str(ROOT / "calibration" / "shengzhou-2020.yaml"), "--out", str(tmp_path / "c")]
    result = runner.invoke(app, [*calibration, "--set", "scale=oops"])
    assert result.exit_code == 2 and "scale = 'oops': must be a number" in result.output
    assert not (tmp_path / "s").exists() and not (tmp_path / "c").exists()
    quick = ["--set", "method.particles=16", "--set", "method.moves=1", "--set", "check_replicates=2"]
    result = runner.invoke(app, [*calibration, *quick])
    assert result.exit_code == 0, result.output
    fit = yaml.safe_load((tmp_path / "c" / "fit.yaml").read_text())
    assert fit["spec"]["method"]["particles"] == 16 and len(fit["ensemble"]["members"]) == 16


def test_a_region_without_a_calibration_gets_a_one_line_note(monkeypatch):
    import sim.data.fits as fits

    monkeypatch.setattr(fits, "shipped", lambda: [])  # as for a region packaged without a calibration
    result = runner.invoke(app, ["validate", str(ROOT / "scenarios" / "shengzhou-baseline.yaml")])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "region shengzhou has no calibration" in notes[0] and "sim calibrate" in notes[0]
    monkeypatch.undo()
    result = runner.invoke(app, ["validate", str(ROOT / "scenarios" / "shengzhou-baseline.yaml")])
    assert "note:" not in result.output
