"""The `sim` command: run, validate and inspect scenarios.

Errors the user can fix (a wrong scenario, an output folder that is not ours) are one line on stderr
and exit code 2, with nothing written.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from sim.common.errors import ScenarioError, cut, show
from sim.outputs.terminal import (
    evaluation_table,
    fit_table,
    headline_table,
    progress_bar,
    ranking_lines,
    regions_table,
    targets_table,
)
from sim.scenario import Scenario
from sim.scenario.files import load_what_if


class OneLineErrors(TyperGroup):
    """The command line's own mistakes (an unknown option, a missing argument, a value of the wrong type)
    as one line naming the option, the value and what is allowed, exit code 2, like every other error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as e:  # typer's own click: usage errors, bad values, no arguments
            if type(e).__name__ == "NoArgsIsHelpError":
                e.show()
            else:
                line = _usage_line(e, argv, sorted(self.commands))
                err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            err.print("[bold red]error:[/] interrupted", highlight=False)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


TYPE_WORDS = {"valid integer": "must be a whole number", "valid number": "must be a number"}


def _usage_line(e: typer.TyperException, argv: list[str], commands: list[str]) -> str:
    message = " ".join(e.format_message().split())
    if message.startswith("No such command"):
        return f"{cut(message).rstrip('.')} (allowed: {', '.join(commands)})"
    if isinstance(e, typer.BadParameter) and e.param is not None and e.param.opts:
        option = max(e.param.opts, key=len)
        given = next((a.split("=", 1)[1] for a in argv if a.startswith(option + "=")), None)
        if given is None and option in argv and argv.index(option) + 1 < len(argv):
            given = argv[argv.index(option) + 1]
        what = message.split(": ", 1)[-1]
        what = next((words for key, words in TYPE_WORDS.items() if key in what), what)
        if option.startswith("-") and given is not None:
            return f"{option} = {cut(given)!r}: {what}"
    command = " ".join(["sim", *[a for a in argv[:1] if not a.startswith("-")]])
    return f"{cut(message)} (see `{command} --help`)"


app = typer.Typer(
    cls=OneLineErrors,
    help="Simulate ageing and long-term-care capacity of a Chinese city, year by year.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _load(path: Path, seed: int | None, replicates: int | None, sets: list[str] | None) -> Scenario:
    overrides = list(sets or [])
    if seed is not None:
        overrides.append(f"seed={seed}")
    if replicates is not None:
        overrides.append(f"replicates={replicates}")
    try:
        scenario = load_what_if(path, overrides)
    except ScenarioError as e:
        fail(str(e))
    _note_if_uncalibrated(scenario)
    return scenario


def _note_if_uncalibrated(scenario: Scenario) -> None:
    """One line when the region has no calibration of its own: its care choice then rests on its province's
    fit (a user's city) or on the documented defaults."""
    from sim.data.fits import DEFAULT, resolve

    if scenario.calibration != DEFAULT:
        return
    fit = resolve(DEFAULT, scenario.region, scenario.base_year)
    if fit is not None and scenario.region_file is not None:
        err.print(
            f"note: region {scenario.region} has no calibration of its own: its care choice uses its province's "
            f"({fit['name']}); make one with `sim calibrate` (a calibration file with `region: "
            f'{scenario.region_file["file"]}`, README "Add your city"), then `calibration: '
            f"calibration/<name>/fit.yaml` in the scenario",
            highlight=False,
            soft_wrap=True,
        )
    if fit is not None:
        return
    if scenario.region_file is not None:
        how = (
            f'a calibration file with `region: {scenario.region_file["file"]}` (README, "Add your city"), then '
            f"`calibration: calibration/<name>/fit.yaml` in the scenario"
        )
    else:
        how = (
            f"a file like calibration/shengzhou-2020.yaml, then copy its fit.yaml to "
            f"sim/data/calibrations/{scenario.region}-{scenario.base_year}.yaml"
        )
    err.print(
        f"note: region {scenario.region} has no calibration: its care choice uses the documented defaults, "
        f"not fitted to what it observed; make one with `sim calibrate` ({how})",
        highlight=False,
        soft_wrap=True,
    )


def _at_least(option: str, value: int | None, least: int) -> None:
    if value is not None and value < least:
        fail(f"{option} = {value}: must be at least {least}")


SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a scenario key, e.g. --set data.mortality_multiplier=0.9 (repeatable)."),
]


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path | None, typer.Option(help="Results folder (default: runs/<scenario name>).")] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    replicates: Annotated[int | None, typer.Option(help="Override the number of replicates.")] = None,
    set_: SetOption = None,
    charts: Annotated[
        bool, typer.Option(help="Also draw the default charts (PNG, English) into DIR/charts/en.")
    ] = True,
) -> None:
    """Run a scenario and write yearly results, a summary, targets, charts and a manifest into a folder."""
    from sim.outputs.charts import draw_default_charts
    from sim.results.files import OutputError, check_output_dir
    from sim.results.runs import run_scenario, write_run

    s = _load(scenario, seed, replicates, set_)
    out = out or Path("runs") / s.name
    try:
        check_output_dir(out)
    except OutputError as e:
        fail(str(e))
    with progress_bar(err, "replicates") as progress:
        task = progress.add_task(s.name, total=s.replicates)
        result = run_scenario(s, on_replicate_done=lambda _: progress.advance(task))
    try:
        changes = [*(set_ or []), *([f"seed={seed}"] if seed is not None else [])]
        drawn = draw_default_charts if charts else None
        write_run(result, out, command=["sim", *sys.argv[1:]], charts=drawn, changes=changes)
    except OutputError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: results not written ({e}); nothing was changed there", code=1)
    console.print(headline_table(result))
    if not result.targets.empty:
        console.print(targets_table(result))
    console.print(f"Results in [bold]{out}[/] ({result.wall_seconds:.1f} s)")


