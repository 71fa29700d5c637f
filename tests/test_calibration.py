"""Calibration: recovering known parameters, reproducibility, the shipped fits, and how scenarios use them."""

import hashlib
import json

import numpy as np
import pytest
import yaml
from conftest import ROOT, make_scenario
from typer.testing import CliRunner

from sim.analysis.fit_check import validate
from sim.analysis.fitting import CalibrationSpec, FitTarget, calibrate, load_spec, simulate
from sim.catalogues.indicators import catalogue
from sim.cli import app
from sim.data.fits import resolve, shipped, with_values
from sim.data.parameters import behaviour_sha256
from sim.data.parameters import defaults as parameter_defaults
from sim.data.regions import region_keys
from sim.model.model import AgeingModel

runner = CliRunner()
REGIONS = ["china", "city003", "shengzhou", "tianjin", "wenzhou", "xuchang"]

# Synthetic observations: Shengzhou's base year at one agent per person, occupancy of public and private
# homes, generated from known preferences with the fit's own random streams.
TRUTH = {"choice_constant.public_home": -3.5, "choice_constant.private_home": -1.5}  # public homes not full
RECOVERY_BOUND = 0.5  # utility units; the searched range is 7 wide


def _synthetic_spec(values=None, **method) -> CalibrationSpec:
    targets = [
        FitTarget(label=g, indicator="occupancy", group=g, year=2020, value=v, tolerance=0.02, source="synthetic")
        for g, v in (values or {"public": 0.5, "private": 0.5}).items()
    ]
    return CalibrationSpec(
        region="shengzhou",
        inherit="tianjin-2020",  # with Tianjin's staffing public homes at this preference are not short of staff
        scale=1,
        replicates=2,
        check_replicates=4,
        parameters=[{"name": k, "low": -5, "high": 2, "reason": "test"} for k in TRUTH],
        targets=targets,
        method={"seed": 3, "particles": 48, "moves": 2, **method},
    )


def _observed(spec: CalibrationSpec, values: dict, members: dict | None = None) -> np.ndarray:
    """The fit's own simulated mean (its seed and replicates) with these values: an observation without error."""
    values = {**(members or {}), **values}
    return np.mean([simulate(spec, values, r, spec.seed, spec.targets) for r in range(spec.replicates)], axis=0)


@pytest.fixture(scope="module")
def synthetic_fit():
    probe = _synthetic_spec()
    member = {k: v for k, v in probe.inherited_ensemble()[0].items()} if probe.inherited_ensemble() else {}
    observed = _observed(probe, TRUTH, member)
    spec = _synthetic_spec(dict(zip(("public", "private"), map(float, observed), strict=True)))
    return spec, calibrate(spec)


def test_calibrate_recovers_known_parameters(synthetic_fit):
    spec, fit = synthetic_fit
    for name, truth in TRUTH.items():
        assert abs(fit.values[name] - truth) < RECOVERY_BOUND, (name, fit.values[name])
        low, high = fit.ensemble[name].quantile([0.05, 0.95])
        assert low <= truth <= high, (name, low, high)  # the ensemble covers the truth
        assert high - low < 0.5 * (spec.parameters[0].high - spec.parameters[0].low)  # and is narrower than the prior
    assert fit.objective < 1.0  # within one tolerance on average
    assert len(fit.ensemble) == spec.method.particles
    assert fit.posterior.stages[-1].beta == 1.0
    assert min(st.acceptance for st in fit.posterior.stages) > 0.05  # the particles moved at every stage
    # away from the truth the objective rises: both parameters are pinned down
    profile = fit.profile.groupby("parameter").objective.max()
    assert (profile > fit.objective).all()
    # the check runs give the ensemble's spread, wider than the point estimate's random draws alone
    table = fit.table[fit.table.kind == "target"]
    assert ((table.ensemble_p95 - table.ensemble_p05) >= (table.p95 - table.p05)).all()


def test_calibration_is_reproducible_whatever_the_workers(synthetic_fit):
    spec, _ = synthetic_fit
    spec = spec.model_copy(update={"method": spec.method.model_copy(update={"particles": 16, "moves": 1})})
    one = calibrate(spec, workers=1)
    two = calibrate(spec, workers=2)
    assert one.values == two.values
    assert one.ensemble.equals(two.ensemble)
    assert one.history.equals(two.history)
    assert one.table.equals(two.table)


def test_with_values_sets_one_number_and_keeps_the_rest():
    defaults = parameter_defaults()
    out = with_values({"choice_constant.public_home": -1.25, "need_hours_per_week.3": 40, "burden_limit": 2}, defaults)
    assert out["choice_constant"] == {**defaults["choice_constant"], "public_home": -1.25}
    hours = defaults["need_hours_per_week"]
    assert out["need_hours_per_week"] == [*hours[:3], 40.0, hours[4]]
    assert out["burden_limit"] == 2.0
    assert defaults["choice_constant"]["public_home"] != -1.25  # the defaults are not touched


