"""Regions: the 31 provinces from their census tables, names in English and Chinese, and a user's own city."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml
from conftest import ROOT, make_scenario
from typer.testing import CliRunner

from sim.cli import app
from sim.common.errors import ScenarioError
from sim.data.fits import resolve, shipped
from sim.data.parameters import care_baseline, care_baselines
from sim.data.regions import PROVINCES, find_region, load_region, region_catalogue, region_keys
from sim.model.model import AgeingModel

SHARED = ROOT.parent / "shared" / "data"
EXAMPLE = ROOT / "docs" / "examples"
runner = CliRunner()


def census_60plus_groups(region_zh: str) -> dict[tuple[str, int], float]:
    """The 2020 census 60+ by sex and 5-year group (100+ as 100) for a province, from ../shared."""
    out = {}
    with open(SHARED / "census_age_sex_all_ages_2010_2020.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["year"] == "2020" and r["region_zh"] == region_zh and r["sex"] in ("male", "female"):
                lo = r["age_group"].split("-")[0].rstrip("+")
                if lo.isdigit() and int(lo) >= 60:
                    out[(r["sex"], int(lo))] = float(r["persons"])
    return out


def by_group(persons: np.ndarray) -> dict[tuple[str, int], float]:
    """[sex, age 60..110] -> {(sex, 5-year group start): persons}, 100 and over together."""
    out = {}
    for s, sex in enumerate(("male", "female")):
        for i, n in enumerate(persons[s]):
            key = (sex, min(60 + i, 100) // 5 * 5)
            out[key] = out.get(key, 0.0) + n
    return out


def test_the_31_provinces_are_packaged_with_chinese_names_and_their_census_tables():
    catalogue = region_catalogue()
    assert len(PROVINCES) == 31 and set(PROVINCES) <= set(region_keys())
    for key in PROVINCES:
        meta = catalogue[key]
        assert meta["name_zh"].endswith(("省", "市", "自治区")) and meta["census_region"] in meta["name_zh"]
        assert "Table 1-5" in meta["sources"]["population"]
        assert {"value", "source"} <= set(meta["urban_share_2020"])
        assert all(figure["source"] for figure in care_baselines()[key].values())
    # the provinces' 60+ add up to China's
    total = sum(load_region(key).population_total() for key in PROVINCES)
    assert total == pytest.approx(load_region("china").population_total(), abs=1)


def test_every_packaged_region_has_its_care_supply_and_a_calibration():
    """A region without care data used to validate and then fail in `sim run` with a KeyError."""
    assert set(care_baselines()) == set(region_keys())
    assert {name.removesuffix("-2020") for name in shipped()} == set(region_keys())


@pytest.mark.skipif(not SHARED.exists(), reason="the census tables (../shared/data) are not beside this checkout")
@pytest.mark.parametrize("key", PROVINCES)
def test_every_provinces_packaged_60plus_is_its_census_by_sex_and_age_group(key):
    census = census_60plus_groups(region_catalogue()[key]["census_region"])
    packaged = by_group(load_region(key).base_population())
    assert packaged.keys() == census.keys()
    for group, persons in census.items():
        assert packaged[group] == pytest.approx(persons, abs=1e-6), group


@pytest.mark.skipif(not SHARED.exists(), reason="the census tables (../shared/data) are not beside this checkout")
def test_a_province_run_starts_from_its_census_60plus_by_age_group_exactly():
    model = AgeingModel(make_scenario(region="西藏", seed=4, horizon=2021), care=False)
    agents = model.record[0].population.persons.sum(axis=(0, -1))  # [sex, age] at the census, one agent per person
    census = census_60plus_groups("西藏")
    simulated = by_group(agents)
    for group, persons in census.items():
        if group[1] < 100:
            assert simulated[group] == persons, group
        else:  # the open group is spread over single years 100-110, each rounded to whole agents
            assert abs(simulated[group] - persons) <= 11, group


@pytest.mark.parametrize(
    "text, key",
    [
        ("zhejiang", "zhejiang"),
        ("Zhejiang", "zhejiang"),
        ("浙江", "zhejiang"),
        ("浙江省", "zhejiang"),
        ("Inner Mongolia", "inner_mongolia"),
        ("inner_mongolia", "inner_mongolia"),
        ("内蒙古自治区", "inner_mongolia"),
        ("广西壮族自治区", "guangxi"),
        ("天津市", "tianjin"),
        ("全国", "china"),
        ("Atlantis", None),
        ("", None),
    ],
)
def test_a_region_is_found_by_its_key_english_or_chinese_name(text, key):
    assert find_region(text) == key


def test_a_scenario_names_a_province_in_chinese_and_runs_it_by_its_key():
    assert make_scenario(region="浙江省").region == "zhejiang"
    result = runner.invoke(
        app, ["validate", "--set", "region=Atlantis", str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml")]
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "region = 'Atlantis': unknown region" in result.output and "Chinese name" in result.output


def test_every_province_ships_a_calibration_fitted_to_the_national_occupancy():
    for key in PROVINCES:
        name = f"{key}-2020"
        assert name in shipped(), name
        fit = yaml.safe_load((ROOT / "sim" / "data" / "calibrations" / f"{name}.yaml").read_text(encoding="utf-8"))
        assert fit["fit"]["all_targets_within_tolerance"], name
        assert len(fit["ensemble"]["members"]) >= 32, name
        occupancy = next(row for row in fit["table"] if row["indicator"] == "occupancy")
        assert occupancy["within"] and abs(occupancy["simulated"] - 0.50) <= 0.08, (name, occupancy)


# --- a user's own city ---------------------------------------------------------------------------------
def filled_template(tmp_path, **changes) -> tuple:
    """The template for Zhejiang written by the CLI, filled in with Shaoxing's figures (docs/examples)."""
    path = tmp_path / "city.yaml"
    result = runner.invoke(app, ["region-template", "浙江", "--out", str(path)])
    assert result.exit_code == 0, result.output
    template = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert template["province"] == "zhejiang" and template["population_2020"]["value"] is None
    example = yaml.safe_load((EXAMPLE / "shaoxing.yaml").read_text(encoding="utf-8"))
    filled = {**template, **{k: v for k, v in example.items() if k != "care"}, **changes}
    path.write_text(yaml.safe_dump(filled, allow_unicode=True), encoding="utf-8")
    return path, filled


