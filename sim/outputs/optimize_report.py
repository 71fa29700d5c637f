"""The report of a search (`sim report --optimize DIR`), as HTML, PDF, Word or Excel, from the files the search
wrote (no run is repeated): what was searched, the trade-off in words (what meeting the targets costs at
least, what each further gain costs), the Pareto front with P(met) per target and its interval, the
verification on fresh runs (a plan that failed it said so), and the charts the search drew.

Every word comes from the language's label table (``optimize_report`` in sim/data/labels/{en,zh}.yaml) and
the catalogues (levers, indicators, targets).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pandas as pd

from sim.catalogues.indicators import catalogue
from sim.catalogues.levers import lever_catalogue
from sim.outputs.labels import font_family, labels
from sim.results.files import write_atomic, write_text

FILES = ("manifest.json", "front.csv", "verified.csv", "evaluations.csv")
CHARTS = ("front", "schedules")


def search_problem(folder: Path) -> str | None:
    """Why a folder is not a finished search to report on (one line), or None."""
    for name in FILES:
        if not (Path(folder) / name).is_file():
            return f"no {name}: not a finished search of `sim optimize` (run it, or --resume it, to the end)"
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "manifest.json is damaged"
    if manifest.get("kind") != "optimize" or manifest.get("status") not in ("complete", "infeasible"):
        return "not a finished search of `sim optimize` (run it, or --resume it, to the end)"
    return None


def read_table(path: Path) -> pd.DataFrame:
    """A table the search wrote; empty when it had no rows (a search no plan could meet writes front.csv and
    verified.csv with no columns either)."""
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _amount(value: float, lang: str) -> str:
    if abs(value) >= 1e8:
        return f"{value / 1e8:,.2f} 亿" if lang == "zh" else f"{value / 1e9:,.2f} bn"
    if abs(value) >= 1e4 and lang == "zh":
        return f"{value / 1e4:,.1f} 万"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _objective_words(manifest: dict, lang: str) -> list[str]:
    W = labels(lang)["optimize"]
    out = []
    for o in manifest["resolved"]["problem"]["objectives"]:
        name = catalogue().describe(o["indicator"], lang, group=o.get("group"))
        out.append(W["statistic"][o["statistic"]].format(name=name, year=o["year"], quantile=o["quantile"]))
    return out


def _objective_names(manifest: dict) -> list[str]:
    return [o["name"] or f"{o['indicator']}_{o['year']}" for o in manifest["resolved"]["problem"]["objectives"]]


def texts(folder: Path, lang: str) -> list[str]:
    """The search's findings in words: the least cost of meeting every target, each further gain's cost, the
    verification."""
    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    p = manifest["resolved"]["problem"]["constraints"]["probability"]
    front = read_table(folder / "front.csv")
    if front.empty:
        return [R["infeasible"].format(p=p, best=manifest.get("best_probability", 0.0))]
    names, words = _objective_names(manifest), _objective_words(manifest, lang)
    resolved = manifest["resolved"]["problem"]["objectives"]
    j = next((k for k, o in enumerate(resolved) if o["indicator"].startswith("plan_cost")), 0)
    first, last = front.iloc[0], front.iloc[-1]
    emulator = manifest.get("emulator")
    runs = manifest["runs"]["verification"] if emulator else manifest["runs"]["search"]
    lines = [R["emulated"].format(training=emulator["training_runs"], runs=int(first.runs))] if emulator else []
    lines += [
        R["cheapest"].format(
            p=p,
            cost=_amount(first[names[j]], lang),
            objective=words[j],
            plan=int(first.plan),
            n=len(front),
            runs=runs,
            plans=manifest["plans_asked"],
        )
    ]
    if len(front) > 1:
        for k, name in enumerate(names):
            if k != j:
                lines.append(
                    R["tradeoff"].format(
                        objective=words[k],
                        start=_amount(first[name], lang),
                        end=_amount(last[name], lang),
                        more=_amount(last[names[j]] - first[names[j]], lang),
                    )
                )
    verified = read_table(folder / "verified.csv")
    if not verified.empty:
        plans = verified.groupby("plan").met.all()
        lines.append(
            R["verified"].format(
                ok=int(plans.sum()),
                n=len(plans),
                runs=int(verified.verified_runs.iloc[0]),
                p=p,
                diff=100 * verified.difference.abs().max(),
            )
        )
        for plan, ok in plans.items():
            if not ok:
                lines.append(R["failed"].format(plan=plan))
    return lines


def front_table(folder: Path, lang: str) -> pd.DataFrame:
    """The front in the report's words: levers (catalogue labels), objectives, P(met) per target with its
    interval, the verification."""
    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    front = read_table(folder / "front.csv")
    columns = {"plan": R["plan"]}
    for lever in manifest["resolved"]["problem"]["levers"]:
        columns[lever["key"]] = lever_catalogue()[lever["key"]].label(lang)
        if f"{lever['key']}.profile" in front:
            columns[f"{lever['key']}.profile"] = R["profile"]
    table = pd.DataFrame({label: front[key] for key, label in columns.items() if key in front})
    for key, label in columns.items():
        if key.endswith(".profile") and key in front:
            table[label] = front[key].map(R["profiles"])
    for name, words in zip(_objective_names(manifest), _objective_words(manifest, lang), strict=True):
        table[words] = front[name].map(lambda v: _amount(v, lang))
    for column in front.columns:
        if column.startswith("p_") and not column.endswith(("_low", "_high")):
            target = column[2:].rsplit("_", 1)[0]
            label = catalogue().target(target).labels[lang]
            table[R["p_met"].format(target=label)] = [
                f"{v:.0%} ({lo:.0%}–{hi:.0%})"
                for v, lo, hi in zip(front[column], front[f"{column}_low"], front[f"{column}_high"], strict=True)
            ]
    table[R["runs"]] = front["runs"]
    table[R["verification"]] = front["verification"].map(R["verdicts"])
    return table


def chart_files(folder: Path, lang: str) -> list[Path]:
    return [path for name in CHARTS if (path := folder / "charts" / lang / f"{name}.png").is_file()]


def html_report(folder: Path, lang: str) -> str:
    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    title = R["title"].format(name=manifest["name"])
    font = ", ".join(f"'{f}'" for f in font_family(lang)) + ", sans-serif"
    parts = [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>body{{font-family:{font};max-width:60em;margin:2em auto;color:#222;line-height:1.45}}"
        "table{border-collapse:collapse;font-size:0.85em}td,th{border-bottom:1px solid #ddd;padding:0.2em 0.6em}"
        "img{width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(line)}</p>" for line in texts(folder, lang)),
        f"<h2>{R['front']}</h2>",
        front_table(folder, lang).to_html(index=False, border=0),
    ]
    for path in chart_files(folder, lang):
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{path.stem}' src='data:image/png;base64,{data}'></figure>")
    parts.append(f"<p style='font-size:0.8em;color:#555'>{html.escape(generated(manifest, lang))}</p></body></html>")
    return "\n".join(parts)


def generated(manifest: dict, lang: str) -> str:
    code = manifest.get("code", {})
    return labels(lang)["optimize_report"]["generated"].format(
        version=code.get("package", ""),
        commit=(code.get("git_commit") or "")[:10],
        seed=manifest["seed"],
        scenario=manifest["scenario"],
    )


def pdf_report(folder: Path, path: Path, lang: str) -> None:
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from sim.outputs.pdf_pages import TextPages

    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    family = font_family(lang)
    with (
        plt.rc_context({"font.family": family, "font.size": 8, "pdf.fonttype": 42}),
        PdfPages(path, metadata={"Title": R["title"].format(name=manifest["name"]), "CreationDate": None}) as pdf,
    ):
        pages = TextPages(pdf, family, bold="bold" if lang == "en" else "normal")
        pages.heading(R["title"].format(name=manifest["name"]), size=14)
        for line in texts(folder, lang):
            pages.paragraph(line)
        pages.heading(R["front"], size=11)
        pages.table(front_table(folder, lang))
        pages.paragraph(generated(manifest, lang), size=7, colour="#555555")
        pages.close_page()
        for chart in chart_files(folder, lang):
            image = mpimg.imread(chart)
            fig = plt.figure(figsize=(8.27, 8.27 * image.shape[0] / image.shape[1]))
            fig.figimage(image, resize=True)
            pdf.savefig(fig)
            plt.close(fig)


def docx_report(folder: Path, path: Path, lang: str) -> None:
    from docx import Document
    from docx.shared import Cm

    from sim.outputs.documents import CHART_WIDTH_CM

    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    doc = Document()
    doc.core_properties.title = R["title"].format(name=manifest["name"])
    doc.add_heading(R["title"].format(name=manifest["name"]), level=1)
    for line in texts(folder, lang):
        doc.add_paragraph(line)
    doc.add_heading(R["front"], level=2)
    frame = front_table(folder, lang)
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns, strict=True):
        cell.text = str(name)
    for row in frame.itertuples(index=False):
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = str(value)
    for chart in chart_files(folder, lang):
        doc.add_picture(str(chart), width=Cm(CHART_WIDTH_CM))
    doc.add_paragraph(generated(manifest, lang))
    doc.save(path)


def xlsx_report(folder: Path, path: Path, lang: str) -> None:
    R = labels(lang)["optimize_report"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sheets = {
        R["summary"]: pd.DataFrame({R["summary"]: [*texts(folder, lang), generated(manifest, lang)]}),
        R["front"]: read_table(folder / "front.csv"),
        R["verification"]: read_table(folder / "verified.csv"),
        R["plans"]: pd.read_csv(folder / "evaluations.csv"),
    }
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)


def write_optimize_report(folder: Path, path: Path, fmt: str = "html", lang: str = "en") -> Path:
    """The report of the search in ``folder``, written whole or not at all."""
    folder, path = Path(folder), Path(path)
    if fmt == "html":
        return write_text(path, html_report(folder, lang))
    writer = {"pdf": pdf_report, "docx": docx_report, "xlsx": xlsx_report}[fmt]
    return write_atomic(path, lambda tmp: writer(folder, tmp, lang))
