"""Fronts of `sim optimize` searches measured again on fresh runs: how much of a front's hypervolume is the
search's own estimates (a plan's objectives from its runs on the search's streams) and how much holds on
other random draws and ensemble members.

    python benchmarks/bench_optimize_fresh.py DIR [DIR ...] [--runs 16] [--workers 2]

Each search folder's front plans are run ``--runs`` times on the verification's fresh streams (the same for
every plan: common random numbers), their objectives estimated as the search estimates them, and the
hypervolume of each folder's front printed on its own estimates and on the fresh ones, both against the first
folder's reference point, with the fronts of all the folders together as 100%.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd


def front_values(front: pd.DataFrame, problem) -> list[tuple[int, tuple[dict, ...]]]:
    """Each front plan's number and lever values as the search decodes them: {level, profile}."""
    plans = []
    for row in front.to_dict("records"):
        values = tuple(
            {
                "level": row[d.key] if d.type == "choice" else float(row[d.key]),
                "profile": row[f"{d.key}.profile"] if d.type == "schedule" else None,
            }
            for d in problem.decisions
        )
        plans.append((int(row["plan"]), values))
    return plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+", help="finished search folders of the same problem")
    parser.add_argument("--problem", type=Path, default=Path("experiments/optimize/tianjin-optimize.yaml"))
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from moocore import hypervolume

    from sim.analysis.executors import make_executor
    from sim.analysis.optimize import Job, run_task, verification_seed
    from sim.analysis.plan_estimate import estimate
    from sim.analysis.problem import load_problem

    problem = load_problem(args.problem)
    names = [o.reader.name for o in problem.objectives]
    point = json.loads((args.folders[0] / "manifest.json").read_text())["hypervolume"]["reference"]
    job = Job(problem, verification_seed(problem.spec.seed))
    own, fresh = {}, {}
    with make_executor(args.workers, None) as executor:
        for k, folder in enumerate(args.folders):
            front = pd.read_csv(folder / "front.csv")
            plans = front_values(front, problem)
            own[folder] = front[names].to_numpy(dtype=float) * problem.signs
            tasks = [[(k * 100_000 + plan, r, values)] for plan, values in plans for r in range(args.runs)]
            rows = {}
            for _, done in executor.as_completed(partial(run_task, job), tasks):
                for plan, replicate, _seconds, *outcomes in done:
                    rows[plan, replicate] = outcomes
            fresh[folder] = (
                np.array(
                    [
                        estimate(problem, np.array([rows[k * 100_000 + plan, r] for r in range(args.runs)])).objectives
                        for plan, _ in plans
                    ]
                )
                * problem.signs
            )
    for label, table in (("search's own estimates", own), (f"{args.runs} fresh runs each", fresh)):
        whole = hypervolume(np.vstack(list(table.values())), ref=point)
        for folder, points in table.items():
            print(f"{label}: {folder}: {len(points)} plans, {hypervolume(points, ref=point) / whole:.2%}")


if __name__ == "__main__":
    main()
