"""A region made of regions (China by its provinces: `sim run` on a scenario with `partition: provinces` or
`regions: [...]`), run as tasks on local worker processes or a Dask cluster; and `sim map`."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli.common import check_output, console, err, fail
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


def _charts(folder: Path) -> None:
    from sim.outputs.charts import draw_default_charts

    draw_default_charts(folder)
