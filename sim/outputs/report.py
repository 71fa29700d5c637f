"""A short, self-contained report of a run or of several runs compared, as HTML, PDF, Word or Excel.

Contents: the scenario(s), key indicators at the base year, 2025, 2030 and the horizon, the plan targets
(met or missed, when, by how much), the charts, and the data sources. HTML embeds the charts as images,
so the one file can be mailed; PDF pages are vector (matplotlib), with Chinese in Noto Sans SC embedded as a
TrueType font (searchable and copyable text).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from sim import __version__
from sim.outputs.charts import figure
from sim.outputs.evaluation_chart import evaluation_figure
from sim.outputs.labels import font_family, labels
from sim.outputs.pdf_pages import TextPages
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
from sim.results.files import write_atomic, write_text
from sim.results.folder import Run


def province_maps(runs: list[Run], lang: str) -> list:
    """The maps of every run by provinces among ``runs`` (its four default maps at its horizon)."""
    import pandas as pd

    from sim.outputs.province_map import DEFAULT_MAPS, indicator_map

    figures = []
    for run in runs:
        file = run.folder / "regions_summary.parquet"
        if file.exists():
            regions = pd.read_parquet(file)
            year = int(regions.year.max())
            figures += [indicator_map(regions, indicator, year, lang, note=run.name) for indicator in DEFAULT_MAPS]
    return figures


def html_report(runs: list[Run], lang: str = "en", evaluation: Path | None = None) -> str:
    L, R = labels(lang), labels(lang)["report"]
    font = ", ".join(f"'{f}'" for f in font_family(lang)) + ", sans-serif"
    parts = [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{html.escape(report_title(runs, lang))}</title>",
        f"<style>body{{font-family:{font};max-width:54em;margin:2em auto;color:#222;line-height:1.45}}"
        "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
        "td,th{border-bottom:1px solid #ddd;padding:0.25em 0.7em;text-align:right}"
        "td:first-child,th:first-child{text-align:left}img{width:100%}"
        "p.small{font-size:0.8em;color:#555}</style></head><body>",
        f"<h1>{html.escape(report_title(runs, lang))}</h1>",
        "<table>"
        + "".join(
            f"<tr><th>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in summary_rows(runs, lang)
        )
        + "</table>",
        f"<h2>{R['key_indicators']}</h2>",
        key_indicator_table(runs, lang).rename_axis(R["indicator"]).to_html(border=0),
    ]
    notes = why_notes(runs, lang)
    if notes:  # beside the headlines: why a surprising result is what it is
        parts += [f"<h3>{html.escape(L['why']['heading'])}</h3>", *(f"<p>{html.escape(n)}</p>" for n in notes)]
    targets = targets_table(runs, lang)
    if not targets.empty:
        parts += [f"<h2>{R['targets']}</h2>", targets.to_html(index=False, border=0)]
    if evaluation is not None:
        title, text = evaluation_text(evaluation, lang)
        fig = evaluation_figure(evaluation, lang)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200)
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts += [
            f"<h2>{html.escape(title)}</h2>",
            f"<p>{html.escape(text)}</p>",
            evaluation_table(evaluation, lang).to_html(index=False, border=0),
            f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'></figure>",
        ]
    parts.append(f"<h2>{R['charts']}</h2>")
    for chart in charts_for(runs):
        buf = io.BytesIO()
        fig = figure(chart, runs, lang)
        fig.savefig(buf, format="png", dpi=200)
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(L['charts'][chart]['title'])}' "
            f"src='data:image/png;base64,{data}'></figure>"
        )
    for fig in province_maps(runs, lang):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200)
        title = fig.get_suptitle()
        plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts.append(f"<figure><img alt='{html.escape(title)}' src='data:image/png;base64,{data}'></figure>")
    parts += [
        f"<h2>{R['sources']}</h2>",
        f"<p>{html.escape(R['sources_text'])}</p>",
        f"<p class='small'>{html.escape(generated_line(runs, lang))}</p></body></html>",
    ]
    return "\n".join(parts)


def pdf_report(runs: list[Run], path: Path, lang: str = "en", evaluation: Path | None = None) -> None:
    R = labels(lang)["report"]
    family = font_family(lang)
    with (
        plt.rc_context({"font.family": family, "font.size": 8, "pdf.fonttype": 42}),
        PdfPages(
            path, metadata={"Title": report_title(runs, lang), "Creator": f"sim {__version__}", "CreationDate": None}
        ) as pdf,
    ):
        pages = TextPages(pdf, family, bold="bold" if lang == "en" else "normal")  # the CJK font has one weight
        pages.heading(report_title(runs, lang), size=14)
        pages.rows(summary_rows(runs, lang))
        pages.heading(R["key_indicators"], size=11)
        pages.table(key_indicator_table(runs, lang).rename_axis(R["indicator"]).reset_index())
        notes = why_notes(runs, lang)
        if notes:
            pages.heading(labels(lang)["why"]["heading"], size=11)
            for note in notes:
                pages.paragraph(note)
        targets = targets_table(runs, lang)
        if not targets.empty:
            pages.heading(R["targets"], size=11)
            pages.table(targets)
        if evaluation is not None:
            title, text = evaluation_text(evaluation, lang)
            pages.new_page()
            pages.heading(title)
            pages.paragraph(text)
            pages.table(evaluation_table(evaluation, lang))
            pages.close_page()
            fig = evaluation_figure(evaluation, lang)
            pdf.savefig(fig)
            plt.close(fig)
        pages.close_page()
        for chart in charts_for(runs):
            fig = figure(chart, runs, lang)
            pdf.savefig(fig)
            plt.close(fig)
        for fig in province_maps(runs, lang):
            pdf.savefig(fig)
            plt.close(fig)
        pages.new_page()
        pages.heading(R["sources"])
        pages.paragraph(R["sources_text"])
        pages.paragraph(generated_line(runs, lang), size=7, colour="#555555")
        pages.close_page()


FORMATS = ("html", "pdf", "docx", "xlsx")


def write_report(
    runs: list[Run], path: Path, fmt: str = "html", lang: str = "en", evaluation: Path | None = None
) -> Path:
    """Write the report to a temporary file beside ``path``, then rename it: never a partial report.
    ``evaluation``: a folder of ``sim evaluate`` whose verdicts get a section."""
    from sim.outputs.documents import docx_report, xlsx_report

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        return write_text(path, html_report(runs, lang, evaluation))
    if fmt == "pdf":
        return write_atomic(path, lambda tmp: pdf_report(runs, tmp, lang, evaluation))
    if fmt == "docx":
        return write_atomic(path, lambda tmp: docx_report(runs, tmp, lang, evaluation))
    if fmt == "xlsx":
        return write_atomic(path, lambda tmp: xlsx_report(runs, tmp, lang, evaluation))
    raise ValueError(f"unknown report format {fmt!r} (allowed: {', '.join(FORMATS)})")
