"""Running a region made of regions (``sim.scenario.partition``: China as its provinces) as tasks on an executor
(``sim.analysis.executors``: local processes or a Dask cluster), one task per province and replicate.

A worker holds one province at a time; each finished task's table is written to disk at once, as a part file
named by what made it (the province's scenario, its replicate, the code and data), under a temporary name and
renamed into place, so a part is whole or absent whatever stops the process, and a run started again with the
same scenario runs only what is missing. A task is a pure function of its province's scenario and replicate
(its seed derived from the scenario's seed and the province's key), so one worker, several, a Dask cluster, or
a worker lost and its task run again elsewhere give the same results.

When all are in, the results folder is written all at once (``sim.results.files``): ``results.parquet`` and
``results.csv`` with a ``region`` column (every province's rows and the whole's totals, made as the indicator
catalogue declares: ``sim.results.national``), ``summary.parquet`` and ``summary.csv`` (the whole's: what
`sim plot`, `compare` and `report` read), ``regions_summary.parquet`` and ``regions_summary.csv`` (every
region's), ``targets.csv`` (the whole's targets against its totals), ``ranking.csv`` (the provinces ranked on
the plan targets), ``scenario.yaml``, ``manifest.json`` (each province's seed, scale, seconds and its worker's
peak memory) and the charts.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from sim.analysis.executors import Executor
from sim.catalogues.indicators import catalogue
from sim.data.regions import data_file_hashes
from sim.results.files import MANIFEST, replace_folder, write_atomic
from sim.results.national import national_totals
from sim.results.record import summarise
from sim.results.runs import code_version, environment, run_replicate
from sim.results.targets import check_targets
from sim.scenario import Scenario
from sim.scenario.partition import Partition

PARTS = ".{name}.provinces"  # beside the results folder: the finished tasks' tables until all are in


@dataclass(frozen=True)
class ProvinceTask:
    key: str
    scenario: Scenario
    replicate: int


@dataclass
class ProvinceDone:
    """A finished task: its table, how long it took and its worker's peak memory so far."""

    key: str
    replicate: int
    table: pd.DataFrame
    seconds: float
    peak_bytes: int


def run_province(task: ProvinceTask) -> ProvinceDone:
    """On a worker: one replicate of one province; then the memory it used handed back to the system, so that a
    worker that ran a large province does not carry it into the next (measured: without it a worker grew from
    2.7 GiB after Shandong to 5.2 GiB over the provinces that followed)."""
    _reset_peak_memory()
    start = time.perf_counter()
    table = run_replicate(task.scenario, task.replicate)
    seconds = time.perf_counter() - start
    peak = _peak_memory()
    _release_memory()
    return ProvinceDone(task.key, task.replicate, table, seconds, peak)


def _reset_peak_memory() -> None:
    """Linux: start the process's peak resident memory (VmHWM) afresh, so that it is this task's."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # elsewhere the peak is the process's since it started


def _peak_memory() -> int:
    """Bytes: the peak resident memory since the reset (Linux), else since the process started."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def _release_memory() -> None:
    """Free what the run left and give the C heap's free pages back to the system (glibc's malloc_trim)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator keeps what it keeps


def part_name(task: ProvinceTask, code: dict) -> str:
    """What made a task's table, in its file's name: another scenario, code (``code_version()`` when the run
    started: a commit made while it runs changes nothing) or data is another part."""
    made_of = {
        "scenario": task.scenario.model_dump(mode="json"),
        "replicate": task.replicate,
        "code": code,
        "data": data_file_hashes(),
    }
    digest = hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:16]
    return f"{task.key}-r{task.replicate}-{digest}.parquet"


def parts_folder(out: Path) -> Path:
    return Path(out).parent / PARTS.format(name=Path(out).name)


@dataclass
class NationalRun:
    partition: Partition
    results: pd.DataFrame  # every region's rows, the whole's too, with a region column
    summary: pd.DataFrame  # the whole's
    regions_summary: pd.DataFrame  # every region's, with a region column
    targets: pd.DataFrame
    ranking: pd.DataFrame
    costs: list[dict]  # per task: province, replicate, seconds, peak_bytes (tasks stored earlier: none)
    wall_seconds: float
    executor: dict


def run_partition(
    partition: Partition,
    out: Path,
    executor: Executor,
    on_done: Callable[[str, int], None] | None = None,
) -> NationalRun:
    """Every province's replicates on ``executor``, each stored as it finishes (tasks stored by an earlier,
    interrupted run of the same scenario are not run again); then the results, which ``write_national`` writes."""
    start = time.perf_counter()
    replicates = partition.whole.replicates
    tasks = [ProvinceTask(k, s, r) for k, s in partition.provinces.items() for r in range(replicates)]
    tasks.sort(key=lambda t: -_older_people(t.key) / t.scenario.scale)  # the largest first: the last to end
    parts = parts_folder(out)
    parts.mkdir(parents=True, exist_ok=True)
    code = code_version()
    names = {(t.key, t.replicate): part_name(t, code) for t in tasks}
    todo = [t for t in tasks if not (parts / names[t.key, t.replicate]).exists()]
    costs = []
    for _, done in executor.as_completed(run_province, todo):
        part = parts / names[done.key, done.replicate]
        write_atomic(part, lambda path, table=done.table: table.to_parquet(path, index=False))
        costs.append(
            {
                "province": done.key,
                "replicate": done.replicate,
                "seconds": round(done.seconds, 3),
                "peak_bytes": done.peak_bytes,
            }
        )
        if on_done:
            on_done(done.key, done.replicate)
    tables = []
    for task in tasks:
        table = pd.read_parquet(parts / names[task.key, task.replicate])
        table["run"] = partition.whole.name
        table.insert(0, "region", task.key)
        tables.append(table)
    provinces = pd.concat(tables, ignore_index=True)
    del tables
    whole = national_totals(provinces, partition.total_region)
    results = pd.concat([whole, provinces], ignore_index=True)
    summary = summarise(whole.drop(columns="region"))
    targets = check_targets(summary, partition.whole.targets, partition.whole, whole.drop(columns="region"))
    regions_summary = summarise_regions(results)
    return NationalRun(
        partition,
        results,
        summary,
        regions_summary,
        targets,
        rank_provinces(regions_summary, partition),
        costs,
        time.perf_counter() - start,
        executor.describe(),
    )


def _older_people(key: str) -> float:
    from sim.data.regions import load_region

    return load_region(key).population_total()


def summarise_regions(results: pd.DataFrame) -> pd.DataFrame:
    """Every region's summary (mean and 90% interval across replicates), with a region column."""
    out = []
    for region, rows in results.groupby("region", sort=False):
        summary = summarise(rows.drop(columns="region"))
        summary.insert(0, "region", region)
        out.append(summary)
    return pd.concat(out, ignore_index=True)


