"""The files the app offers, made by the same code as ``sim plot``, ``sim compare`` and ``sim report``:
charts (PNG at 300 dpi, SVG, PDF), the report (PDF, Word), the tables (Excel, CSV) and the scenario."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.outputs.charts import CHARTS, figure, save
from sim.outputs.report import write_report
from sim.outputs.report_content import differences
from sim.results.folder import Run

CHART_FORMATS = ("png", "svg", "pdf")
REPORT_FORMATS = ("pdf", "docx")
TABLE_FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class FileMaker:
    """A download's file, made when pressed: equal from one drawing of the page to the next (the same maker,
    runs and options), so a drawing while the file is made does not restart Solara's download and lose it
    (a second download pressed while the report's PDF was made lost the PDF)."""

    make: Callable[..., bytes]
    key: tuple  # what the file is made of: the runs' folders and the options
    args: tuple = field(compare=False)
    busy: Callable[[bool], None] | None = field(default=None, compare=False)  # told when making starts, ends

    def __call__(self) -> bytes:
        if self.busy:
            self.busy(True)
        try:
            return self.make(*self.args)
        finally:
            if self.busy:
                self.busy(False)


def maker(make: Callable[..., bytes], *args, busy: Callable[[bool], None] | None = None) -> FileMaker:
    key = tuple(tuple(str(r.folder) for r in a) if isinstance(a, list) else repr(a) for a in args)
    return FileMaker(make, key, args, busy)


def chart_names(runs: list[Run]) -> list[str]:
    return [c for c in CHARTS if c != "targets" or any(not r.targets.empty for r in runs)]


def chart_file(runs: list[Run], chart: str, fmt: str, lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return save(figure(chart, runs, lang), Path(tmp) / f"{chart}.{fmt}").read_bytes()


def report_file(runs: list[Run], fmt: str, lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_report(runs, Path(tmp) / f"report.{fmt}", fmt, lang).read_bytes()


def table_file(runs: list[Run], fmt: str, lang: str) -> bytes:
    """Excel: the report's workbook (yearly indicators with intervals, targets, every indicator's percentiles,
    sources); CSV: the summary (every indicator and breakdown by year: mean, 5th, 25th, 50th, 75th and 95th
    percentiles, replicates, what the spread includes) of one run, or the differences of several."""
    if fmt == "xlsx":
        return report_file(runs, "xlsx", lang)
    if len(runs) == 1:
        return (runs[0].folder / "summary.csv").read_bytes()
    buffer = io.StringIO()
    differences(runs).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def scenario_file(raw: dict) -> bytes:
    """The scenario as a file ``sim run`` takes (the starting file with the changes written in)."""
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True).encode("utf-8")
