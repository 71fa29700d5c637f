"""`sim steps`: the plan with one lever raised or lowered by given steps, on common random numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Lang, SetOption, app, at_least, check_choice, console, err, fail, load_scenario_option
from sim.common.errors import show
from sim.outputs.terminal import progress_bar

# Replicates per step by default: P(met) is then told in tenths, and the changes, paired on common random numbers
# (the same draws in the plan and the step), vary far less between replicates than the values themselves
STEPS_REPLICATES = 10


@app.command()
def steps(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file (a plan).")],
    lever: Annotated[str, typer.Option(help="The lever to step, a key of sim/catalogues/levers.yaml.")],
    by: Annotated[
        list[str],
        typer.Option(
            help="A step: +N% or +N in the lever's unit, e.g. --by +10% --by +20% or --by=-5%,+5% "
            "(repeatable, comma-separated)."
        ),
    ],
    replicates: Annotated[
        int, typer.Option(help="Replicates per step, the same seeds in every step (P(met) in tenths at the default).")
    ] = STEPS_REPLICATES,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Address of a Dask scheduler to run on instead.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for steps.csv, the chart and manifest (default: runs/<name>-steps).")
    ] = None,
    lang: Lang = "en",
    set_: SetOption = None,
) -> None:
    """Run the plan with LEVER changed by each step (same seeds: common random numbers) and report the change
    in every target's value and P(met) and in the plan's cumulative cost, as a table, steps.csv and a chart."""
    from sim.analysis.executors import ExecutorError
    from sim.analysis.steps import StepsError, check_lever, parse_steps, run_steps
    from sim.data.vintage import data_vintage
    from sim.outputs.charts import save
    from sim.outputs.steps_chart import steps_figure, steps_table
    from sim.results.files import OutputError, check_output_dir, replace_folder, write_json
    from sim.results.runs import code_version

    check_choice("--lang", lang, ("en", "zh"))
    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    at_least("--workers", workers, 1)
    at_least("--replicates", replicates, 2)
    try:
        check_lever(lever)
        parsed = parse_steps(by)
    except StepsError as e:
        fail(str(e))
    s = load_scenario_option(scenario, None, replicates, set_)
    out = out or Path("runs") / f"{s.name}-steps"
    try:
        check_output_dir(out, marker="steps.csv")
    except OutputError as e:
        fail(str(e))
    with progress_bar(err, "runs") as progress:
        task = progress.add_task(f"{s.name}: {lever}", total=(len(parsed) + 1) * s.replicates)
        try:
            frame, ran = run_steps(s, lever, parsed, workers, scheduler, lambda: progress.advance(task))
        except (StepsError, ExecutorError) as e:
            fail(str(e))
    record = {
        "scenario": s.model_dump(mode="json"),
        "lever": lever,
        "steps": [p.text for p in parsed],
        "seed": s.seed,
        "replicates": s.replicates,
        "common_random_numbers": "every step runs replicates 0..R-1 with SeedSequence(seed, spawn_key=(r,))",
        "executor": ran,
        "code": code_version(),
        "data_vintage": data_vintage(s.region, s.base_year, s.calibration, s.region_file),
        "command": ["sim", *sys.argv[1:]],
    }
    try:
        with replace_folder(out, marker="steps.csv") as tmp:
            frame.to_csv(tmp / "steps.csv", index=False, float_format="%.6g")
            write_json(tmp / "manifest.json", record)
            for language in ("en", "zh"):
                save(steps_figure(frame, record, language), tmp / f"steps_{language}.png")
    except OutputError as e:
        fail(str(e))
    console.print(steps_table(frame, record, lang))
    console.print(f"Steps in [bold]{out}[/]")
