"""Benchmark: sensitivity sweeps of the Tianjin plan, runs per second through the sweep's worker path.

    python benchmarks/bench_sweep.py                        # scales 1, 10, 16 and 1 -> 2 workers (a few minutes)
    python benchmarks/bench_sweep.py --full                 # also the whole experiments/tianjin-levers-sobol.yaml
    python benchmarks/bench_sweep.py --scales 16 --runs 5   # smaller

Prints, for each scale (persons per agent): seconds per run through the worker path (scenario built from
the design point, model run, outcomes read from the record) and what in it is the model alone and the
outcomes (with, for comparison, building the full results table); then one sweep of the Sobol experiment
reduced to ``--base-samples`` base samples (N (10 + 2) runs) at its own scale, on one worker (in-process) and
on ``--workers`` local processes: runs per second, the speed-up, and the overhead per run of the executor
and the run store (sweep wall time less the runs' own time, per run). With ``--full``, the whole
experiment (N = 1024, 12,288 runs) on ``--workers`` processes.
Runs use one BLAS thread, as sweep workers do. The first runs load compiled kernels and are not timed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "tianjin-levers-sobol.yaml"


def _experiment(folder: Path, scale: float | None, base_samples: int | None = None):
    """The shipped experiment at another scale or size (a copy in ``folder``)."""
    from sim.analysis.experiment import load_experiment

    raw = yaml.safe_load(EXPERIMENT.read_text(encoding="utf-8"))
    raw["scenario"] = str((EXPERIMENT.parent / raw["scenario"]).resolve())
    if scale is not None:
        raw["set"]["scale"] = scale
    if base_samples is not None:
        raw["method"]["base_samples"] = base_samples
    path = folder / f"bench-{scale}-{base_samples}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_experiment(path)


def per_run(folder: Path, scale: float, runs: int) -> dict:
    """Seconds per run at ``scale`` through the worker path, and its parts."""
    from threadpoolctl import threadpool_limits

    from sim.analysis.design import make_design
    from sim.analysis.outcomes import read_outcomes
    from sim.analysis.sweep import Job, run_task, scenario_of
    from sim.model.model import AgeingModel
    from sim.results.record import table as record_table

    exp = _experiment(folder, scale)
    design = make_design(exp)
    job = Job.of(exp)
    tasks = [(p, 0, design.values[p]) for p in range(runs)]
    with threadpool_limits(1):
        start = time.perf_counter()
        run_task(job, tasks)
        worker = (time.perf_counter() - start) / runs
        model_s, outcomes_s, table_s = [], [], []
        for point, replicate, values in tasks[: min(runs, 3)]:
            model = AgeingModel(scenario_of(job, point, values), replicate)
            t = time.perf_counter()
            model.run()
            model_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            read_outcomes(model.record, job.readers)
            outcomes_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            record_table(model.record)
            table_s.append(time.perf_counter() - t)
    return {
        "scale": scale,
        "runs": runs,
        "seconds_per_run": round(worker, 4),
        "runs_per_second": round(1 / worker, 2),
        "model_run_s": round(statistics.median(model_s), 4),
        "outcomes_s": round(statistics.median(outcomes_s), 5),
        "full_table_s": round(statistics.median(table_s), 4),
    }


def sweep(folder: Path, exp, workers: int, name: str) -> dict:
    from sim.analysis.sweep import run_sweep

    start = time.perf_counter()
    result = run_sweep(exp, folder / name, workers=workers)
    wall = time.perf_counter() - start
    manifest = json.loads((folder / name / "manifest.json").read_text())
    session = manifest["sessions"][-1]["wall_seconds"]
    runs = len(result.outcomes)
    run_seconds = manifest["timings"]["run_seconds_total"]
    return {
        "workers": workers,
        "runs": runs,
        "wall_s": round(wall, 1),
        "runs_phase_s": session,
        "runs_per_second": round(runs / session, 2),
        "overhead_per_run_s": round((session - run_seconds / workers) / runs, 4),
        "analysis_s": manifest["timings"]["analysis_seconds"],
        "outcomes": result.outcomes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="*", default=[1, 10, 16], help="none: skip this part")
    ap.add_argument("--runs", type=int, nargs="+", default=[2, 10, 16], help="runs per scale (one number: for all)")
    ap.add_argument(
        "--base-samples", type=int, default=8, help="N of the reduced sweep for the speed-up (N x 12 runs; 0: skip)"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--full", action="store_true", help=f"also the whole {EXPERIMENT.name} (12,288 runs)")
    args = ap.parse_args()
    if len(args.runs) == 1 or not args.scales:
        runs = args.runs[:1] * len(args.scales)
    elif len(args.runs) == len(args.scales):
        runs = args.runs
    else:
        ap.error("--runs: one number, or one per scale")
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        per_run(folder, 16, 1)  # start-up, not timed: packaged data and compiled kernels loaded
        out["per_scale"] = [per_run(folder, s, n) for s, n in zip(args.scales, runs, strict=True)]
        for row in out["per_scale"]:
            print(
                f"scale {row['scale']:>5g}: {row['seconds_per_run']:.3f} s/run ({row['runs_per_second']:.2f} runs/s; "
                f"model {row['model_run_s']:.3f} s, outcomes {row['outcomes_s'] * 1000:.2f} ms, "
                f"full table would be {row['full_table_s'] * 1000:.0f} ms)",
                flush=True,
            )
        if args.base_samples:
            exp = _experiment(folder, None, args.base_samples)
            one = sweep(folder, exp, 1, "one")
            many = sweep(folder, exp, args.workers, "many")
            assert one.pop("outcomes").equals(many.pop("outcomes")), "results differ between 1 and more workers"
            out["speedup"] = {
                "one": one,
                "many": many,
                "speedup": round(many["runs_per_second"] / one["runs_per_second"], 2),
            }
            print(
                f"sweep of {one['runs']} runs at scale {exp.base.scale:g}: "
                f"1 worker {one['runs_per_second']:.2f} runs/s, "
                f"{args.workers} workers {many['runs_per_second']:.2f} runs/s: speed-up "
                f"{out['speedup']['speedup']:.2f} (identical results); overhead per run of executor and store "
                f"{one['overhead_per_run_s'] * 1000:.1f} ms (1 worker), {many['overhead_per_run_s'] * 1000:.1f} ms "
                f"({args.workers} workers, start-up included)",
                flush=True,
            )
        if args.full:
            from sim.analysis.experiment import load_experiment

            full = sweep(folder, load_experiment(EXPERIMENT), args.workers, "full")
            full.pop("outcomes")
            full["minutes"] = round(full["wall_s"] / 60, 1)
            out["full"] = full
            print(
                f"{EXPERIMENT.name}: {full['runs']} runs in {full['minutes']} min on {args.workers} workers "
                f"({full['runs_per_second']:.2f} runs/s)",
                flush=True,
            )
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
