"""The packaged data is what data-raw/build_data.py makes from the sourced tables (when they are beside us).

Numbers are compared to 1e-9 relative (fitted structural parameters to 1e-6): the fit's last digits
depend on the numpy and scipy builds (scipy 1.18 gave 0.4291777429695324 where 1.17 gave
0.429177742969534), and a test must fail for a wrong table, not for a new release's rounding."""

import csv
import json
import math
import subprocess
import sys

import pytest
from conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"
BUILT = [
    "capacity_fit.json",
    "capacity_mortality.csv",
    "capacity_prevalence.csv",
    "capacity_residence.csv",
    "capacity_transitions.csv",
    "mortality_wpp2024.csv",
    "population_2020.csv",
    "region_demography.csv",
    "region_demography.json",
]


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def assert_same(built, packaged, where: str, rel: float) -> None:
    """Equal structure and text; numbers equal to ``rel`` relative (or 1e-12 absolute near zero)."""
    if isinstance(packaged, dict):
        assert isinstance(built, dict) and list(built) == list(packaged), where
        for k in packaged:
            assert_same(built[k], packaged[k], f"{where}.{k}", rel)
    elif isinstance(packaged, list):
        assert isinstance(built, list) and len(built) == len(packaged), where
        for i, (b, p) in enumerate(zip(built, packaged, strict=True)):
            assert_same(b, p, f"{where}[{i}]", rel)
    elif isinstance(packaged, bool) or packaged is None:
        assert built == packaged, where
    elif isinstance(packaged, int | float) or _number(packaged) is not None:
        b, p = _number(built), _number(packaged)
        assert b is not None and math.isclose(b, p, rel_tol=rel, abs_tol=1e-12), (where, built, packaged)
    else:
        assert built == packaged, where


def _csv(path):
    with open(path, encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.skipif(not SHARED.exists(), reason="the sourced tables (../shared/data) are not beside this checkout")
def test_rebuilding_the_packaged_data_gives_the_same_files(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "data-raw" / "build_data.py"), "--shared", str(SHARED), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == BUILT
    packaged = ROOT / "sim" / "data"
    for name in BUILT:
        if name.endswith(".json"):
            built, kept = (json.loads((d / name).read_text(encoding="utf-8")) for d in (tmp_path, packaged))
            assert_same(built, kept, name, rel=1e-6)
        else:
            assert_same(_csv(tmp_path / name), _csv(packaged / name), name, rel=1e-9)


def test_the_comparison_catches_a_changed_number():
    assert_same([["a", "0.4291777429695324"]], [["a", "0.429177742969534"]], "t", rel=1e-9)
    with pytest.raises(AssertionError):
        assert_same([["a", "0.4292"]], [["a", "0.4291"]], "t", rel=1e-9)
    with pytest.raises(AssertionError):
        assert_same({"x": "male"}, {"x": "female"}, "t", rel=1e-9)
