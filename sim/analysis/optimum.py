"""What a finished search (``sim.analysis.optimize``) found: every plan's estimates, the Pareto front of the
plans meeting every target (P(met) >= p on the search's runs), hypervolume by runs, the chosen plans verified
on fresh runs, and the cheapest verified plan as a scenario file that `sim run` reproduces.

Files written in the search folder:

- ``evaluations.csv``: one row per plan asked: its levers, objectives, runs, P(met) per target with its
  Clopper-Pearson interval, and whether it meets every target;
- ``front.csv``: the feasible plans no other feasible plan beats on every objective, cheapest first, with
  their verification;
- ``convergence.csv``: by generation, the runs spent, the front's size and its hypervolume (moocore) against
  one reference point (the worst feasible value of each objective, plus a tenth of its spread);
- ``verified.csv``: per verified plan and target, P(met) of the search and of ``verify.runs`` fresh runs
  (other random draws and ensemble members), each with its interval; a plan fails verification if a fresh
  estimate falls below p;
- ``cheapest.yaml``: the cheapest plan that passed verification, as a scenario: its ``replicates`` and
  ``seed`` are the search's, so `sim run cheapest.yaml` repeats the search's runs of that plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.analysis.executors import Executor
from sim.analysis.optimize import SearchResult, verify_plans
from sim.analysis.plan_estimate import Estimate
from sim.results.files import MANIFEST, write_atomic, write_json

COST_PREFIX = "plan_cost"


@dataclass
class Found:
    evaluations: pd.DataFrame
    front: pd.DataFrame
    convergence: pd.DataFrame
    verified: pd.DataFrame
    cheapest: int | None  # the plan written as cheapest.yaml
    best_probability: float  # the highest min-over-targets P(met) of any plan (for an infeasible problem)
    lines: list[str]  # what the search found, in words (terminal and report)


def lever_columns(result: SearchResult, plan: int) -> dict:
    out = {}
    for decision, value in zip(result.search.problem.decisions, result.search.values[plan], strict=True):
        out[decision.key] = value["level"]
        if decision.type == "schedule":
            out[f"{decision.key}.by"] = decision.by
            out[f"{decision.key}.profile"] = value["profile"]
    return out


def estimate_columns(result: SearchResult, e: Estimate) -> dict:
    problem = result.search.problem
    out = {o.name: float(v) for o, v in zip(problem.objectives, e.objectives, strict=True)}
    out["runs"] = e.runs
    for t, target in enumerate(problem.targets):
        name = f"p_{target.indicator}_{target.year}"
        out[name], out[f"{name}_low"], out[f"{name}_high"] = float(e.probability[t]), float(e.low[t]), float(e.high[t])
    return out


def cost_objective(result: SearchResult) -> int:
    """The objective 'cheapest' refers to: the first on the plan's public cost, else the first."""
    names = [o.reader.indicator for o in result.search.problem.objectives]
    return next((j for j, name in enumerate(names) if name.startswith(COST_PREFIX)), 0)


def front_of(result: SearchResult, plans: list[int]) -> list[int]:
    """The feasible plans among ``plans`` no other feasible one beats on every objective, by cost."""
    import moocore

    search = result.search
    feasible = [i for i in dict.fromkeys(plans) if search.feasible(i)]
    if not feasible:
        return []
    points = signed(result, feasible)
    keep = moocore.is_nondominated(points)
    front = [i for i, k in zip(feasible, keep, strict=True) if k]
    j = cost_objective(result)
    return sorted(front, key=lambda i: (search.estimate(i).objectives[j], i))


def signed(result: SearchResult, plans: list[int]) -> np.ndarray:
    return np.array([result.search.estimate(i).objectives * result.search.problem.signs for i in plans])


def convergence(result: SearchResult) -> tuple[pd.DataFrame, list[float] | None]:
    """Hypervolume of the front by generation, against one reference point for all of them."""
    import moocore

    search = result.search
    everything = [i for ids in search.generations for i in ids]
    final = front_of(result, everything)
    feasible = [i for i in dict.fromkeys(everything) if search.feasible(i)]
    reference = None
    if final:
        points = signed(result, feasible)
        worst, best = points.max(axis=0), points.min(axis=0)
        reference = worst + np.maximum((worst - best) / 10, np.abs(worst) * 1e-6 + 1e-9)
    rows, seen = [], []
    for g, ids in enumerate(search.generations):
        seen += ids
        front = front_of(result, seen)
        volume = (
            float(moocore.hypervolume(signed(result, front), ref=reference)) if front and reference is not None else 0.0
        )
        rows.append(
            {
                "generation": g,
                "plans": len(dict.fromkeys(seen)),
                "runs": search.runs_by_generation[g],
                "front_plans": len(front),
                "hypervolume": volume,
            }
        )
    return pd.DataFrame(rows), None if reference is None else [float(v) for v in reference]


def chosen_plans(front: list[int], how_many: int) -> list[int]:
    """The cheapest plan, then others spread evenly along the front."""
    if len(front) <= how_many:
        return list(front)
    picks = np.unique(np.round(np.linspace(0, len(front) - 1, how_many)).astype(int))
    return [front[k] for k in picks]


