"""China as its 31 provinces (issue 28): the whole 2020-2035 run on a local Dask cluster, its time against the
number of workers, each province's time and its worker's peak memory, and the time extrapolated to more cores;
then the partitioned run against `region: china` at its coarse scale on the national population indicators.

    nice .venv/bin/python benchmarks/bench_national.py                 # one agent per person, 2 workers
    nice .venv/bin/python benchmarks/bench_national.py --workers 1 --workers 2 --scale faithful --horizon 2025

The extrapolation schedules the measured tasks, the largest first, on 16 and 64 cores (one worker a core, as
the run does): the time is the latest core's end, at least the largest province's own time. It leaves out what
more cores cannot shorten here (the start of the workers, the totals at the end: `overhead` below).
"""

from __future__ import annotations

import argparse
import heapq
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from sim.analysis.executors import DaskCluster
from sim.analysis.national import parts_folder, run_partition, write_national
from sim.data.regions import load_region
from sim.results.record import summarise
from sim.results.runs import run_replicate
from sim.scenario.partition import parse_partition
from sim.scenario.scale import coarsest_faithful_scale
from sim.scenario.schema import parse_scenario

GiB = 2**30
COMPARED = [("population", "60+"), ("population", "65+"), ("population", "80+"), ("deaths", "60+")]


def schedule(seconds: list[float], cores: int) -> float:
    """The end of the last of ``seconds`` scheduled the longest first on ``cores``, each on the first free."""
    ends = [0.0] * cores
    for s in sorted(seconds, reverse=True):
        heapq.heapreplace(ends, ends[0] + s)
    return max(ends)


def run_on_cluster(partition, workers: int, out: Path) -> dict:
    from dask.distributed import LocalCluster

    shutil.rmtree(parts_folder(out), ignore_errors=True)
    start = time.perf_counter()
    # memory_limit=0: Dask neither pauses nor restarts a worker for its memory; each task reports its worker's
    # peak instead, which is what the issue bounds (<= 4 GB a worker)
    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=0, dashboard_address=":0") as cluster:
        with DaskCluster(cluster.scheduler_address) as executor:
            run = run_partition(partition, out, executor)
    wall = time.perf_counter() - start
    return {"workers": workers, "wall": wall, "run": run}


def report(measured: dict, partition) -> None:
    costs = pd.DataFrame(measured["run"].costs)
    agents = {k: load_region(k).population_total() / s.scale for k, s in partition.provinces.items()}
    largest = max(agents, key=agents.get)
    mine = costs[costs.province == largest]
    tasks = costs.seconds.tolist()
    overhead = measured["wall"] - schedule(tasks, measured["workers"])
    print(f"\n{measured['workers']} worker(s): {measured['wall']:.0f} s wall, {sum(tasks):.0f} s of tasks")
    print(
        f"largest province {largest} ({agents[largest] / 1e6:.1f} million agents in 2020): "
        f"{mine.seconds.max():.0f} s, its worker's peak memory {mine.peak_bytes.max() / GiB:.2f} GiB"
    )
    print(f"peak memory of any worker: {costs.peak_bytes.max() / GiB:.2f} GiB (bound: 4 GB = 3.73 GiB)")
    for cores in (1, 2, 16, 64):
        print(f"  {cores:>2} cores: {schedule(tasks, cores) + overhead:.0f} s (tasks {schedule(tasks, cores):.0f} s)")
    print(costs.sort_values("seconds", ascending=False).head(8).to_string(index=False))


def census_check(run, partition) -> None:
    """The base year's people aged 60+: China's total and each province's against its census table."""
    r = run.results
    pick = {"year": partition.whole.base_year, "indicator": "population", "sex": "all", "residence": "all",
            "age_group": "60+", "replicate": 0}  # fmt: skip
    start = _one_each(r, pick).set_index("region")["value"]
    census = {k: load_region(k).population_total() for k in partition.provinces}
    worst = max(census, key=lambda k: abs(start[k] - census[k]))
    print(
        f"\n{partition.whole.base_year} aged 60+: {start[run.partition.total_region] / 1e6:.3f} M "
        f"(census {sum(census.values()) / 1e6:.3f} M); largest difference of a province from its census table: "
        f"{worst} {start[worst] - census[worst]:+.0f} persons"
    )


def compare_with_china(partition, run, replicates: int) -> None:
    """The partitioned run's national population indicators against region: china at its coarsest faithful
    scale (mean and 90% interval over ``replicates``)."""
    raw = {"name": "china-coarse", "region": "china", "horizon": partition.whole.horizon, "seed": partition.whole.seed}
    china = parse_scenario(raw | {"replicates": replicates})
    scale = coarsest_faithful_scale(china).scale
    china = china.model_copy(update={"scale": scale})
    tables = [run_replicate(china, r) for r in range(replicates)]
    coarse = summarise(pd.concat(tables, ignore_index=True))
    whole = run.summary
    print(f"\npartitioned run against region: china at {scale:.0f} persons per agent ({replicates} replicates)")
    for indicator, age in COMPARED:
        for year in sorted({partition.whole.base_year + 1, 2025, 2030, partition.whole.horizon}):
            if year > partition.whole.horizon:
                continue
            pick = {"indicator": indicator, "sex": "all", "residence": "all", "age_group": age, "year": year}
            a = _one(whole, pick)
            b = _one(coarse, pick)
            inside = b["p05"] <= a["mean"] <= b["p95"]
            print(
                f"  {indicator} {age} {year}: provinces {a['mean'] / 1e6:.3f} M; china {b['mean'] / 1e6:.3f} M "
                f"[{b['p05'] / 1e6:.3f}, {b['p95'] / 1e6:.3f}] ({(a['mean'] / b['mean'] - 1) * 100:+.2f}%, "
                f"{'inside' if inside else 'outside'} the interval)"
            )


def _one_each(table: pd.DataFrame, pick: dict) -> pd.DataFrame:
    for k, v in pick.items():
        table = table[table[k] == v]
    return table


def _one(summary: pd.DataFrame, pick: dict) -> pd.Series:
    rows = summary
    for k, v in pick.items():
        rows = rows[rows[k] == v]
    return rows.iloc[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, action="append", help="local Dask workers (repeatable; default 2)")
    parser.add_argument("--scale", default="1", help="persons per agent, or faithful (default 1)")
    parser.add_argument("--horizon", type=int, default=2035)
    parser.add_argument("--out", type=Path, help="write the results folder of the last run here")
    parser.add_argument("--compare-replicates", type=int, default=10, help="replicates of region: china (0: none)")
    args = parser.parse_args()
    scale = args.scale if args.scale == "faithful" else float(args.scale)
    raw = {"name": "china-provinces", "region": "china", "partition": "provinces", "scale": scale,
           "horizon": args.horizon}  # fmt: skip
    partition = parse_partition(raw, "bench_national")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-national-")) / "run"
    last = None
    for workers in args.workers or [2]:
        last = run_on_cluster(partition, workers, out)
        report(last, partition)
    census_check(last["run"], partition)
    if args.out:
        write_national(last["run"], out, command=["benchmarks/bench_national.py"])
        print(f"\nresults in {out}")
    else:
        shutil.rmtree(parts_folder(out), ignore_errors=True)
    if args.compare_replicates:
        compare_with_china(partition, last["run"], args.compare_replicates)


if __name__ == "__main__":
    main()
