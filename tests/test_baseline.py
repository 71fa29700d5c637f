"""Baseline regression: a fixed-seed summary pinned in tests/baseline/. A change that moves these numbers
must be deliberate: rerun with SIM_UPDATE_BASELINE=1 and say why in the commit. Values are compared to a
relative tolerance of one in a million, far above what a new release of a numerical library moves in the last
digits and far below what any change of the model moves."""

import json
import os
from pathlib import Path

import pytest
from conftest import make_scenario

from sim.results.query import value
from sim.results.runs import run_replicate

BASELINE = Path(__file__).parent / "baseline"
CARE_PINNED = [
    ("elders_by_setting", "institution"),
    ("elders_by_setting", "home_care"),
    ("occupancy", "all"),
    ("waiting_list", "all"),
    ("workers", "all"),
    ("care_hours", "unmet"),
    ("ltci_balance", "all"),
    ("out_of_pocket", "all"),
]
PINNED = [
    ("population", "all", "60+", "all"),
    ("population", "female", "80+", "all"),
    ("deaths", "all", "60+", "all"),
    ("entrants", "all", "60", "all"),
    ("elders_by_capacity", "all", "60+", "severe"),
    ("capacity_share", "all", "60+", "any_loss"),
    ("life_expectancy_60", "all", "60", "all"),
]


@pytest.mark.parametrize("region", ["shengzhou", "xuchang"])
def test_fixed_seed_summary_is_unchanged(region):
    df = run_replicate(make_scenario(region=region, seed=2020), 0)
    got = {}
    for ind, sex, group, cap in PINNED:
        series = value(df, ind, sex=sex, age_group=group, capacity=cap)
        got[f"{ind}|{sex}|{group}|{cap}"] = {
            str(y): round(v, 6) for y, v in series.items() if y in (2021, 2025, 2030, 2035)
        }
    path = BASELINE / f"{region}.json"
    if os.environ.get("SIM_UPDATE_BASELINE"):
        BASELINE.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1) + "\n")
    assert_close(got, json.loads(path.read_text()))


def assert_close(got: dict, pinned: dict) -> None:
    assert got.keys() == pinned.keys()
    for key, years in pinned.items():
        assert got[key].keys() == years.keys(), key
        for year, value_pinned in years.items():
            assert got[key][year] == pytest.approx(value_pinned, rel=TOLERANCE, abs=1e-9), (key, year)


TOLERANCE = 1e-6


def test_fixed_seed_care_summary_is_unchanged():
    from pathlib import Path as P

    from sim.scenario import load_scenario

    scenario = load_scenario(P(__file__).parents[1] / "scenarios" / "shengzhou-2026.yaml", ["seed=2026"])
    df = run_replicate(scenario, 0)
    got = {}
    for ind, group in CARE_PINNED:
        series = value(df, ind, sex="all", capacity="all", group=group)
        got[f"{ind}|{group}"] = {str(y): round(v, 3) for y, v in series.items() if y in (2020, 2024, 2030, 2035)}
    path = BASELINE / "shengzhou-2026-care.json"
    if os.environ.get("SIM_UPDATE_BASELINE"):
        path.write_text(json.dumps(got, indent=1) + "\n")
    assert_close(got, json.loads(path.read_text()))
