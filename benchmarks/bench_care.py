"""Benchmark: the whole model (population and care system) against the population engine alone, and the
whole `sim run` command.

    python benchmarks/bench_care.py [--scenario scenarios/tianjin-14th-fyp.yaml] [--repeat 2]

Runs the scenario at one agent per person, 2020 -> 2035, in a fresh process per run, and prints wall
seconds (creating the agents, every yearly step and the tidy results table; reading the packaged data
and loading the compiled kernels are start-up and not timed), the seconds of each phase of the step
(health, entrants, census, families, workforce, beds, insurance, the care step's need, price, choose,
place and account, record), peak memory, and the ratio to the same scenario run with the population
engine only. Then times `sim run SCENARIO` as a user runs it, the whole
process (start-up, run, results files and the six default charts), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_population import ROOT, in_process, peak_mb


def _run(scenario_path: str, care: bool, queue) -> None:
    from sim.data.regions import load_region
    from sim.model.model import AgeingModel
    from sim.results.record import table as record_table
    from sim.scenario import load_scenario

    scenario = load_scenario(Path(scenario_path), ["replicates=1", "scale=1"])
    load_region(scenario.region)
    AgeingModel(scenario.model_copy(update={"scale": 1000.0}), care=care).step()  # start-up: compiled kernels
    start = time.perf_counter()
    model = AgeingModel(scenario, care=care)
    model.run()
    rows = len(record_table(model.record))
    wall = time.perf_counter() - start
    phases = {k: round(v, 3) for k, v in sorted(model.clock.seconds.items(), key=lambda kv: -kv[1])}
    queue.put(dict(wall=wall, peak_mb=peak_mb(), rows=rows, agents=len(model.elders), phases=phases))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml"))
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    full = min((in_process(_run, args.scenario, True) for _ in range(args.repeat)), key=lambda r: r["wall"])
    alone = min((in_process(_run, args.scenario, False) for _ in range(args.repeat)), key=lambda r: r["wall"])
    out = {
        "scenario": Path(args.scenario).name,
        "agents_end": full["agents"],
        "model_wall_s": round(full["wall"], 2),
        "model_peak_mb": round(full["peak_mb"]),
        "result_rows": full["rows"],
        "population_only_wall_s": round(alone["wall"], 2),
        "population_only_peak_mb": round(alone["peak_mb"]),
        "ratio_to_population_only": round(full["wall"] / alone["wall"], 1),
        "seconds_by_phase": full["phases"],  # the step's phases over the run (model.clock), creation excluded
    }
    out["sim_run_wall_s"] = round(min(_sim_run(args.scenario) for _ in range(args.repeat)), 2)
    print(json.dumps(out, indent=1))


def _sim_run(scenario: str) -> float:
    """Wall seconds of `sim run SCENARIO` in a new process, charts included."""
    sim = Path(sys.executable).with_name("sim")
    with tempfile.TemporaryDirectory(prefix="bench-care-") as tmp:
        start = time.perf_counter()
        subprocess.run([str(sim), "run", scenario, "--out", str(Path(tmp) / "run")], check=True, capture_output=True)
        return time.perf_counter() - start


if __name__ == "__main__":
    main()