# --- the shipped calibrations --------------------------------------------------------------------------
def test_every_region_ships_a_calibration_made_from_the_committed_file():
    assert shipped() == [f"{r}-2020" for r in region_keys()]
    for name in shipped():
        packaged = (ROOT / "sim" / "data" / "calibrations" / f"{name}.yaml").read_bytes()
        assert packaged == (ROOT / "calibration" / name / "fit.yaml").read_bytes(), name
        fit = yaml.safe_load(packaged)
        spec_text = (ROOT / "calibration" / f"{name}.yaml").read_text(encoding="utf-8")
        assert fit["fit"]["calibration_file_sha256"] == hashlib.sha256(spec_text.encode()).hexdigest(), name
        assert fit["fit"]["all_targets_within_tolerance"], name


# the plans' regions, and three provinces of different sizes for the 30 fitted alike (each ~10 s)
@pytest.mark.parametrize("name", [f"{r}-2020" for r in [*REGIONS, "tibet", "zhejiang", "shandong"]])
def test_shipped_calibration_reproduces_its_targets(name):
    """Re-run on the check seed: every fitted target and input check within its tolerance."""
    result = validate(name)
    targets = result.table[result.table.kind != "hold-out"]
    assert len(targets) >= 2
    assert targets.within.all(), targets[~targets.within][["label", "observed", "simulated"]]
    assert not result.notes  # the packaged data are those the fit was made with


def test_a_fit_is_stale_when_a_parameters_value_changes_not_when_its_source_is_reworded(monkeypatch):
    import sim.analysis.fit_check as fitting
    from sim.data.regions import DATA

    fit = yaml.safe_load((ROOT / "sim" / "data" / "calibrations" / "tianjin-2020.yaml").read_text())["fit"]
    text = DATA.joinpath("care_parameters.yaml").read_text(encoding="utf-8")
    reworded = text.replace("unit: yuan per month\n", "unit: yuan a month\n", 1)
    changed = text.replace("attrition_rate:\n  value: 0.25", "attrition_rate:\n  value: 0.3", 1)
    assert reworded != text and changed != text
    for edited, stale in ((reworded, []), (changed, ["care_parameters.yaml"])):
        hashes = {**fitting.data_file_hashes(), "care_parameters.yaml": "edited"}
        monkeypatch.setattr(fitting, "data_file_hashes", lambda hashes=hashes: hashes)
        monkeypatch.setattr(fitting, "behaviour_sha256", lambda edited=edited: behaviour_sha256(edited))
        assert fitting.stale_data(fit) == stale


def test_scenarios_use_their_regions_calibration_by_default():
    found = resolve("default", "tianjin", 2020)
    fit = yaml.safe_load((ROOT / "sim" / "data" / "calibrations" / "tianjin-2020.yaml").read_text())
    assert found["name"] == "tianjin-2020" and found["fitted"] == fit["fitted"]
    point = {"region": "shengzhou", "scale": 50, "horizon": 2021, "parameter_sets": "point"}
    model = AgeingModel(make_scenario(**point))
    shengzhou = yaml.safe_load((ROOT / "sim" / "data" / "calibrations" / "shengzhou-2020.yaml").read_text())
    for dotted, value in shengzhou["fitted"].items():
        top, key = dotted.split(".") if "." in dotted else (dotted, None)
        got = model.p.values[top] if key is None else model.p.values[top][key]
        assert got == pytest.approx(value)
    plain = AgeingModel(make_scenario(region="shengzhou", scale=50, horizon=2021, calibration="none"))
    assert plain.p.values["choice_constant"] == parameter_defaults()["choice_constant"]
    # a scenario's own parameters apply over the calibration, a mapping only at the keys it gives
    own = {"choice_constant": {"private_home": 0.5}}
    mine = AgeingModel(make_scenario(**point, data={"parameters": own}))
    assert mine.p.values["choice_constant"] == {**model.p.values["choice_constant"], "private_home": 0.5}
    assert mine.p.values["choice_constant"]["public_home"] == shengzhou["parameters"]["choice_constant"]["public_home"]


def test_run_manifest_records_the_calibration(tmp_path):
    out = tmp_path / "run"
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    result = runner.invoke(app, ["run", str(scenario), "--out", str(out), "--set", "horizon=2021", "--no-charts"])
    assert result.exit_code == 0, result.output
    recorded = json.loads((out / "manifest.json").read_text())["calibration"]
    packaged = (ROOT / "sim" / "data" / "calibrations" / "shengzhou-2020.yaml").read_bytes()
    assert recorded["name"] == "shengzhou-2020"
    assert recorded["sha256"] == hashlib.sha256(packaged).hexdigest()
    assert recorded["fitted"] == yaml.safe_load(packaged)["fitted"]


