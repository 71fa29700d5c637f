"""Commands that analyse many runs: calibrate, validate-fit, sweep, evaluate, validate-published."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.common import (
    SetOption,
    app,
    at_least,
    check_output,
    console,
    err,
    fail,
    load_scenario_option,
)
from sim.common.errors import ScenarioError, show
from sim.outputs.terminal import (
    evaluation_table,
    fit_table,
    progress_bar,
    ranking_lines,
)


@app.command()
def calibrate(
    spec: Annotated[Path, typer.Argument(help="Calibration file, e.g. calibration/tianjin-2020.yaml.")],
    workers: Annotated[int, typer.Option(help="Worker processes evaluating candidates in parallel.")] = 1,
    scheduler: Annotated[str | None, typer.Option(help="Address of a Dask scheduler to run on instead.")] = None,
    particles: Annotated[
        int | None, typer.Option(help="Parameter sets in the ensemble (default: the file's method.particles).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: calibration/<name>).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change a key of the calibration file, e.g. --set scale=8 (repeatable)."),
    ] = None,
) -> None:
    """Draw the ensemble of parameter sets consistent with the calibration file's targets (the posterior)
    and its best-fitting set; write fit.yaml, fit.csv, ensemble.csv, history.csv and report.md. The same
    file gives the same ensemble whatever the number of workers."""
    from sim.analysis.executors import ExecutorError
    from sim.analysis.fitting import calibrate as fit_parameters
    from sim.analysis.fitting import load_spec
    from sim.outputs.fit_report import FIT_FILE, write_fit
    from sim.results.files import OutputError, check_output_dir

    at_least("--workers", workers, 1)
    at_least("--particles", particles, 16)
    try:
        s = load_spec(spec, set_)
    except ScenarioError as e:
        fail(str(e))
    if particles is not None:
        s = s.model_copy(update={"method": s.method.model_copy(update={"particles": particles})})
    out = out or Path("calibration") / s.name
    try:
        check_output_dir(out, marker=FIT_FILE)
    except OutputError as e:
        fail(str(e))
    with progress_bar(err, "evaluations") as progress:
        task = progress.add_task(f"{s.name}: sampling the posterior", total=None)
        try:
            fit = fit_parameters(s, workers, progress=lambda n: progress.advance(task, n), scheduler=scheduler)
        except (ScenarioError, ExecutorError) as e:
            fail(str(e))
    record = write_fit(fit, out, spec.read_text(encoding="utf-8"), command=["sim", *sys.argv[1:]])
    console.print(fit_table(fit.table, f"{s.name}: objective {fit.objective:.4f}, {len(fit.history)} evaluations"))
    summary = record["posterior"]["summary"]
    for name, value in record["fitted"].items():
        post = summary[name]
        console.print(
            f"  {name} = {value:.4f} (ensemble mean {post['mean']:.4f}, 90% {post['p05']:.4f} to {post['p95']:.4f})"
        )
    console.print(f"Fit in [bold]{out}[/] ({fit.seconds:.0f} s)")


@app.command("validate-fit")
def validate_fit(
    names: Annotated[
        list[str] | None, typer.Argument(help="Shipped calibration names or fit files (default: all shipped).")
    ] = None,
    replicates: Annotated[int | None, typer.Option(help="Check replicates (default: the fit's).")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    renew: Annotated[
        Path | None,
        typer.Option(
            help="Where the packaged data changed since the fit: write the fit, renewed on the data as they are now, "
            "to this folder (NAME.yaml each) if every fitted target still holds on them; the record says it was "
            "re-checked, not refitted. A fit that no longer holds must be refitted with `sim calibrate`."
        ),
    ] = None,
) -> None:
    """Re-run each calibration's targets and hold-out checks with the fitted parameters (on the check
    seed) and say which are met. Exit code 1 if a fitted target is outside its tolerance."""
    import yaml

    from sim.analysis.fit_check import renewed, validate
    from sim.data.fits import read_fit, shipped, shipped_path
    from sim.results.files import write_text

    at_least("--workers", workers, 1)
    at_least("--replicates", replicates, 2)
    if renew is not None:
        check_output(renew, kind="folder", overwrite=True)
    failed = False
    for name in names or shipped():
        try:
            result = validate(name, replicates, workers)
        except (ScenarioError, ValueError) as e:
            fail(f"{name}: {e}")
        for note in result.notes:
            console.print(f"[yellow]note:[/] {name}: {escape(note)}")
        console.print(fit_table(result.table, f"{name} ({result.region})"))
        failed |= not result.table[result.table.kind == "target"].within.all()
        if renew is not None and result.notes:
            path = shipped_path(name) if name in shipped() else Path(name)
            try:
                record = renewed(read_fit(path)[0], result, ["sim", *sys.argv[1:]])
            except ValueError as e:
                err.print(f"{name}: {e}")
                continue
            text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)
            write_text(renew / f"{Path(name).stem}.yaml", text)
            console.print(
                f"{name}: renewed on the current data, written to [bold]{renew / (Path(name).stem + '.yaml')}[/]"
            )
    if failed:
        raise typer.Exit(1)


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file (see experiments/).")],
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
            help="Sweep folder (default: runs/sweeps/<experiment name>). Must be new or empty unless --resume; "
            "an earlier sweep is never overwritten."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the sweep in the folder after a crash or kill: stored runs are kept, the rest run. "
            "Refused if the experiment changed. On a complete sweep: analyse it again.",
        ),
    ] = False,
    chunk: Annotated[
        int | None, typer.Option(help="Runs per task sent to a worker (default: automatic); results do not change.")
    ] = None,
    charts: Annotated[bool, typer.Option(help="Also draw the charts (PNG) into DIR/charts.")] = True,
    emulator: Annotated[
        Path | None,
        typer.Option(
            help="Sobol indices from this trained emulator (sim emulate) instead of model runs: seconds, no run; "
            "the intervals include the emulator's uncertainty. Default --out: runs/sweeps/<name>-emulated."
        ),
    ] = None,
    set_: SetOption = None,
) -> None:
    """Rank the factors of an experiment by their effect on its outcomes (Morris or Sobol, with SALib).

    Runs every point of the design, storing each finished run at once in DIR/runs, then writes
    outcomes.csv, indices.csv, convergence.csv, charts and manifest.json. With --emulator, runs nothing:
    the emulator predicts every point; writes indices.csv, convergence.csv, uncertainty.csv, charts and
    manifest.json (marked emulated)."""
    from sim.analysis.experiment import ExperimentError, load_experiment
    from sim.analysis.sweep import SweepError, SweepFailed, run_sweep
    from sim.outputs.sweep_charts import save_sweep_charts

    if emulator is not None:
        given = [(k, v) for k, v in (("--workers", workers), ("--scheduler", scheduler), ("--chunk", chunk)) if v]
        given += [("--resume", True)] if resume else []
        if given:
            option, value = given[0]
            shown = "" if value is True else f" = {show(value)}"
            fail(f"{option}{shown} with --emulator: an emulated sweep runs no model; leave {option} out")
        try:
            exp = load_experiment(experiment, set_)
        except ExperimentError as e:
            fail(str(e))
        emulated_sweep(exp, emulator, out or Path("runs") / "sweeps" / f"{exp.name}-emulated", charts)
        return
    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    at_least("--workers", workers, 1)
    at_least("--chunk", chunk, 1)
    try:
        exp = load_experiment(experiment, set_)
    except ExperimentError as e:
        fail(str(e))
    out = out or Path("runs") / "sweeps" / exp.name

    with progress_bar(err, "runs") as progress:
        task = progress.add_task(f"{exp.name}: runs", total=None)

        def advance(done: int, total: int) -> None:
            if progress.tasks[0].total is None:  # runs stored before: a start, not a rate
                progress.reset(task, total=total, completed=done)
            progress.update(task, completed=done, total=total)

        try:
            result = run_sweep(
                exp,
                out,
                workers=workers,
                scheduler=scheduler,
                resume=resume,
                chunk=chunk,
                charts=save_sweep_charts if charts else None,
                progress=advance,
                command=["sim", *sys.argv[1:]],
            )
        except SweepFailed as e:
            fail(str(e), code=1)
        except SweepError as e:
            fail(str(e))
        except KeyboardInterrupt:
            fail(f"interrupted: the finished runs are stored in {out}; continue with --resume", code=130)
    for note in result.notes:
        err.print(f"note: {escape(note)}", highlight=False)
    for line in ranking_lines(exp, result):
        console.print(line)
    console.print(
        f"Sweep in [bold]{out}[/] ({result.runs_now} runs now, {len(result.outcomes)} in all, "
        f"{result.wall_seconds:.1f} s)"
    )


def emulated_sweep(exp, emulator: Path, out: Path, charts: bool) -> None:
    """The indices from the emulator, written to ``out``; one line and exit 2 if they cannot be."""
    from sim.analysis.emulated_sweep import run_emulated_sweep
    from sim.analysis.emulator import EmulatorError
    from sim.analysis.sweep import SweepError
    from sim.outputs.sweep_charts import Emulated, save_sweep_charts

    def draw(exp, indices, convergence, runs, folder, emulator_name, points):
        return save_sweep_charts(
            exp, indices, convergence, runs, folder, emulated=Emulated(emulator_name, runs, points)
        )

    with err.status(f"{exp.name}: Sobol indices from the emulator in {emulator}"):
        try:
            result = run_emulated_sweep(exp, emulator, out, draw if charts else None, ["sim", *sys.argv[1:]])
        except (EmulatorError, SweepError) as e:
            fail(str(e))
    for note in result.notes:
        err.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    for line in ranking_lines(exp, result.indices):
        console.print(line)
    analysed = result.indices.indices.outcome.nunique()
    console.print(
        f"Emulated sweep in [bold]{out}[/]: indices of {analysed} of {len(exp.readers)} outcomes from the emulator "
        f"in {emulator}, no model run ({result.analysis_seconds:.1f} s to compute, {result.wall_seconds:.1f} s in all)"
    )


@app.command()
def evaluate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file with targets (a plan).")],
    observed: Annotated[
        Path | None,
        typer.Option(
            help="CSV of observed figures: indicator, year, value, tolerance, source (+ breakdowns); default: the "
            "scenario's `observed`."
        ),
    ] = None,
    as_of: Annotated[int | None, typer.Option(help="Evaluation year (default: the last observed year).")] = None,
    replicates: Annotated[int, typer.Option(help="Runs of the ensemble (parameter sets x random draws).")] = 100,
    on_track: Annotated[float, typer.Option(help="P(met) at or above which a target is on track.")] = 0.8,
    off_track: Annotated[float, typer.Option(help="P(met) below which a target is off track.")] = 0.2,
    lever: Annotated[
        str | None, typer.Option(help="Lever for 'what it would take' (default: each target's own, as catalogued).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a Dask scheduler to run on instead.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for evaluation.csv, fans.csv, charts (default: runs/<name>-as-of-YEAR).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    set_: SetOption = None,
) -> None:
    """Is the plan on track? Condition the ensemble on what was observed up to the evaluation year, continue
    with the plan's levers, and give each target its probability of being met, a verdict, and what it would
    take."""
    from sim.analysis.evaluation import Thresholds, describe_weights, write_evaluation
    from sim.analysis.evaluation import evaluate as evaluate_plan
    from sim.analysis.executors import ExecutorError
    from sim.outputs.evaluation_chart import draw_evaluation_charts
    from sim.results.files import OutputError, check_output_dir
    from sim.scenario.observations import load_observations

    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    at_least("--workers", workers, 1)
    at_least("--replicates", replicates, 10)
    for key, value in (("--on-track", on_track), ("--off-track", off_track)):
        if not 0 < value < 1:
            fail(f"{key} = {value:g}: must be between 0 and 1")
    if not off_track < on_track:
        fail(f"--off-track = {off_track:g}: must be below --on-track ({on_track:g})")
    s = load_scenario_option(scenario, seed, replicates, set_)
    s, scale_note = with_evaluation_scale(scenario, s, set_)
    if observed is None:
        if s.observed is None:
            fail(f"{scenario}: no observed figures: give --observed FILE.csv or `observed:` in the scenario")
        observed = Path(s.observed)
    try:
        figures = load_observations(observed, s.base_year, s.horizon)
    except ScenarioError as e:
        fail(str(e))
    last_observed = max(o.year for o in figures)
    if as_of is not None and as_of > last_observed:  # nothing observed then: the years after are projections
        fail(
            f"--as-of = {as_of}: after the last observed year ({last_observed}) in {observed}; allowed: up to "
            f"{last_observed}"
        )
    as_of = as_of if as_of is not None else last_observed
    out = out or Path("runs") / f"{s.name}-as-of-{as_of}"
    try:
        check_output_dir(out, marker="evaluation.csv")
    except OutputError as e:
        fail(str(e))
    if scale_note:
        err.print(scale_note, highlight=False, soft_wrap=True)
    with progress_bar(err, "runs") as progress:
        task = progress.add_task(f"{s.name}: evaluating as of {as_of}", total=None)
        try:
            ev = evaluate_plan(
                s,
                figures,
                as_of,
                workers=workers or 1,
                thresholds=Thresholds(on_track=on_track, off_track=off_track),
                lever=lever,
                scheduler=scheduler,
                progress=lambda n: progress.advance(task, n),
            )
        except (ScenarioError, ExecutorError) as e:
            fail(str(e))
    try:
        write_evaluation(ev, out, observed, command=["sim", *sys.argv[1:]], charts=draw_evaluation_charts)
    except OutputError as e:
        fail(str(e))
    console.print(describe_weights(ev))
    console.print(evaluation_table(ev))
    console.print(f"Evaluation in [bold]{out}[/] ({sum(ev.seconds.values()):.0f} s)")


def with_evaluation_scale(path: Path, s, sets: list[str] | None):
    """The scenario at the coarsest faithful scale (rounded down to a whole number) when neither its file nor
    --set gives one, and the note that says so (None when a scale was given): an ensemble of 100 runs at one
    agent per person would take hours."""
    from sim.scenario.files import read_scenario_file
    from sim.scenario.levers import with_lever
    from sim.scenario.scale import coarsest_faithful_scale, faithful_scale

    if any(a.split("=", 1)[0].strip() == "scale" for a in sets or []) or "scale" in read_scenario_file(path):
        return s, None
    limit = coarsest_faithful_scale(s)
    scale = faithful_scale(s)
    if scale == s.scale:  # its own scale is already the coarsest faithful one: nothing to say
        return s, None
    note = (
        f"note: no scale given: evaluating at scale {scale:g} (persons per agent), the coarsest faithful one "
        f"({limit.reason}); give --set scale=S to choose"
    )
    return with_lever(s, "scale", scale), note


@app.command("validate-published")
def validate_published(
    replicates: Annotated[int, typer.Option(help="Replicates per run.")] = 10,
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path("docs/validation.md"),
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
) -> None:
    """Run the model against the published figures packaged in sim/data/validation/published_figures.csv
    (the population of China, Tianjin and Wenzhou under every disability trend; the care systems of China
    and Tianjin) and write the comparison, with the population projections by trend and residence, to OUT.
    Every check is reported, passed or failed; the exit code is 0 either way."""
    from sim.analysis import published
    from sim.results.files import write_text
    from sim.results.runs import code_version

    at_least("--replicates", replicates, 1)
    if out.suffix != ".md":
        fail(f"--out = '{out}': must be a .md file")
    check_output(out, kind="file")
    checks, tables = published.validate(replicates, workers=workers)
    version = code_version()
    stamp = f"sim {version['package']}, commit {(version['git_commit'] or 'unknown')[:10]}"
    text = published.markdown(
        checks, tables, replicates, stamp + (" (uncommitted changes)" if version["git_dirty"] else "")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    console.print(f"{int(checks.passed.sum())} of {len(checks)} checks pass; written to [bold]{out}[/]")