Lang = Annotated[str, typer.Option(help="Language of labels: en or zh.")]
Charts = Annotated[list[str] | None, typer.Option("--chart", help="A chart to draw (repeatable; default: all).")]


def _runs(folders: list[Path]):
    """The results folders, or one line saying which is not one, or lacks indicators of this version."""
    from sim.catalogues.indicators import catalogue
    from sim.results.files import MANIFEST, recover
    from sim.results.folder import Run

    runs = []
    for folder in folders:
        recover(folder)  # before checking it: a write killed between its two renames left the results aside
        if not (folder / MANIFEST).exists() or not (folder / "summary.parquet").exists():
            fail(f"{folder}: not a results folder of sim run (no {MANIFEST} and summary.parquet)")
        try:
            run = Run.load(folder)
        except (OSError, ValueError, KeyError, TypeError) as e:  # pyarrow's and json's errors are ValueErrors
            fail(f"{folder}: its results cannot be read ({type(e).__name__}); run the scenario again")
        missing = sorted(set(catalogue().indicators) - set(run.summary.indicator))
        if missing:
            fail(f"{folder}: made by another version of sim (no {', '.join(missing)}); run the scenario again")
        runs.append(run)
    return runs


def _check_output(out: Path, kind: str = "folder", marker: str | None = None, overwrite: bool = True) -> None:
    """One line and exit 2, before any work, if the output cannot be written where asked."""
    from sim.results.files import MANIFEST, OutputError, check_output_dir, check_output_file, check_writable

    try:
        if kind == "file":
            check_output_file(out, overwrite=overwrite)
        elif marker is None:
            check_writable(out)
            if out.exists() and not out.is_dir():
                raise OutputError(f"{show(str(out))}: exists and is not a folder; choose another --out")
        else:
            check_output_dir(out, marker=marker or MANIFEST)
    except OutputError as e:
        fail(str(e))


