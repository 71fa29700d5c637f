"""The packaged data is what data-raw/build_data.py makes from the sourced tables (when they are beside us)."""

import subprocess
import sys

import pytest
from conftest import ROOT

SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.skipif(not SHARED.exists(), reason="the sourced tables (../shared/data) are not beside this checkout")
def test_rebuilding_the_packaged_data_gives_the_same_files(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "data-raw" / "build_data.py"), "--shared", str(SHARED), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == [
        "capacity_fit.json",
        "capacity_mortality.csv",
        "capacity_prevalence.csv",
        "capacity_transitions.csv",
        "mortality_wpp2024.csv",
        "population_2020.csv",
    ]
    for name in built:
        assert (tmp_path / name).read_bytes() == (ROOT / "sim" / "data" / name).read_bytes(), name
