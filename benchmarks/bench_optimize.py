"""Benchmark: `sim optimize` on a problem file, runs, wall time and hypervolume by evaluations.

    python benchmarks/bench_optimize.py                                   # the shipped Tianjin problem, 2 workers
    python benchmarks/bench_optimize.py --generations 3 --population 8    # smaller
    python benchmarks/bench_optimize.py --runs 25000 --generations 100    # a 10x budget, for a reference front

Runs the search (a copy of the problem with the search settings given, in a temporary folder unless --out),
then prints one line per generation: model runs spent, plans asked, the front's size and its hypervolume
(moocore, against the search's reference point: the worst feasible value of each objective plus a tenth of
its spread), the wall time of the search and of the verification, and the runs per second. With
``--reference DIR [DIR ...]`` (search folders of the same problem with larger budgets), the final hypervolume
is also given as a share of the reference front's (the plans of their fronts together that none of them
beats), both against the first folder's reference point. With
``--chart FILE`` the convergence (hypervolume by runs) is drawn.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "experiments" / "optimize" / "tianjin-optimize.yaml"


def problem_copy(folder: Path, source: Path, settings: dict) -> Path:
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw["scenario"] = str((source.parent / raw["scenario"]).resolve())
    raw["search"] = {**raw.get("search", {}), **{k: v for k, v in settings.items() if v is not None}}
    path = folder / f"{source.stem}-bench.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def front_points(folder: Path, names: list[str], signs: np.ndarray) -> np.ndarray:
    front = pd.read_csv(folder / "front.csv")
    return front[names].to_numpy(dtype=float) * signs if not front.empty else np.empty((0, len(names)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", type=Path, default=PROBLEM)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population", type=int)
    parser.add_argument("--generations", type=int)
    parser.add_argument("--runs", type=int, help="the search's budget of model runs")
    parser.add_argument("--out", type=Path, help="keep the search here (default: a temporary folder)")
    parser.add_argument(
        "--reference",
        type=Path,
        nargs="+",
        help="search folders of the same problem with larger budgets: their fronts together are the reference",
    )
    parser.add_argument("--chart", type=Path, help="draw hypervolume by runs into this PNG")
    args = parser.parse_args()

    from moocore import hypervolume

    from sim.analysis.optimize import run_search
    from sim.analysis.optimum import finish
    from sim.analysis.problem import load_problem

    with tempfile.TemporaryDirectory() as tmp:
        settings = {"population": args.population, "generations": args.generations, "runs": args.runs}
        problem = load_problem(problem_copy(Path(tmp), args.problem, settings))
        out = args.out or Path(tmp) / "search"
        start = time.perf_counter()
        result = run_search(problem, out, workers=args.workers, resume=args.out is not None and out.exists())
        searched = time.perf_counter() - start
        found = finish(result, workers=args.workers)
        verified = time.perf_counter() - start - searched
        conv = found.convergence
        print(
            f"problem {args.problem.name}: {problem.variables} search variables, {len(problem.objectives)} "
            f"objectives, {len(problem.targets)} targets at P >= {problem.spec.constraints.probability:g}, "
            f"{args.workers} workers"
        )
        print(conv.to_string(index=False))
        runs = result.search.requested
        print(
            f"search: {runs} runs ({result.runs_now} now) in {searched:.1f} s "
            f"({result.runs_now / searched:.2f} runs/s); "
            f"verification: {len(found.verified.plan.unique()) if not found.verified.empty else 0} plans x "
            f"{problem.spec.verify.runs} runs in {verified:.1f} s"
        )
        for line in found.lines:
            print(line)
        if args.reference is not None:
            names = [o.name for o in problem.objectives]
            first = args.reference[0] / "manifest.json"
            reference_point = json.loads(first.read_text())["hypervolume"]["reference"]
            ours = front_points(out, names, problem.signs)
            theirs = np.vstack([front_points(folder, names, problem.signs) for folder in args.reference])
            share = hypervolume(ours, ref=reference_point) / hypervolume(theirs, ref=reference_point)
            folders = ", ".join(map(str, args.reference))
            print(f"hypervolume against the reference front ({folders}; the first one's reference point): {share:.2%}")
        if args.chart is not None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 3.5))
            ax.plot(conv.runs, conv.hypervolume, marker="o")
            ax.set_xlabel("model runs")
            ax.set_ylabel("hypervolume of the front")
            ax.set_title(f"sim optimize {problem.name}: convergence")
            fig.tight_layout()
            fig.savefig(args.chart, dpi=150)
            print(f"chart: {args.chart}")


if __name__ == "__main__":
    main()
