"""The report as files a report writer edits: Word (``--format docx``: a plan-document section with headings,
tables and charts) and Excel (``--format xlsx``: one sheet per table, numbers as numbers).

Both carry what the HTML and PDF reports carry, in the chosen language: the scenario, the key indicators, the
plan targets (commitments and outcomes), the evaluation's verdicts when given, the charts (Word) or the
yearly indicators with their intervals (Excel), and the sources.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.catalogues.indicators import catalogue
from sim.outputs.charts import figure, spread_kind, spread_text
from sim.outputs.evaluation_chart import evaluation_figure
from sim.outputs.formats import shown_label
from sim.outputs.labels import labels
from sim.results.folder import Run

CHART_WIDTH_CM = 16
PERCENTILE_COLUMNS = ("p05", "p25", "p50", "p75", "p95")  # as summary.csv names them
CHINESE_FONT = "SimSun"  # 宋体, the body font of Chinese plan documents; Word substitutes where it is missing


def _png(fig) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200)
    plt.close(fig)
    buf.seek(0)
    return buf


def _table(doc, frame: pd.DataFrame, index: bool = False) -> None:
    frame = frame.reset_index() if index else frame
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = str(name)
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def docx_report(runs: list[Run], path: Path, lang: str = "en", evaluation: Path | None = None) -> None:
    """A Word document: title, scenario, key indicators, targets, evaluation, charts, sources."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm

    from sim.outputs.report_content import (
        charts_for,
        evaluation_table,
        evaluation_text,
        generated_line,
        key_indicator_table,
        report_title,
        summary_rows,
        targets_table,
        why_notes,
    )

    L, R = labels(lang), labels(lang)["report"]
    doc = Document()
    if lang == "zh":
        for style in ("Normal", "Heading 1", "Heading 2", "Caption"):
            doc.styles[style].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CHINESE_FONT)
    doc.core_properties.title = report_title(runs, lang)
    doc.add_heading(report_title(runs, lang), level=1)
    _table(doc, pd.DataFrame(summary_rows(runs, lang), columns=["", ""]))
    doc.add_heading(R["key_indicators"], level=2)
    _table(doc, key_indicator_table(runs, lang).rename_axis(R["indicator"]), index=True)
    notes = why_notes(runs, lang)
    if notes:
        doc.add_heading(L["why"]["heading"], level=3)
        for note in notes:
            doc.add_paragraph(note)
    targets = targets_table(runs, lang)
    if not targets.empty:
        doc.add_heading(R["targets"], level=2)
        _table(doc, targets)
    if evaluation is not None:
        title, text = evaluation_text(evaluation, lang)
        doc.add_heading(title, level=2)
        doc.add_paragraph(text)
        _table(doc, evaluation_table(evaluation, lang))
        doc.add_picture(_png(evaluation_figure(evaluation, lang)), width=Cm(CHART_WIDTH_CM))
    doc.add_heading(R["charts"], level=2)
    for chart in charts_for(runs):
        doc.add_picture(_png(figure(chart, runs, lang)), width=Cm(CHART_WIDTH_CM))
        doc.add_paragraph(L["charts"][chart]["title"], style="Caption")
    doc.add_heading(R["sources"], level=2)
    doc.add_paragraph(R["sources_text"])
    doc.add_paragraph(generated_line(runs, lang))
    doc.save(path)


def yearly_indicators(runs: list[Run], lang: str) -> pd.DataFrame:
    """Every year of the key indicators, as numbers: mean and 90% interval across replicates."""
    from sim.outputs.report_content import KEY_INDICATORS

    R = labels(lang)["report"]
    cat = catalogue()
    rows = []
    for run in runs:
        for ind, breakdown in KEY_INDICATORS:
            series = run.series(ind, **breakdown)
            unit = cat.unit_label(cat[ind].unit, lang)
            for year, row in series.iterrows():
                rows.append(
                    {
                        R["summary"]: run.name,
                        R["indicator"]: shown_label(ind, lang, **breakdown).split(" (")[0].split("（")[0],
                        R["unit"]: unit,
                        R["year"]: int(year),
                        R["mean"]: float(row["mean"]),
                        R["p05"]: float(row["p05"]),
                        R["p95"]: float(row["p95"]),
                    }
                )
    return pd.DataFrame(rows)


