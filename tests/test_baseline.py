"""Baseline regression: a fixed-seed summary pinned in tests/baseline/. A change that moves these numbers
must be deliberate: rerun with SIM_UPDATE_BASELINE=1 and say why in the commit."""

import json
import os
from pathlib import Path

import pytest
from conftest import make_scenario

from sim.run import run_replicate

BASELINE = Path(__file__).parent / "baseline"
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
        rows = df[(df.indicator == ind) & (df.sex == sex) & (df.age_group == group) & (df.capacity == cap)]
        got[f"{ind}|{sex}|{group}|{cap}"] = {
            str(y): round(v, 6) for y, v in zip(rows.year, rows.value, strict=True) if y in (2021, 2025, 2030, 2035)
        }
    path = BASELINE / f"{region}.json"
    if os.environ.get("SIM_UPDATE_BASELINE"):
        BASELINE.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(path.read_text())
