"""Percentiles across replicates (issue 29): summary.csv and the Excel report give the 5th, 25th, 50th, 75th and
95th percentiles of every indicator, how many replicates they come from and what their spread includes; a
one-replicate run says it has no interval."""

import json

import pandas as pd
import pytest

from sim.outputs.documents import xlsx_report
from sim.outputs.labels import labels
from sim.results.folder import Run
from sim.results.runs import run_scenario, write_run
from tests.conftest import make_scenario

PERCENTILES = ["p05", "p25", "p50", "p75", "p95"]
ENSEMBLE = "random draws and parameter uncertainty"  # by default each replicate draws a member of the calibration


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("percentiles")
    return {
        n: Run.load(write_run(run_scenario(make_scenario(name=f"r{n}", replicates=n, horizon=2023)), folder / f"r{n}"))
        for n in (1, 4)
    }


def test_summary_gives_ordered_percentiles_replicates_and_spread(runs):
    summary = pd.read_csv(runs[4].folder / "summary.csv")
    assert list(summary.columns[-8:]) == ["mean", *PERCENTILES, "replicates", "spread"]
    known = summary.dropna(subset=PERCENTILES)
    for low, high in zip(PERCENTILES, PERCENTILES[1:], strict=False):
        assert (known[low] <= known[high] + 1e-9 * known[high].abs().clip(lower=1)).all()
    assert (summary.replicates == 4).all() and set(summary.spread) == {ENSEMBLE}
    population = summary[(summary.indicator == "population") & (summary.year == 2023) & (summary.sex == "all")]
    assert (population.p05 < population.p95).any()
    manifest = json.loads((runs[4].folder / "manifest.json").read_text())
    assert manifest["percentiles"] == {"columns": PERCENTILES, "replicates": 4, "spread": ENSEMBLE}


def test_one_replicate_says_it_has_no_interval(runs):
    summary = pd.read_csv(runs[1].folder / "summary.csv")
    assert set(summary.spread) == {"none (one replicate, no interval)"} and (summary.replicates == 1).all()
    known = summary.dropna(subset=["mean"])
    assert (known.p05 - known.p95).abs().max() == pytest.approx(0)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_excel_report_has_every_indicator_percentiles(runs, tmp_path, lang):
    R = labels(lang)["report"]
    path = tmp_path / f"report_{lang}.xlsx"
    xlsx_report([runs[4]], path, lang)
    sheet = pd.read_excel(path, sheet_name=R["percentiles"])
    assert [R[c] for c in ["mean", *PERCENTILES, "replicates"]] == list(sheet.columns[4:11])
    assert set(sheet[R["replicates"]]) == {4}
    assert set(sheet[R["intervals"]]) == {labels(lang)["spread"]["parameters"]}
    assert len(sheet) == len(runs[4].summary)  # every indicator, breakdown and year (sex all)


def test_vintage_is_in_the_manifest_charts_and_reports(runs, tmp_path):
    """Every result, chart and report states the editions of the data it used (issue 29)."""
    from docx import Document

    from sim.data.vintage import data_vintage
    from sim.outputs.charts import figure
    from sim.outputs.documents import docx_report
    from sim.outputs.labels import vintage_text

    run = runs[4]
    vintage = run.manifest["data_vintage"]
    assert vintage == json.loads(json.dumps(data_vintage("shengzhou", 2020)))
    assert vintage["census"] == 2020 and vintage["bulletins"]["deaths"] == [2022]  # Zhejiang's published deaths
    assert vintage["calibration"]["name"] == "shengzhou-2020" and vintage["calibration"]["observations"]
    for lang in ("en", "zh"):
        line = vintage_text(vintage, lang)
        assert (
            "2020" in line and "2022" in line and "shengzhou-2020" in line and vintage["calibration"]["fitted"] in line
        )
        footer = " ".join(t.get_text() for t in figure("occupancy", [run], lang).texts)
        assert line in footer
        docx_report([run], tmp_path / f"r_{lang}.docx", lang)
        cells = {
            c.text for table in Document(tmp_path / f"r_{lang}.docx").tables for row in table.rows for c in row.cells
        }
        assert line in cells
        xlsx_report([run], tmp_path / f"r_{lang}.xlsx", lang)
        assert line in set(pd.read_excel(tmp_path / f"r_{lang}.xlsx", sheet_name=0).iloc[:, 1])


def test_a_run_without_calibration_says_so():
    from sim.data.vintage import data_vintage
    from sim.outputs.labels import labels, vintage_text

    vintage = data_vintage("tianjin", 2020, "none")
    assert vintage["calibration"] is None and vintage["bulletins"]["deaths"] == [2024]
    assert labels("zh")["vintage"]["no_calibration"] in vintage_text(vintage, "zh")