def test_a_users_city_file_round_trips_through_a_run(tmp_path):
    path, city = filled_template(tmp_path, care={"beds": {"value": 30000, "source": "test figure"}})
    scenario = make_scenario(region=str(path), horizon=2022, scale=4, seed=2)
    assert scenario.region == "shaoxing" and scenario.region_file["province"] == "zhejiang"
    region = load_region("shaoxing", scenario.region_file)
    assert region.population_total() == pytest.approx(city["population_60plus_2020"]["value"], rel=1e-9)
    assert region.base_population()[:, 5:].sum() == pytest.approx(city["population_65plus_2020"]["value"], rel=1e-9)
    # within each band the city has its province's structure by single year and sex
    province = load_region("zhejiang").base_population()
    ratio = region.base_population()[:, 5:] / province[:, 5:]
    assert np.allclose(ratio[province[:, 5:] > 0], ratio[0, 0])
    assert region.mortality_level == load_region("zhejiang").mortality_level
    care = care_baseline("shaoxing", scenario.region_file)
    assert care["beds"] == {"value": 30000, "source": "test figure"}
    share = city["population_60plus_2020"]["value"] / load_region("zhejiang").population_total()
    assert care["homes"]["value"] == round(care_baselines()["zhejiang"]["homes"]["value"] * share)
    assert care["homes"]["source"].startswith("assumption: zhejiang's figure per person aged 60+")
    # its province's calibration until it has its own
    assert resolve("default", "shaoxing", 2020, scenario.region_file)["name"] == "zhejiang-2020"
    # the region lives with the scenario, not in the process: a packaged-name lookup knows no "shaoxing"
    with pytest.raises(KeyError):
        load_region("shaoxing")

    out = tmp_path / "run"
    scenario_file = tmp_path / "plan.yaml"
    scenario_file.write_text("region: city.yaml\nhorizon: 2022\nscale: 4\nseed: 2\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(scenario_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "has no calibration of its own: its care choice uses its province's (zhejiang-2020)" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    recorded = manifest["scenario"]["region_file"]
    assert recorded["key"] == "shaoxing" and recorded["care"]["beds"]["value"] == 30000
    assert make_scenario(**manifest["scenario"]).region_file == recorded  # the record re-validates
    with pytest.raises(ScenarioError, match="region = 'shaoxing': unknown region .*or the path of a region file"):
        make_scenario(region="shaoxing")  # a run elsewhere in the process does not make it a packaged name
    table = (out / "results.csv").read_text(encoding="utf-8")
    assert "shaoxing" in manifest["scenario"]["region"] and table


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"population_2020": {"value": None, "source": "bulletin"}}, "population_2020.value = None: must be a number"),
        ({"urban_share_2020": {"value": 1.4, "source": "x bulletin"}}, "urban_share_2020.value = 1.4"),
        ({"population_65plus_2020": {"value": 2e6, "source": "bulletin"}}, "must be above 0 and below the 60+"),
        ({"province": "Atlantis"}, "province = 'Atlantis': must be one of the 31 packaged provinces"),
        ({"province": "wenzhou"}, "province = 'wenzhou': must be one of the 31 packaged provinces"),
        ({"key": "tianjin"}, "key = 'tianjin': names a packaged region"),
        ({"care": {"beds": {"value": 100, "source": "x bulletin"}, "robots": {"value": 1}}}, "care.robots"),
        ({"care": {"beds": {"value": 100}}}, "care.beds"),
        ({"population_2020": {"value": 5270977}}, "population_2020.source"),
        ({"care": {"nursing_share": {"value": 45, "source": "x bulletin"}}}, "care.nursing_share.value = 45"),
        ({"care": {"beds": {"value": 2e6, "source": "x bulletin"}}}, "care.beds.value = 2000000: more than the 60+"),
    ],
)
def test_a_bad_city_file_gets_one_line_exit_2_and_nothing_written(tmp_path, changes, message):
    path, _ = filled_template(tmp_path, **changes)
    scenario_file = tmp_path / "plan.yaml"
    scenario_file.write_text("region: city.yaml\nhorizon: 2022\nscale: 4\n", encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(scenario_file), "--out", str(out)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output and message in result.output, result.output
    assert "city.yaml" in result.output and not out.exists()


def test_the_template_command_refuses_what_it_cannot_do(tmp_path):
    path = tmp_path / "city.yaml"
    assert runner.invoke(app, ["region-template", "zhejiang", "--out", str(path)]).exit_code == 0
    first = path.read_text(encoding="utf-8")
    for args, message in [
        (["region-template", "zhejiang", "--out", str(path)], "exists"),
        (["region-template", "Atlantis", "--out", str(tmp_path / "b.yaml")], "not one of the 31 provinces"),
        (["region-template", "wenzhou", "--out", str(tmp_path / "c.yaml")], "not one of the 31 provinces"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == first and not (tmp_path / "b.yaml").exists()


def test_the_shipped_example_city_validates():
    result = runner.invoke(app, ["validate", str(EXAMPLE / "shaoxing-plan.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid (shaoxing, 2020-2030" in result.output


def test_a_users_city_is_calibrated_from_a_file_naming_its_region_file(tmp_path):
    path, _ = filled_template(tmp_path)
    spec = yaml.safe_load((ROOT / "calibration" / "zhejiang-2020.yaml").read_text(encoding="utf-8"))
    spec |= {"region": path.name, "inherit": "zhejiang-2020", "scale": 6, "method": {"seed": 1, "particles": 16}}
    spec["targets"] = [t for t in spec["targets"] if t["indicator"] == "occupancy"]
    (tmp_path / "city-2020.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["calibrate", str(tmp_path / "city-2020.yaml"), "--out", str(tmp_path / "fit")])
    assert result.exit_code == 0, result.output
    fit = yaml.safe_load((tmp_path / "fit" / "fit.yaml").read_text(encoding="utf-8"))
    assert fit["region"] == "shaoxing" and fit["inherited"]["from"] == "zhejiang-2020"
    definition = make_scenario(region=str(path)).region_file
    found = resolve(str(tmp_path / "fit" / "fit.yaml"), "shaoxing", 2020, definition)
    assert found["fitted"] == fit["fitted"] and len(found["ensemble"]) == 16
    with pytest.raises(ValueError, match="is a fit for region shaoxing"):
        resolve(str(tmp_path / "fit" / "fit.yaml"), "zhejiang", 2020)