@cache
def described(indicator: str, age_group: str, capacity: str, residence: str, group: str, lang: str) -> str:
    return catalogue().describe(
        indicator, lang, age_group=age_group, capacity=capacity, residence=residence, group=group
    )


def percentiles(runs: list[Run], lang: str) -> pd.DataFrame:
    """Every indicator at every breakdown and year (sex all), as numbers: the mean, the 5th, 25th, 50th, 75th
    and 95th percentiles across replicates, how many replicates and what their spread includes."""
    R = labels(lang)["report"]
    L = labels(lang)
    cat = catalogue()
    frames = []
    for run in runs:
        s = run.summary
        known = s[s.indicator.isin(list(cat.indicators))]
        frame = pd.DataFrame(
            {
                R["summary"]: run.name,
                R["indicator"]: [
                    described(row.indicator, row.age_group, row.capacity, row.residence, row.group, lang)
                    for row in known.itertuples()
                ],
                R["unit"]: [cat.unit_label(u, lang) for u in known.unit],
                R["year"]: known.year.astype(int).to_numpy(),
                R["mean"]: known["mean"].to_numpy(),
                **{R[c]: known[c].to_numpy() for c in PERCENTILE_COLUMNS if c in known},
                R["replicates"]: known["replicates"].to_numpy(),
                R["intervals"]: L["spread"][spread_kind(run.manifest)],
            }
        )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def targets_numbers(runs: list[Run], lang: str) -> pd.DataFrame:
    R = labels(lang)["report"]
    rows = []
    for run in runs:
        for t in run.targets.itertuples() if not run.targets.empty else []:
            rows.append(
                {
                    R["summary"]: run.name,
                    R["target"]: catalogue().target(t.target).labels[lang],
                    R["kind"]: R["kinds"][t.kind],
                    R["by"]: int(t.target_year),
                    R["target_value"]: float(t.target_value),
                    R["scheduled"]: None if pd.isna(t.scheduled) else float(t.scheduled),
                    R["value_then"]: float(t.value_at_target_year),
                    R["tolerance"]: float(t.tolerance),
                    R["met"]: bool(t.met_at_target_year),
                }
            )
    return pd.DataFrame(rows)


def xlsx_report(runs: list[Run], path: Path, lang: str = "en", evaluation: Path | None = None) -> None:
    """An Excel workbook: Scenario, Indicators (the key ones, every year, mean and 90% interval), Targets,
    Percentiles (every indicator and breakdown, every year: mean, 5th to 95th percentiles, replicates, what the
    spread includes), Evaluation (when given) and Sources, one sheet each, numbers as numbers."""
    from sim.outputs.report_content import generated_line, summary_rows

    R = labels(lang)["report"]
    L = labels(lang)
    sheets = {
        R["summary"]: pd.DataFrame(
            [*summary_rows(runs, lang), (R["intervals"], spread_text(runs[0].manifest, L))],
            columns=["", ""],
        ),
        R["indicator"]: yearly_indicators(runs, lang),
        R["targets"]: targets_numbers(runs, lang),
        R["percentiles"]: percentiles(runs, lang),
    }
    if evaluation is not None:
        sheets[R["verdict"]] = pd.read_csv(Path(evaluation) / "evaluation.csv")
    sheets[R["sources"]] = pd.DataFrame({R["sources"]: [R["sources_text"], generated_line(runs, lang)]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            for column in sheet.columns:  # wide enough to read, without touching the numbers
                width = max(len(str(c.value or "")) for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