def rank_provinces(regions_summary: pd.DataFrame, partition: Partition) -> pd.DataFrame:
    """The provinces ranked on each plan target's indicator at the horizon (1: the best, by the direction a
    plan wants it: the whole's targets say which; a target it does not name counts as at_least, but the unmet
    need and the waiting list, which plans want low)."""
    cat = catalogue()
    wanted = {t.indicator: t.direction for t in partition.whole.targets}
    rows = regions_summary[
        (regions_summary.year == partition.whole.horizon)
        & regions_summary.region.isin(partition.provinces)
        & (regions_summary.sex == "all")
    ]
    out = []
    for name, target in cat.targets.items():
        ind = cat[target.indicator]
        key = ind.resolve(group=target.group)
        at = rows[rows.indicator == ind.name]
        for breakdown in ("age_group", "capacity", "residence", "group"):
            at = at[at[breakdown] == key[breakdown]]
        direction = wanted.get(name, "at_most" if name in ("unmet_need_share", "waiting_list") else "at_least")
        ranked = at.sort_values("mean", ascending=direction == "at_most", kind="stable")
        for rank, (region, value) in enumerate(zip(ranked.region, ranked["mean"], strict=True), start=1):
            out.append(
                {
                    "target": name,
                    "indicator": ind.name,
                    "group": key["group"],
                    "year": partition.whole.horizon,
                    "direction": direction,
                    "rank": rank,
                    "region": region,
                    "value": value,
                }
            )
    return pd.DataFrame(out)


def manifest(run: NationalRun, command: list[str] | None, changes: list[str] | None) -> dict:
    whole = run.partition.whole
    return {
        "scenario": whole.model_dump(mode="json"),
        "partition": {
            "regions": list(run.partition.provinces),
            "seeds": {k: s.seed for k, s in run.partition.provinces.items()},
            "scales": {k: s.scale for k, s in run.partition.provinces.items()},
            "province_streams": "seed of a province: sha256('<scenario seed>/<province key>'), first 63 bits; "
            "replicate r: numpy SeedSequence(province seed, spawn_key=(r,)) -> PCG64",
            "totals": "as the indicator catalogue declares (across_regions): sums and weighted means",
        },
        "changes": changes or [],
        "seed": whole.seed,
        "replicates": whole.replicates,
        "code": code_version(),
        "data_files_sha256": data_file_hashes(),
        "executor": run.executor,
        "wall_seconds": round(run.wall_seconds, 3),
        "tasks": run.costs,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command or sys.argv,
        "environment": environment(),
    }


def write_national(
    run: NationalRun,
    out: Path,
    command: list[str] | None = None,
    charts: Callable[[Path], object] | None = None,
    changes: list[str] | None = None,
) -> Path:
    """Write the results folder all at once, then remove the stored tasks."""
    out = Path(out)
    with replace_folder(out) as tmp:
        run.results.to_parquet(tmp / "results.parquet", index=False)
        run.results.to_csv(tmp / "results.csv", index=False)
        run.summary.to_parquet(tmp / "summary.parquet", index=False)
        run.summary.to_csv(tmp / "summary.csv", index=False)
        run.regions_summary.to_parquet(tmp / "regions_summary.parquet", index=False)
        run.regions_summary.to_csv(tmp / "regions_summary.csv", index=False)
        run.targets.to_csv(tmp / "targets.csv", index=False)
        run.ranking.to_csv(tmp / "ranking.csv", index=False)
        given = run.partition.raw  # the partitioned scenario as given: `sim run` on it runs it again
        (tmp / "scenario.yaml").write_text(yaml.safe_dump(given, sort_keys=False, allow_unicode=True), "utf-8")
        (tmp / MANIFEST).write_text(
            json.dumps(manifest(run, command, changes), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if charts is not None:
            charts(tmp)
    shutil.rmtree(parts_folder(out), ignore_errors=True)
    return out
