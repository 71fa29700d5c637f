"""Commands that draw and write from results folders: plot, compare, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.cli.common import (
    Charts,
    Lang,
    app,
    check_choice,
    check_output,
    console,
    fail,
    results_folders,
)
from sim.common.errors import show


@app.command()
def plot(
    run_dir: Annotated[Path, typer.Argument(help="A results folder of `sim run`.")],
    chart: Charts = None,
    fmt: Annotated[str, typer.Option("--format", help="png (300 dpi), svg or pdf.")] = "png",
    lang: Lang = "en",
    out: Annotated[Path | None, typer.Option(help="Folder for the charts (default: RUN_DIR/charts/LANG).")] = None,
) -> None:
    """Draw charts of a run."""
    from sim.catalogues.indicators import LANGS
    from sim.outputs.charts import CHARTS, FORMATS, save_charts

    check_choice("--format", fmt, FORMATS)
    check_choice("--lang", lang, LANGS)
    for c in chart or []:
        check_choice("--chart", c, CHARTS)
    runs = results_folders([run_dir])
    out = out or run_dir / "charts" / lang
    check_output(out)
    written = save_charts(runs, out, chart, (fmt,), lang)
    for path in written:
        console.print(str(path))


@app.command()
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Two or more results folders of `sim run`.")],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator",
            help="Indicators for the table of differences (default: the key indicators); each at its total, or "
            "at every value of a breakdown without one (e.g. the groups of care_hours).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for charts and differences (default: comparisons/A_vs_B).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="png (300 dpi), svg or pdf.")] = "png",
    lang: Lang = "en",
) -> None:
    """The same charts with the scenarios overlaid on shared axes (a colour and a legend entry each), and a
    table of differences at the target years and the horizon."""
    from sim.catalogues.indicators import LANGS, catalogue
    from sim.outputs.charts import FORMATS, save_charts
    from sim.outputs.formats import number
    from sim.outputs.report_content import differences
    from sim.results.files import write_atomic

    check_choice("--format", fmt, FORMATS)
    check_choice("--lang", lang, LANGS)
    if len(run_dirs) < 2:
        fail("compare needs at least two results folders")
    for name in indicator or []:
        check_choice("--indicator", name, sorted(catalogue().indicators))
    runs = results_folders(run_dirs)
    out = out or Path("comparisons") / "_vs_".join(r.name for r in runs)
    check_output(out)
    table = differences(runs, indicator)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "differences.csv", lambda p: table.to_csv(p, index=False))
    save_charts(runs, out / "charts" / lang, None, (fmt,), lang)
    view = Table(title="Differences")
    for col in table.columns:
        view.add_column(str(col), justify="right")
    for row in table.itertuples(index=False):
        view.add_row(*[number(v) if isinstance(v, float) else str(v) for v in row])
    console.print(view)
    console.print(f"Charts and differences.csv in [bold]{out}[/]")


@app.command()
def report(
    run_dirs: Annotated[list[Path] | None, typer.Argument(help="One results folder, or several to compare.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf, docx (Word) or xlsx (Excel).")] = "html",
    lang: Lang = "en",
    out: Annotated[Path | None, typer.Option(help="Report file (default: RUN_DIR/report_LANG.FORMAT).")] = None,
    evaluation: Annotated[
        Path | None, typer.Option(help="A folder of `sim evaluate`: its verdicts and chart get a section.")
    ] = None,
    optimize: Annotated[
        Path | None, typer.Option(help="A folder of `sim optimize`: the report of its search instead of a run's.")
    ] = None,
) -> None:
    """A short, self-contained report: scenario, key indicators, targets met or missed, charts, sources."""
    import time

    from sim.catalogues.indicators import LANGS
    from sim.outputs.report import FORMATS as REPORT_FORMATS
    from sim.outputs.report import write_report

    check_choice("--format", fmt, REPORT_FORMATS)
    check_choice("--lang", lang, LANGS)
    from sim.outputs.report_content import evaluation_problem

    if optimize is not None:
        from sim.cli.optimize import optimize_report

        optimize_report(optimize, run_dirs, fmt, lang, out, evaluation)
        return
    if not run_dirs:
        fail("give a results folder (or --optimize DIR, a search's folder)")
    runs = results_folders(run_dirs)
    start = time.perf_counter()
    if evaluation is not None:
        problem = evaluation_problem(evaluation, runs)
        if problem:
            fail(f"--evaluation = {show(str(evaluation))}: {problem}")
    out = out or run_dirs[0] / f"report_{lang}.{fmt}"
    check_output(out, kind="file")
    path = write_report(runs, out, fmt, lang, evaluation)
    console.print(f"Report in [bold]{path}[/] ({time.perf_counter() - start:.1f} s)")
