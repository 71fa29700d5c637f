"""Benchmark: the population engine alone, a city at one agent per person, 2020 -> 2035, against the NumPy floor.

    python benchmarks/bench_population.py [--scenario scenarios/tianjin-baseline.yaml] [--repeat 3]

Prints wall seconds, agent-years per second and peak memory of the model run (creating the agents, all
yearly steps and the tidy results table; reading the packaged data and loading the compiled kernel are
start-up and not timed), and the same for the floor: a bare loop that only draws one
uniform number per agent per year for the same agent counts. The ratio model/floor says how close the
model is to the cost of merely touching every agent once a year. Best of ``--repeat`` runs, each in a
fresh process so that peak memory is per run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _model_run(scenario_path: str, queue) -> None:
    from sim.data.regions import load_region
    from sim.model.model import AgeingModel
    from sim.results.record import table as record_table
    from sim.scenario import load_scenario

    scenario = load_scenario(Path(scenario_path), ["replicates=1", "scale=1"])
    # Start-up, not model cost: reading the packaged files and loading the compiled kernel from cache.
    load_region(scenario.region)
    AgeingModel(scenario.model_copy(update={"scale": 10000.0}), care=False).step()
    base_mb = peak_mb()
    start = time.perf_counter()
    model = AgeingModel(scenario, care=False)
    agents = [len(model.elders)]
    while model.running:
        model.step()
        agents.append(len(model.elders))
    table = record_table(model.record)
    wall = time.perf_counter() - start
    queue.put(dict(wall=wall, agents=agents, peak_mb=peak_mb(), base_mb=base_mb, rows=len(table)))


def _floor_run(agents: list[int], queue) -> None:
    base_mb = peak_mb()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for n in agents[:-1]:  # one draw per agent alive at the start of each simulated year
        rng.random(n)
    queue.put(dict(wall=time.perf_counter() - start, peak_mb=peak_mb(), base_mb=base_mb))


def in_process(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "tianjin-baseline.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    args = ap.parse_args()
    model = min((in_process(_model_run, args.scenario) for _ in range(args.repeat)), key=lambda r: r["wall"])
    floor = min((in_process(_floor_run, model["agents"]) for _ in range(args.repeat)), key=lambda r: r["wall"])
    agent_years = sum(model["agents"][:-1])
    out = {
        "scenario": Path(args.scenario).name,
        "years": len(model["agents"]) - 1,
        "agents_start": model["agents"][0],
        "agents_end": model["agents"][-1],
        "agent_years": agent_years,
        "model_wall_s": round(model["wall"], 3),
        "model_agent_years_per_s": round(agent_years / model["wall"]),
        "model_peak_mb": round(model["peak_mb"]),
        "floor_wall_s": round(floor["wall"], 3),
        "floor_agent_years_per_s": round(agent_years / floor["wall"]),
        "floor_peak_mb": round(floor["peak_mb"]),
        "ratio_model_to_floor": round(model["wall"] / floor["wall"], 2),
        "cpu": mp.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    if args.json:
        print(json.dumps(out))
        return
    width = max(map(len, out))
    for k, v in out.items():
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