def finish(
    result: SearchResult,
    workers: int | None = None,
    scheduler: str | None = None,
    progress=None,
    executor: Executor | None = None,
) -> Found:
    """Tables, verification and the cheapest plan, written into the search folder; the manifest completed.
    The verification runs on ``executor`` if given (see ``run_search``)."""
    search, out = result.search, result.out
    problem = search.problem
    p = problem.spec.constraints.probability
    everything = list(dict.fromkeys(i for ids in search.generations for i in ids))
    evaluations = pd.DataFrame(
        [
            {
                "plan": i,
                **lever_columns(result, i),
                **estimate_columns(result, search.estimate(i)),
                "meets_targets": search.feasible(i),
                "settled": search.settled(i),
            }
            for i in everything
        ]
    )
    best = max(
        (float(search.estimate(i).probability.min()) if problem.targets else 1.0 for i in everything), default=0.0
    )
    front = front_of(result, everything)
    conv, reference = convergence(result)
    verified_rows, verdicts = [], {}
    chosen = chosen_plans(front, problem.spec.verify.plans)
    if chosen:
        fresh = verify_plans(result, chosen, workers, scheduler, progress, executor)
        for plan in chosen:
            e, v = search.estimate(plan), fresh[plan]
            for t, target in enumerate(problem.targets):
                verified_rows.append(
                    {
                        "plan": plan,
                        "target": target.indicator,
                        "year": target.year,
                        "required": p,
                        "p_search": float(e.probability[t]),
                        "search_low": float(e.low[t]),
                        "search_high": float(e.high[t]),
                        "search_runs": e.runs,
                        "p_verified": float(v.probability[t]),
                        "verified_low": float(v.low[t]),
                        "verified_high": float(v.high[t]),
                        "verified_runs": v.runs,
                        "difference": float(v.probability[t] - e.probability[t]),
                        "met": bool(v.probability[t] >= p),
                    }
                )
            verdicts[plan] = "verified" if bool(np.all(v.probability >= p)) else "fails verification"
    front_table = pd.DataFrame(
        [
            {
                "plan": i,
                **lever_columns(result, i),
                **estimate_columns(result, search.estimate(i)),
                "verification": verdicts.get(i, "not verified"),
            }
            for i in front
        ]
    )
    verified = pd.DataFrame(verified_rows)
    passed = [i for i in front if verdicts.get(i) == "verified"]
    cheapest = passed[0] if passed else None
    write_atomic(out / "evaluations.csv", lambda f: evaluations.to_csv(f, index=False))
    write_atomic(out / "front.csv", lambda f: front_table.to_csv(f, index=False))
    write_atomic(out / "convergence.csv", lambda f: conv.to_csv(f, index=False))
    write_atomic(out / "verified.csv", lambda f: verified.to_csv(f, index=False))
    if cheapest is not None:
        write_plan(result, cheapest, out / "cheapest.yaml")
    lines = describe(result, front, verdicts, cheapest, best)
    result.manifest.update(
        status="complete" if front else "infeasible",
        completed_utc=pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        runs={
            "search": search.requested,
            "stored": len(search.stored),
            "verification": problem.spec.verify.runs * len(chosen),
        },
        plans_asked=len(everything),
        hypervolume={"final": float(conv.hypervolume.iloc[-1]) if len(conv) else 0.0, "reference": reference},
        best_probability=best,
        cheapest_plan=cheapest,
        found=lines,
    )
    write_json(out / MANIFEST, result.manifest)
    return Found(evaluations, front_table, conv, verified, cheapest, best, lines)


def write_plan(
    result: SearchResult, plan: int, path: Path, seed: int | None = None, runs: int | None = None, why: str = ""
) -> None:
    """A plan as a scenario file: the search's seed and as many replicates as the search ran of it (or
    ``seed`` and ``runs``: the verification's, for a plan only the verification ran)."""
    search = result.search
    runs = search.need[plan] if runs is None else runs
    scenario = search.problem.plan_scenario(search.values[plan], seed=seed, replicates=runs)
    resolved = scenario.model_dump()
    resolved["name"] = f"{search.problem.name}-plan-{plan}"
    if resolved["observed"] is not None:
        resolved["observed"] = str(Path(resolved["observed"]).resolve())
    which = "the search's" if seed is None else "the verification's"
    header = (
        f"# Plan {plan} of the search {search.problem.name}: the cheapest plan meeting "
        f"every target that passed verification{why}.\n# `sim run` on this file repeats {which} "
        f"{runs} runs of it (same seed and replicates).\n"
    )
    text = header + yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
    write_atomic(path, lambda f: Path(f).write_text(text, encoding="utf-8"))


def amount(value: float) -> str:
    if abs(value) >= 1e8:
        return f"{value / 1e8:,.2f} hundred million"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def describe(result: SearchResult, front: list[int], verdicts: dict, cheapest: int | None, best: float) -> list[str]:
    """The search's findings in words: the trade-off along the front, verification, an unmet problem."""
    search = result.search
    problem = search.problem
    p = problem.spec.constraints.probability
    if not front:
        return [
            f"No plan within the ranges meets every target with P >= {p:g}: the best found reaches "
            f"P = {best:.2f} (for its least-met target) after {search.requested} runs"
        ]
    names = [o.name for o in problem.objectives]
    j = cost_objective(result)
    first = search.estimate(front[0]).objectives
    lines = [
        f"{len(front)} plans meet every target with P >= {p:g} and no other beats them on every objective "
        f"({search.requested} runs, {len(search.values)} plans asked)."
    ]
    lines.append("The cheapest: " + ", ".join(f"{n} {amount(v)}" for n, v in zip(names, first, strict=True)) + ".")
    if len(front) > 1:
        last = search.estimate(front[-1]).objectives
        for k, name in enumerate(names):
            if k == j:
                continue
            lines.append(
                f"Taking {name} from {amount(first[k])} to {amount(last[k])} costs "
                f"{amount(last[j] - first[j])} more in {names[j]}."
            )
    for plan, verdict in verdicts.items():
        if verdict != "verified":
            lines.append(
                f"Plan {plan} met every target in the search but fails verification on "
                f"{problem.spec.verify.runs} fresh runs: not kept as the cheapest."
            )
    if cheapest is None:
        lines.append("No plan of the front passed verification: no cheapest plan is written.")
    return lines