def _check_choice(key: str, value: str, allowed) -> None:
    if value not in allowed:
        fail(f"{key} = {show(value)}: must be one of {', '.join(allowed)}")


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

    _check_choice("--format", fmt, FORMATS)
    _check_choice("--lang", lang, LANGS)
    for c in chart or []:
        _check_choice("--chart", c, CHARTS)
    runs = _runs([run_dir])
    out = out or run_dir / "charts" / lang
    _check_output(out)
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

    _check_choice("--format", fmt, FORMATS)
    _check_choice("--lang", lang, LANGS)
    if len(run_dirs) < 2:
        fail("compare needs at least two results folders")
    for name in indicator or []:
        _check_choice("--indicator", name, sorted(catalogue().indicators))
    runs = _runs(run_dirs)
    out = out or Path("comparisons") / "_vs_".join(r.name for r in runs)
    _check_output(out)
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
    run_dirs: Annotated[list[Path], typer.Argument(help="One results folder, or several to compare.")],
    fmt: Annotated[str, typer.Option("--format", help="html, pdf, docx (Word) or xlsx (Excel).")] = "html",
    lang: Lang = "en",
    out: Annotated[Path | None, typer.Option(help="Report file (default: RUN_DIR/report_LANG.FORMAT).")] = None,
    evaluation: Annotated[
        Path | None, typer.Option(help="A folder of `sim evaluate`: its verdicts and chart get a section.")
    ] = None,
) -> None:
    """A short, self-contained report: scenario, key indicators, targets met or missed, charts, sources."""
    import time

    from sim.catalogues.indicators import LANGS
    from sim.outputs.report import FORMATS as REPORT_FORMATS
    from sim.outputs.report import write_report

    _check_choice("--format", fmt, REPORT_FORMATS)
    _check_choice("--lang", lang, LANGS)
    from sim.outputs.report_content import evaluation_problem

    runs = _runs(run_dirs)
    start = time.perf_counter()
    if evaluation is not None:
        problem = evaluation_problem(evaluation, runs)
        if problem:
            fail(f"--evaluation = {show(str(evaluation))}: {problem}")
    out = out or run_dirs[0] / f"report_{lang}.{fmt}"
    _check_output(out, kind="file")
    path = write_report(runs, out, fmt, lang, evaluation)
    console.print(f"Report in [bold]{path}[/] ({time.perf_counter() - start:.1f} s)")


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

    _at_least("--workers", workers, 1)
    _at_least("--particles", particles, 16)
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
) -> None:
    """Re-run each calibration's targets and hold-out checks with the fitted parameters (on the check
    seed) and say which are met. Exit code 1 if a fitted target is outside its tolerance."""
    from sim.analysis.fitting import validate
    from sim.data.fits import shipped

    _at_least("--workers", workers, 1)
    _at_least("--replicates", replicates, 2)
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
    set_: SetOption = None,
) -> None:
    """Rank the factors of an experiment by their effect on its outcomes (Morris or Sobol, with SALib).

    Runs every point of the design, storing each finished run at once in DIR/runs, then writes
    outcomes.csv, indices.csv, convergence.csv, charts and manifest.json."""
    from sim.analysis.experiment import ExperimentError, load_experiment
    from sim.analysis.sweep import SweepError, SweepFailed, run_sweep
    from sim.outputs.sweep_charts import save_sweep_charts

    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    _at_least("--workers", workers, 1)
    _at_least("--chunk", chunk, 1)
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
    _at_least("--workers", workers, 1)
    _at_least("--replicates", replicates, 10)
    for key, value in (("--on-track", on_track), ("--off-track", off_track)):
        if not 0 < value < 1:
            fail(f"{key} = {value:g}: must be between 0 and 1")
    if not off_track < on_track:
        fail(f"--off-track = {off_track:g}: must be below --on-track ({on_track:g})")
    s = _load(scenario, seed, replicates, set_)
    if observed is None:
        if s.observed is None:
            fail(f"{scenario}: no observed figures: give --observed FILE.csv or `observed:` in the scenario")
        observed = Path(s.observed)
    try:
        figures = load_observations(observed, s.base_year, s.horizon)
    except ScenarioError as e:
        fail(str(e))
    as_of = as_of if as_of is not None else max(o.year for o in figures)
    out = out or Path("runs") / f"{s.name}-as-of-{as_of}"
    try:
        check_output_dir(out, marker="evaluation.csv")
    except OutputError as e:
        fail(str(e))
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


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
) -> None:
    """Check a scenario without running it."""
    s = _load(scenario, None, None, set_)
    console.print(
        f"{scenario}: valid ({s.region}, {s.base_year}-{s.horizon}, {s.replicates} replicate(s), scale {s.scale:g})"
    )


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editors that complete and check YAML)."""
    print(json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False))


@app.command("region-template")
def region_template(
    province: Annotated[str, typer.Argument(help="The province the city is in: key, English or Chinese name.")],
    out: Annotated[Path, typer.Option(help="File to write (refused if it exists).")] = Path("my-city.yaml"),
) -> None:
    """Write a commented region file for your own city in PROVINCE, to fill in and name in a scenario as
    `region: FILE` (README, "Add your city")."""
    from sim.data.regions import PROVINCES, find_region
    from sim.data.user_region import template
    from sim.results.files import write_text

    key = find_region(province)
    if key not in PROVINCES:
        fail(f"PROVINCE = {province!r}: not one of the 31 provinces (e.g. zhejiang, 浙江, Inner Mongolia)")
    _check_output(out, kind="file", overwrite=False)
    write_text(out, template(key))
    console.print(f"Template for a city in {key} in {out}: fill in every null, then `region: {out}` in a scenario")


@app.command("app")
def app_(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    runs: Annotated[Path, typer.Option(help="Results folder: runs are stored in RUNS/app/<hash>.")] = Path("runs"),
    scenarios: Annotated[Path, typer.Option(help="Folder of scenario files offered as starting points.")] = Path(
        "scenarios"
    ),
    region_files: Annotated[
        Path | None, typer.Option(help="Folder of your own cities' region files (sim region-template).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run on a Dask cluster: the scheduler's address.")] = None,
    per_user: Annotated[int, typer.Option(help="Runs one user may have queued or running at once.")] = 2,
    max_replicates: Annotated[int, typer.Option(help="Replicates one run may ask for.")] = 20,
    max_queued: Annotated[int, typer.Option(help="Runs queued or running at once, all users together.")] = 16,
    root_path: Annotated[
        str, typer.Option(help="Path a reverse proxy serves the app under, e.g. /sim (default: the site's root).")
    ] = "",
) -> None:
    """The scenario explorer in the browser: pick a region and a plan, change the levers, run, compare,
    download; for one planner, or a bureau's server with many users."""
    import socket

    from sim.analysis.executors import ExecutorError, available_cores
    from sim.app.server import AppConfig, serve

    if not 1 <= port <= 65535:
        fail(f"--port = {port}: must be from 1 to 65535")
    _at_least("--workers", workers, 1)
    _at_least("--per-user", per_user, 1)
    _at_least("--max-replicates", max_replicates, 1)
    _at_least("--max-queued", max_queued, 1)
    if root_path and not re.fullmatch(r"(/[\w.~-]+)+", root_path):
        fail(f"--root-path = {show(root_path)}: must be a path like /sim (letters, digits, '-', '_', '.', '~')")
    for option, folder in (("--scenarios", scenarios), ("--region-files", region_files)):
        if folder is not None and not folder.is_dir():
            fail(f"{option} = '{folder}': not a folder")
    runs.mkdir(parents=True, exist_ok=True) if runs.parent.is_dir() else None
    if not runs.is_dir() or not os.access(runs, os.W_OK):
        fail(f"--runs = '{runs}': not a writable folder")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a port just left is free
        try:
            probe.bind((host, port))
        except OSError as e:
            fail(f"--port = {port}: cannot listen on {host}:{port} ({e.strerror or e}); choose another port")
    config = AppConfig(
        runs, scenarios, region_files, workers or available_cores(), scheduler, per_user, max_replicates, max_queued,
        root_path,
    )  # fmt: skip
    console.print(f"sim app on http://{host}:{port}/ (runs in {runs / 'app'}; Ctrl-C stops it)")
    try:
        serve(host, port, config)
    except ExecutorError as e:
        fail(str(e))


