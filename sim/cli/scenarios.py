"""Commands on scenarios and regions: run, validate, schema, regions, region-template."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    SetOption,
    app,
    check_output,
    console,
    err,
    fail,
    load_scenario_option,
)
from sim.cli.national import run_partitioned, validate_partitioned
from sim.common.errors import ScenarioError
from sim.outputs.terminal import (
    headline_table,
    progress_bar,
    regions_table,
    targets_table,
)
from sim.scenario import Scenario
from sim.scenario.partition import is_partitioned


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
    workers: Annotated[
        int | None, typer.Option(help="A scenario of provinces: local worker processes (default: one per core).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="A scenario of provinces: address of a Dask scheduler to run them on.")
    ] = None,
) -> None:
    """Run a scenario and write yearly results, a summary, targets, charts and a manifest into a folder. A
    scenario of provinces (`partition: provinces` or `regions: [...]`) runs each province as its own model on
    local workers or a Dask cluster (README, "China by provinces")."""
    from sim.outputs.charts import draw_default_charts
    from sim.results.files import OutputError, check_output_dir
    from sim.results.runs import run_scenario, write_run

    if is_partitioned(raw := read_scenario_option(scenario)):
        overrides = [*(set_ or []), *([f"seed={seed}"] if seed is not None else [])]
        overrides += [f"replicates={replicates}"] if replicates is not None else []
        run_partitioned(raw, scenario, out, overrides, charts, workers, scheduler)
        return
    s = load_scenario_option(scenario, seed, replicates, set_)
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


def read_scenario_option(path: Path):
    from sim.scenario.files import read_scenario_file

    try:
        return read_scenario_file(path)
    except ScenarioError as e:
        fail(str(e))


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: SetOption = None,
) -> None:
    """Check a scenario without running it."""
    if is_partitioned(raw := read_scenario_option(scenario)):
        validate_partitioned(raw, scenario, set_ or [])
        return
    s = load_scenario_option(scenario, None, None, set_)
    console.print(
        f"{scenario}: valid ({s.region}, {s.base_year}-{s.horizon}, {s.replicates} replicate(s), scale {s.scale:g})"
    )


@app.command()
def schema() -> None:
    """Print the scenario JSON Schema (for editors that complete and check YAML)."""
    print(json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False))


@app.command()
def regions() -> None:
    """List the packaged regions (China, the 31 provinces, the plans' cities) with their names in English and
    Chinese, base year, population aged 60+ and data sources."""
    table, sources = regions_table()
    console.print(table)
    for line in sources:
        console.print(line, highlight=False)


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
    check_output(out, kind="file", overwrite=False)
    out.parent.mkdir(parents=True, exist_ok=True)  # as --out of every other command: its folder is made
    write_text(out, template(key))
    # a scenario names its region file relative to itself: the hint gives the name as a scenario beside it writes it
    console.print(
        f"Template for a city in {key} in {out}: fill in every null, then write `region: {out.name}` in a "
        f"scenario in {out.parent.as_posix()}/ (a scenario names its region file relative to its own folder)"
    )
