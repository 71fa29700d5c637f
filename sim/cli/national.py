"""A region made of regions (China by its provinces: `sim run` on a scenario with `partition: provinces` or
`regions: [...]`), run as tasks on local worker processes or a Dask cluster; and `sim map` of its provinces."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import Lang, app, check_choice, check_output, console, err, fail
from sim.common.errors import ScenarioError, show
from sim.outputs.terminal import progress_bar


def run_partitioned(
    raw: dict,
    path: Path,
    out: Path | None,
    overrides: list[str],
    charts: bool,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Check everything first (one line, exit 2, nothing written), then run every province and write the
    results folder."""
    from concurrent.futures.process import BrokenProcessPool

    from sim.analysis.executors import ExecutorError, make_executor
    from sim.analysis.national import run_partition, write_national
    from sim.results.files import OutputError
    from sim.scenario.partition import parse_partition

    if workers is not None and scheduler is not None:
        fail(f"--workers = {workers} with --scheduler = {show(scheduler)}: give one of them")
    if workers is not None and workers < 1:
        fail(f"--workers = {workers}: must be at least 1")
    try:
        partition = parse_partition(raw, str(path), overrides, Path(path).stem)
    except ScenarioError as e:
        fail(str(e))
    out = out or Path("runs") / partition.whole.name
    check_output(out, marker="manifest.json")
    try:
        executor = make_executor(workers, scheduler)
    except ExecutorError as e:
        fail(str(e))
    tasks = len(partition.provinces) * partition.whole.replicates
    with executor, progress_bar(err, "provinces") as progress:
        task = progress.add_task(partition.whole.name, total=tasks)
        try:
            result = run_partition(partition, out, executor, on_done=lambda *_: progress.advance(task))
        except ExecutorError as e:
            fail(f"{e} (finished provinces are kept: run the same command again to go on)")
        except BrokenProcessPool:
            fail(
                "a local worker process died (killed, or out of memory: use fewer --workers or a coarser scale); "
                "finished provinces are kept: run the same command again to go on",
                code=1,
            )
    try:
        write_national(result, out, command=["sim", *sys.argv[1:]], charts=_charts if charts else None,
                       changes=overrides)  # fmt: skip
    except OutputError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{out}: results not written ({e}); nothing was changed there", code=1)
    slowest = max(result.costs, key=lambda c: c["seconds"], default=None)
    console.print(
        f"Results of {len(partition.provinces)} provinces and their totals in [bold]{out}[/] "
        f"({result.wall_seconds:.1f} s on {result.executor['workers']} worker(s)"
        + (f"; slowest {slowest['province']}: {slowest['seconds']:.1f} s" if slowest else "")
        + ")"
    )


def validate_partitioned(raw: dict, path: Path, overrides: list[str]) -> None:
    from sim.scenario.partition import parse_partition

    try:
        partition = parse_partition(raw, str(path), overrides, Path(path).stem)
    except ScenarioError as e:
        fail(str(e))
    whole = partition.whole
    scales = sorted({s.scale for s in partition.provinces.values()})
    console.print(
        f"{path}: valid ({len(partition.provinces)} provinces, {whole.base_year}-{whole.horizon}, "
        f"{whole.replicates} replicate(s), scale {scales[0]:g}" + (f" to {scales[-1]:g})" if len(scales) > 1 else ")")
    )


def _charts(folder: Path) -> None:
    from sim.outputs.charts import draw_default_charts

    draw_default_charts(folder)
    _maps(folder)


def _maps(folder: Path) -> None:
    """The default maps of a run by provinces, at its horizon, into folder/charts/en."""
    import pandas as pd

    from sim.outputs.charts import save
    from sim.outputs.province_map import DEFAULT_MAPS, indicator_map

    regions = pd.read_parquet(folder / "regions_summary.parquet")
    horizon = int(regions.year.max())
    for indicator in DEFAULT_MAPS:
        save(indicator_map(regions, indicator, horizon), folder / "charts" / "en" / f"map-{indicator}.png")


@app.command("map")
def map_(
    folder: Annotated[Path, typer.Argument(help="Results folder of a run by provinces.")],
    indicator: Annotated[str, typer.Option(help="Indicator to colour the provinces by (see docs/model.md).")],
    year: Annotated[int | None, typer.Option(help="Year (default: the last).")] = None,
    group: Annotated[str | None, typer.Option(help="Its group (default: its total).")] = None,
    age_group: Annotated[str | None, typer.Option(help="Its age group (default: its total).")] = None,
    capacity: Annotated[str | None, typer.Option(help="Its capacity level (default: its total).")] = None,
    residence: Annotated[str | None, typer.Option(help="urban, rural or all (default).")] = None,
    lang: Lang = "en",
    out: Annotated[
        Path | None, typer.Option(help="PNG, SVG or PDF to write (default: FOLDER/charts/LANG/map-INDICATOR-YEAR.png).")
    ] = None,
) -> None:
    """Draw a map of China's provinces coloured by an indicator in a year, the provinces ranked beside it."""
    import pandas as pd

    from sim.catalogues.indicators import CatalogueError, catalogue
    from sim.outputs.charts import FORMATS, save
    from sim.outputs.province_map import indicator_map

    check_choice("--lang", lang, ("en", "zh"))
    file = folder / "regions_summary.parquet"
    if not file.exists():
        fail(f"{folder}: not the results folder of a run by provinces (no regions_summary.parquet)")
    try:
        catalogue()[indicator].resolve(group=group, age_group=age_group, capacity=capacity, residence=residence)
    except CatalogueError as e:
        fail(f"--{e.field.replace('_', '-')} = {show(e.value)}: {e.allowed}")
    regions = pd.read_parquet(file)
    years = sorted(regions.year.unique())
    year = years[-1] if year is None else year
    if year not in years:
        fail(f"--year = {year}: must be from {years[0]} to {years[-1]}")
    out = out or folder / "charts" / lang / f"map-{indicator}-{year}.png"
    if out.suffix.lstrip(".") not in FORMATS:
        fail(f"--out = {show(str(out))}: must end in {', '.join('.' + f for f in FORMATS)}")
    check_output(out, kind="file")
    breakdown = {"group": group, "age_group": age_group, "capacity": capacity, "residence": residence}
    figure = indicator_map(regions, indicator, year, lang, **{k: v for k, v in breakdown.items() if v is not None})
    save(figure, out)
    console.print(f"Map in [bold]{out}[/]")
