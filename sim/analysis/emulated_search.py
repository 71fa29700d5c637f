"""`sim optimize PROBLEM.yaml --emulator DIR`: the plans proposed by a search on an emulator of the problem
(``sim.analysis.problem_emulation``) and verified by the model.

The search is the model search's NSGA-II (``sim.analysis.optimize.nsga2``: the same first generation, seed and
operators), every candidate answered by the emulator instead of runs: it costs no model run, so it runs all
the problem's ``search.generations`` whatever its run budget. Its Pareto front is of the plans the emulator
says meet every target with P >= p. No emulated number is reported as the model's: the plans of that front
chosen as the model search chooses them (the cheapest, then spread along it; ``verify.plans``) are each run
``verify.runs`` times by the model on fresh streams (``sim.analysis.optimize.verify_plans``), and front.csv
gives their model estimates beside the emulator's (``emulated_...`` columns); a plan the model does not
confirm (a target's P(met) over its runs below p) is kept in front.csv marked "fails verification", and the
cheapest plan written (cheapest.yaml) is the cheapest the model confirmed.

Files: ``evaluations.csv`` (every plan asked, with the emulator's estimates only), ``front.csv``,
``verified.csv``, ``convergence.csv`` (the emulated front's size by generation), ``cheapest.yaml`` and
``manifest.json`` (the emulator's folder, SHA-256 and what it was trained on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.emulator import FILE, Emulator, file_sha256, manifest_of
from sim.analysis.optimize import (
    Search,
    SearchResult,
    check_folder,
    new_manifest,
    nsga2,
    open_executor,
    tell,
    verification_seed,
    verify_plans,
)
from sim.analysis.optimum import Found, chosen_plans, cost_objective, estimate_columns, lever_columns, write_plan
from sim.analysis.problem import Problem
from sim.analysis.problem_emulation import Emulated, emulated
from sim.results.files import MANIFEST, write_atomic, write_json

PREFIX = "emulated_"
CONFIRMED, NOT_CONFIRMED = "verified", "fails verification"


@dataclass
class EmulatedSearch:
    result: SearchResult  # the plans asked (``search.values``), the folder and the manifest
    estimates: dict[int, Emulated]  # plan -> the emulator's estimates
    front: list[int]  # the emulated front, cheapest (by the emulator) first


def search_emulated(problem: Problem, emulator: Emulator) -> tuple[Search, dict[int, Emulated]]:
    """NSGA-II over the problem, every candidate answered by the emulator."""
    spec = problem.spec.search
    search = Search(problem, stored={})  # decodes and numbers the plans asked; it holds no runs
    algorithm, space = nsga2(problem, spec.generations)
    p = problem.spec.constraints.probability
    estimates: dict[int, Emulated] = {}
    for _ in range(spec.generations):
        population = algorithm.ask()
        ids = [search.plan_of(x) for x in population.get("X")]
        search.generations.append(ids)
        new = [i for i in dict.fromkeys(ids) if i not in estimates]
        if new:
            estimates.update(zip(new, emulated(problem, emulator, [search.values[i] for i in new]), strict=True))
        objectives = np.array([estimates[i].objectives * problem.signs for i in ids])
        tell(algorithm, space, population, objectives, np.array([p - estimates[i].probability for i in ids]))
        search.runs_by_generation.append(0)
    return search, estimates


def emulated_front(problem: Problem, plans: list[int], estimates: dict[int, Emulated], cost: int) -> list[int]:
    """The plans the emulator says meet every target that no other such plan beats on every objective."""
    import moocore

    p = problem.spec.constraints.probability
    feasible = [i for i in dict.fromkeys(plans) if bool(np.all(estimates[i].probability >= p))]
    if not feasible:
        return []
    keep = moocore.is_nondominated(np.array([estimates[i].objectives * problem.signs for i in feasible]))
    front = [i for i, k in zip(feasible, keep, strict=True) if k]
    return sorted(front, key=lambda i: (estimates[i].objectives[cost], i))


def run_emulated_search(
    problem: Problem,
    emulator: Emulator,
    emulator_folder: Path,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    command: list[str] | None = None,
) -> tuple[EmulatedSearch, Found]:
    """The emulated search, its front verified by the model, written into ``out`` (new or empty; checked
    before anything is written)."""
    from sim.results.runs import code_version

    start = time.perf_counter()
    out = Path(out)
    check_folder(out, problem, resume=False)
    with open_executor(None, workers, scheduler) as executor:
        manifest = new_manifest(problem)
        training = manifest_of(emulator_folder)["training"]
        manifest["emulator"] = {
            "folder": str(Path(emulator_folder).resolve()),
            "sha256": file_sha256(Path(emulator_folder) / FILE),
            "trained_on": emulator.trained_on,
            "training": training,
            "training_runs": training["runs"] + training["holdout"] * training["replicates"],
            "outcomes": {name: emulator.validation[name] for name in emulator.usable()},
            "estimates": "objective: predicted mean (quantile statistic: mean + z_q predictive sd, a normal "
            "approximation); P(met): normal probability from the predicted mean and predictive sd",
        }
        session = {"started_utc": manifest["created_utc"], **executor.describe(), "runs_done": 0}
        session.update(command=command, code=code_version())
        manifest["sessions"].append(session)
        manifest["code"] = session["code"]
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / MANIFEST, manifest)
        search_start = time.perf_counter()
        search, estimates = search_emulated(problem, emulator)
        session["emulated_search_seconds"] = round(time.perf_counter() - search_start, 3)
        result = SearchResult(out, search, 0, 0.0, manifest)
        everything = list(dict.fromkeys(i for ids in search.generations for i in ids))
        front = emulated_front(problem, everything, estimates, cost_objective(result))
        chosen = chosen_plans(front, problem.spec.verify.plans)
        fresh = verify_plans(result, chosen, None, None, progress, executor) if chosen else {}
    session["wall_seconds"] = round(time.perf_counter() - start, 3)
    found = write_emulated(EmulatedSearch(result, estimates, front), everything, chosen, fresh)
    return EmulatedSearch(result, estimates, front), found


def emulated_columns(problem: Problem, e: Emulated) -> dict:
    out = {PREFIX + o.name: float(v) for o, v in zip(problem.objectives, e.objectives, strict=True)}
    for t, target in enumerate(problem.targets):
        out[f"{PREFIX}p_{target.indicator}_{target.year}"] = float(e.probability[t])
    return out


def write_emulated(found: EmulatedSearch, everything: list[int], chosen: list[int], fresh: dict) -> Found:
    result, estimates = found.result, found.estimates
    problem, out = result.search.problem, result.out
    p = problem.spec.constraints.probability
    cost = cost_objective(result)
    on_front = set(found.front)
    evaluations = pd.DataFrame(
        [
            {
                "plan": i,
                **lever_columns(result, i),
                **emulated_columns(problem, estimates[i]),
                PREFIX + "meets_targets": bool(np.all(estimates[i].probability >= p)),
                PREFIX + "front": i in on_front,
                "verified_by_model": i in fresh,
            }
            for i in everything
        ]
    )
    verdicts = {i: CONFIRMED if bool(np.all(fresh[i].probability >= p)) else NOT_CONFIRMED for i in chosen}
    ordered = sorted(chosen, key=lambda i: (verdicts[i] != CONFIRMED, fresh[i].objectives[cost], i))
    front = pd.DataFrame(
        [
            {
                "plan": i,
                **lever_columns(result, i),
                **estimate_columns(result, fresh[i]),  # the model's, on verify.runs fresh runs
                **emulated_columns(problem, estimates[i]),
                "verification": verdicts[i],
            }
            for i in ordered
        ]
    )
    verified = pd.DataFrame(
        [
            {
                "plan": i,
                "target": target.indicator,
                "year": target.year,
                "required": p,
                "p_emulated": float(estimates[i].probability[t]),
                "p_verified": float(fresh[i].probability[t]),
                "verified_low": float(fresh[i].low[t]),
                "verified_high": float(fresh[i].high[t]),
                "verified_runs": fresh[i].runs,
                "difference": float(fresh[i].probability[t] - estimates[i].probability[t]),
                "met": bool(fresh[i].probability[t] >= p),
            }
            for i in chosen
            for t, target in enumerate(problem.targets)
        ]
    )
    seen, convergence = [], []
    for g, ids in enumerate(result.search.generations):
        seen += ids
        front_now = emulated_front(problem, seen, estimates, cost)
        convergence.append({"generation": g, "plans": len(set(seen)), PREFIX + "front_plans": len(front_now)})
    convergence = pd.DataFrame(convergence)
    passed = [i for i in ordered if verdicts[i] == CONFIRMED]
    cheapest = passed[0] if passed else None
    for name, table in (
        ("evaluations", evaluations),
        ("front", front),
        ("verified", verified),
        ("convergence", convergence),
    ):
        write_atomic(out / f"{name}.csv", lambda f, table=table: table.to_csv(f, index=False))
    if cheapest is not None:
        runs = problem.spec.verify.runs
        seed = verification_seed(problem.spec.seed)
        why = " (proposed by an emulator, verified by the model)"
        write_plan(result, cheapest, out / "cheapest.yaml", seed, runs, why)
    lines = describe_emulated(found, chosen, verdicts, fresh, cheapest)
    runs_done = result.manifest["sessions"][-1].get("verification_runs_done", 0)
    least = [float(e.probability.min()) if problem.targets else 1.0 for e in estimates.values()]
    result.manifest.update(
        status="complete" if found.front else "infeasible",
        completed_utc=pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        runs={"search": 0, "emulated_plans": len(everything), "verification": problem.spec.verify.runs * len(chosen)},
        verification_runs_done=runs_done,
        plans_asked=len(everything),
        emulated_front_plans=len(found.front),
        confirmed=[int(i) for i in passed],
        not_confirmed=[int(i) for i in ordered if verdicts[i] != CONFIRMED],
        best_probability=max(least, default=0.0),
        cheapest_plan=cheapest,
        found=lines,
    )
    write_json(out / MANIFEST, result.manifest)
    chart_evaluations = evaluations.rename(columns=lambda c: c[len(PREFIX) :] if c.startswith(PREFIX) else c)
    best = result.manifest["best_probability"]
    return Found(chart_evaluations, front, convergence, verified, cheapest, best, lines)


def describe_emulated(found: EmulatedSearch, chosen: list[int], verdicts: dict, fresh: dict, cheapest) -> list[str]:
    """What the search found, in words: what the emulator proposed, what the model confirmed."""
    from sim.analysis.optimum import amount

    result = found.result
    problem = result.search.problem
    p, runs = problem.spec.constraints.probability, problem.spec.verify.runs
    asked = len(result.search.values)
    if not found.front:
        best = max((float(e.probability.min()) for e in found.estimates.values()), default=0.0)
        return [
            f"The emulator finds no plan within the ranges meeting every target with P >= {p:g}: the best reaches "
            f"P = {best:.2f} (emulated, for its least-met target) among {asked} plans; no model run was made"
        ]
    lines = [
        f"Proposed by an emulator, verified by the model: the emulator's front holds {len(found.front)} plans "
        f"meeting every target with P >= {p:g} ({asked} plans asked, no model run); {len(chosen)} of them were "
        f"run {runs} times each by the model on fresh streams, and the model confirms "
        f"{sum(v == CONFIRMED for v in verdicts.values())}."
    ]
    names = [o.name for o in problem.objectives]
    if cheapest is not None:
        e = fresh[cheapest]
        lines.append(
            f"The cheapest plan the model confirms: plan {cheapest}, "
            + ", ".join(f"{n} {amount(v)}" for n, v in zip(names, e.objectives, strict=True))
            + f" (the model's estimates over {runs} runs)."
        )
    else:
        lines.append("The model confirms none of the plans it verified: no cheapest plan is written.")
    for plan in chosen:
        if verdicts[plan] != CONFIRMED:
            worst = float(fresh[plan].probability.min())
            lines.append(
                f"Plan {plan}: the emulator says it meets every target, but the model does not confirm it "
                f"(P = {worst:.2f} for its least-met target over {runs} runs): not kept as the cheapest."
            )
    return lines
