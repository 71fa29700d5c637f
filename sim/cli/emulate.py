"""sim emulate: train an emulator of an experiment on a few hundred runs and say how well it predicts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import SetOption, app, at_least, console, err, fail
from sim.common.errors import show
from sim.outputs.terminal import progress_bar


@app.command()
def emulate(
    experiment: Annotated[
        Path,
        typer.Argument(
            help="Experiment YAML file (see experiments/): its factors and outcomes; or a problem file of sim "
            "optimize (see experiments/optimize/): its levers, and what its objectives and targets read."
        ),
    ],
    runs: Annotated[
        int, typer.Option(help="Training runs: points of a scrambled Sobol' sequence over the factors.")
    ] = 512,
    holdout: Annotated[int, typer.Option(help="Held-out points the emulator is judged on (never trained on).")] = 64,
    replicates: Annotated[int, typer.Option(help="Runs per held-out point, for the coverage of its intervals.")] = 4,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core); 1 runs in this process.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a Dask scheduler (e.g. tcp://10.0.0.5:8786) to run on its workers instead."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Emulator folder (default: runs/emulators/<experiment name>). New or empty unless --resume."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a killed training: stored runs are kept, the rest run.")
    ] = False,
    chunk: Annotated[
        int | None, typer.Option(help="Runs per task sent to a worker (default: automatic); results do not change.")
    ] = None,
    set_: SetOption = None,
) -> None:
    """Train a Gaussian-process emulator of an experiment's outcomes and validate it on held-out runs.

    Writes DIR/emulator.npz, validation.csv (held-out R², error and 90% interval coverage per outcome),
    heldout.csv and manifest.json (with the code, data and calibration it was trained on: it is refused
    once they change). Outcomes below the standard are marked and never predicted."""
    from sim.analysis.emulator import EmulatorError
    from sim.analysis.emulator_training import Plan, train_emulator

    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    at_least("--workers", workers, 1)
    at_least("--chunk", chunk, 1)
    at_least("--runs", runs, 16)
    at_least("--holdout", holdout, 8)
    at_least("--replicates", replicates, 1)
    exp = load_study(experiment, set_)
    out = out or Path("runs") / "emulators" / exp.name
    with progress_bar(err, "runs") as progress:
        task = progress.add_task(f"{exp.name}: runs", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = train_emulator(
                exp,
                out,
                Plan(runs, holdout, replicates),
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                chunk=chunk,
                progress=advance,
                command=["sim", *sys.argv[1:]],
            )
        except EmulatorError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail(f"interrupted: the finished runs are stored in {out}; continue with --resume", code=130)
    from sim.outputs.terminal import emulator_table

    console.print(emulator_table(result.validation))
    usable = int(result.validation.usable.sum())
    console.print(
        f"Emulator in [bold]{out}[/]: {usable} of {len(result.validation)} outcomes predicted to the standard "
        f"({result.runs_now} runs now, fit {result.fit_seconds:.1f} s, {result.wall_seconds:.1f} s in all)"
    )


def is_problem_file(path: Path) -> bool:
    """A problem file of sim optimize has levers and objectives (an experiment has factors and outcomes)."""
    from sim.common.errors import ScenarioError
    from sim.common.user_files import read_yaml_file

    try:
        raw = read_yaml_file(path, "empty")
    except ScenarioError:
        return False  # the experiment's loader says what is wrong with it
    return isinstance(raw, dict) and "levers" in raw and "objectives" in raw


def load_study(path: Path, sets: list[str] | None):
    """What to train on: an experiment, or a problem's emulation source; one line and exit 2 if it cannot."""
    from sim.analysis.experiment import ExperimentError, load_experiment

    if is_problem_file(path):
        from sim.analysis.problem import ProblemError, load_problem
        from sim.analysis.problem_emulation import problem_source

        if sets:
            fail(f"--set = {show(sets[0])}: not for a problem file; change its scenario with the problem's set:")
        try:
            return problem_source(load_problem(path))
        except ProblemError as e:
            fail(str(e))
    try:
        return load_experiment(path, sets)
    except ExperimentError as e:
        fail(str(e))