@app.command()
def regions() -> None:
    """List the packaged regions (China, the 31 provinces, the plans' cities) with their names in English and
    Chinese, base year, population aged 60+ and data sources."""
    table, sources = regions_table()
    console.print(table)
    for line in sources:
        console.print(line, highlight=False)


if __name__ == "__main__":
    app()


@app.command("validate-published")
def validate_published(
    replicates: Annotated[int, typer.Option(help="Replicates per run.")] = 3,
    out: Annotated[Path, typer.Option(help="Markdown file to write.")] = Path("docs/validation.md"),
) -> None:
    """Run the model against the published figures packaged in sim/data/validation/published_figures.csv
    (the population of China, Tianjin and Wenzhou under every disability trend; the care systems of China
    and Tianjin) and write the comparison, with the population projections by trend and residence, to OUT.
    Every check is reported, passed or failed; the exit code is 0 either way."""
    from sim.analysis import published
    from sim.results.files import write_text
    from sim.results.runs import code_version

    _at_least("--replicates", replicates, 1)
    if out.suffix != ".md":
        fail(f"--out = '{out}': must be a .md file")
    _check_output(out, kind="file")
    checks = published.validate(replicates)
    tables = {region: published.projections(region, replicates) for region in ("china", "tianjin")}
    version = code_version()
    stamp = f"sim {version['package']}, commit {(version['git_commit'] or 'unknown')[:10]}"
    text = published.markdown(
        checks, tables, replicates, stamp + (" (uncommitted changes)" if version["git_dirty"] else "")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    console.print(f"{int(checks.passed.sum())} of {len(checks)} checks pass; written to [bold]{out}[/]")
