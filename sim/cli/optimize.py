"""The command that searches for plans: optimize."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.common import app, at_least, console, err, fail
from sim.common.errors import show
from sim.outputs.terminal import progress_bar


@app.command()
def optimize(
    problem_file: Annotated[Path, typer.Argument(help="Problem YAML file (see experiments/optimize/).")],
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core); 1 runs in this process.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a Dask scheduler (e.g. tcp://10.0.0.5:8786) to run on its workers instead."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Search folder (default: runs/optimize/<problem name>). Must be new or empty unless --resume."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the search in the folder after a crash or kill: stored runs answer the candidates asked "
            "again, the rest run; the front is the same as without the interruption. Refused if the problem changed.",
        ),
    ] = False,
    charts: Annotated[bool, typer.Option(help="Also draw the charts (PNG, en and zh) into DIR/charts.")] = True,
    emulator: Annotated[
        Path | None,
        typer.Option(
            help="Search on this emulator of the problem (trained by sim emulate PROBLEM.yaml) instead of model runs; "
            "the plans it proposes are then verified by the model (verify.runs fresh runs each)."
        ),
    ] = None,
) -> None:
    """Find the cheapest plans that meet the scenario's targets with a required probability (NSGA-II).

    Stores every run in DIR/runs as it finishes, then writes evaluations.csv, front.csv, convergence.csv,
    verified.csv (the chosen plans re-run with fresh seeds), cheapest.yaml, charts and manifest.json.
    With --emulator, the search runs on the emulator and front.csv holds the plans it proposed, each run
    verify.runs times by the model: the model's estimates beside the emulator's (emulated_* columns)."""
    from sim.analysis.optimize import OptimizeError, SearchFailed, run_search
    from sim.analysis.optimum import finish
    from sim.analysis.problem import ProblemError, load_problem

    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    at_least("--workers", workers, 1)
    try:
        problem = load_problem(problem_file)
    except ProblemError as e:
        fail(str(e))
    out = out or Path("runs") / "optimize" / problem.name
    if emulator is not None:
        if resume:
            fail(f"--emulator = {show(str(emulator))} with --resume: an emulated search is not resumed; run it again")
        return optimize_emulated(problem, emulator, out, workers, scheduler, charts)
    with progress_bar(err, "runs") as progress:
        task = progress.add_task(f"{problem.name}: runs", total=problem.spec.search.runs)

        def advance(n: int) -> None:
            progress.update(task, advance=n)

        try:
            result = run_search(
                problem,
                out,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                progress=advance,
                command=["sim", *sys.argv[1:]],
            )
            verifying = progress.add_task(f"{problem.name}: verification runs", total=None)
            found = finish(result, workers, scheduler, lambda n: progress.update(verifying, advance=n))
        except SearchFailed as e:
            fail(str(e), code=1)
        except OptimizeError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail(f"interrupted: the finished runs are stored in {out}; continue with --resume", code=130)
    if charts:
        from sim.outputs.optimize_charts import save_optimize_charts

        save_optimize_charts(result, found, out / "charts")
    if found.front.empty:
        fail(found.lines[0] + f"; the runs are in {out}", code=1)
    for line in found.lines:
        console.print(escape(line))
    console.print(
        f"Search in [bold]{out}[/] ({result.runs_now} runs now, {result.search.requested} in the search, "
        f"{result.wall_seconds:.1f} s); the cheapest verified plan: "
        + (f"{out / 'cheapest.yaml'}" if found.cheapest is not None else "none")
    )


def optimize_emulated(problem, folder: Path, out: Path, workers, scheduler, charts: bool) -> None:
    """`sim optimize --emulator DIR`: the search on the emulator, its front verified by the model."""
    from sim.analysis.emulated_search import run_emulated_search
    from sim.analysis.emulator import EmulatorError
    from sim.analysis.emulator_training import load_emulator
    from sim.analysis.optimize import OptimizeError, SearchFailed
    from sim.analysis.problem_emulation import check_emulator

    try:
        emulator = load_emulator(folder)
        check_emulator(problem, emulator, folder)
    except EmulatorError as e:
        fail(str(e))
    with progress_bar(err, "runs") as progress:
        verifying = progress.add_task(f"{problem.name}: verification runs", total=None)
        try:
            emulated, found = run_emulated_search(
                problem,
                emulator,
                folder,
                out,
                workers,
                scheduler,
                lambda n: progress.update(verifying, advance=n),
                ["sim", *sys.argv[1:]],
            )
        except SearchFailed as e:
            fail(str(e), code=1)
        except OptimizeError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail(f"interrupted: the verification runs finished are stored in {out / 'verify'}", code=130)
    if charts:
        from sim.outputs.optimize_charts import save_optimize_charts

        save_optimize_charts(emulated.result, found, out / "charts")
    if not emulated.front:
        fail(found.lines[0] + f"; the plans asked are in {out}", code=1)
    for line in found.lines:
        console.print(escape(line))
    session = emulated.result.manifest["sessions"][-1]
    console.print(
        f"Search in [bold]{out}[/] (emulated search {session['emulated_search_seconds']:.1f} s, "
        f"{session.get('verification_runs_done', 0)} verification runs, {session['wall_seconds']:.1f} s in all); "
        "the cheapest plan the model confirms: "
        + (f"{out / 'cheapest.yaml'}" if found.cheapest is not None else "none")
    )


def optimize_report(
    folder: Path, run_dirs: list[Path] | None, fmt: str, lang: str, out: Path | None, evaluation
) -> None:
    """`sim report --optimize DIR`: the report of a search, from its files."""
    import time

    from sim.cli.common import check_output
    from sim.outputs.optimize_report import search_problem, write_optimize_report

    if run_dirs or evaluation is not None:
        fail(
            f"--optimize = {show(str(folder))}: a search's report stands alone; give no results folder or --evaluation"
        )
    problem = search_problem(folder)
    if problem:
        fail(f"--optimize = {show(str(folder))}: {problem}")
    start = time.perf_counter()
    out = out or folder / f"report_{lang}.{fmt}"
    check_output(out, kind="file")
    path = write_optimize_report(folder, out, fmt, lang)
    console.print(f"Report in [bold]{path}[/] ({time.perf_counter() - start:.1f} s)")