# --- bad calibration files -------------------------------------------------------------------------------
GOOD = (ROOT / "calibration" / "shengzhou-2020.yaml").read_text(encoding="utf-8")
BAD = {
    "unknown_parameter": (
        ("name: choice_constant.private_home", "name: choice_constant.palace"),
        "parameters.0.name = 'choice_constant.palace': choice_constant has no part 'palace' (allowed: family, "
        "home_care, day_care, family_bed, public_home, private_home)",
    ),
    "group_not_number": (
        ("name: choice_constant.private_home", "name: choice_constant"),
        "parameters.0.name = 'choice_constant': names a group of numbers; name one of them, e.g. "
        "choice_constant.family",
    ),
    "empty_range": (("    high: 2\n", "    high: -7\n"), "parameters.0.high = -7: must be above low (-6)"),
    "unknown_key": (("replicates: 2", "replicate: 2"), None),
    "fitted_target_later": (("    year: 2020\n    value: 0.50", "    year: 2025\n    value: 0.50"), None),
    "unknown_inherit": (("inherit: tianjin-2020", "inherit: tianjin-2019"), None),
    "negative_tolerance": (("    tolerance: 0.08", "    tolerance: -0.08"), "targets.0.tolerance = -0.08: must be > 0"),
    "group_the_indicator_lacks": (
        ("    indicator: occupancy\n", "    indicator: occupancy\n    group: palace\n"),
        "targets.0.group = 'palace': not a breakdown of occupancy (allowed: all, dementia, general, nursing, "
        "private, public)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_calibration_file_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    (old, new), message = BAD[case]
    assert old in GOOD
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert line.startswith(f"error: {path}: ") and "\n" not in line and "Traceback" not in line
    if message:
        assert line == f"error: {path}: {message}"
    assert not out.exists()


def test_target_naming_no_result_fails_before_the_search(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("indicator: occupancy", "indicator: happiness", 1))
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {path}: targets.0.indicator = 'happiness': unknown indicator (allowed: {catalogue().allowed()})"
    )
    assert not (tmp_path / "out").exists()


def test_load_spec_names_the_file():
    spec = load_spec(ROOT / "calibration" / "tianjin-2020.yaml")
    assert spec.name == "tianjin-2020" and spec.region == "tianjin"
    assert {t.indicator for t in spec.targets if t.fitted} >= {"occupancy", "concentrated_support_share"}


# --- the ensemble in runs -----------------------------------------------------------------------------
def test_replicates_draw_distinct_members_and_a_scenario_can_ask_for_the_point_or_one_member():
    fit = yaml.safe_load((ROOT / "sim" / "data" / "calibrations" / "shengzhou-2020.yaml").read_text())
    names, members = fit["ensemble"]["parameters"], fit["ensemble"]["members"]
    assert len(members) == fit["spec"]["method"]["particles"]

    def used(**changes):
        model = AgeingModel(make_scenario(region="shengzhou", scale=50, horizon=2021, **changes))
        return model.member, model.p.values["choice_constant"]["private_home"]

    drawn = [AgeingModel(make_scenario(region="shengzhou", scale=50, horizon=2021), r).member for r in range(6)]
    assert len(set(drawn)) == 6  # replicates use distinct members
    assert drawn == [AgeingModel(make_scenario(region="shengzhou", scale=50, horizon=2021), r).member for r in range(6)]
    member, value = used(parameter_member=7)
    assert member == 7 and value == pytest.approx(members[7][names.index("choice_constant.private_home")])
    member, value = used(parameter_sets="point")
    assert member is None and value == pytest.approx(fit["fitted"]["choice_constant.private_home"])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ("parameter_member=128", "parameter_member = 128: must be below the ensemble's size (128)"),
        ("parameter_sets=median", "parameter_sets = 'median'"),
    ],
)
def test_bad_ensemble_choice_is_one_line(tmp_path, changes, message):
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    result = runner.invoke(app, ["validate", str(scenario), "--set", changes])
    assert result.exit_code == 2
    assert message in result.output and "\n" not in result.output.strip()


def test_run_manifest_says_what_its_intervals_include(tmp_path):
    scenario = ROOT / "scenarios" / "shengzhou-baseline.yaml"
    for sets, words in ((["replicates=2"], "parameter uncertainty"), (["replicates=2", "parameter_sets=point"], None)):
        out = tmp_path / "-".join(sets)
        args = ["run", str(scenario), "--out", str(out), "--set", "horizon=2021", "--no-charts"]
        result = runner.invoke(app, args + [x for s in sets for x in ("--set", s)])
        assert result.exit_code == 0, result.output
        manifest = json.loads((out / "manifest.json").read_text())
        if words:
            assert words in manifest["intervals"]
            assert len(set(manifest["calibration"]["replicate_members"])) == 2
        else:
            assert manifest["intervals"].endswith("random draws")
            assert manifest["calibration"]["replicate_members"] is None
