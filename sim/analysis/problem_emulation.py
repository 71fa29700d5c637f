"""An emulator of a policy-search problem (``sim.analysis.problem``): what `sim emulate PROBLEM.yaml` trains
and `sim optimize PROBLEM.yaml --emulator DIR` searches with.

- **Factors**: the problem's decision variables: each lever's level over its range (a whole number for an
  integer or year lever, one of its choices for a choice lever) and, for a schedule lever searched along more
  than one profile, its profile as a level factor.
- **Outcomes**: what the problem's objectives and targets read (each objective's indicator in its year, each
  target's indicator in its year), so an objective and P(target met) follow from the predictive distribution.
- **Runs**: a training point is decoded as the search decodes its candidates (``Problem.decode``: the same
  grid of levels) and run by the search's own run function (``sim.analysis.optimize.run_task``: the same
  scenario the search runs for that plan), with the point's own seed (independent draws, as for experiments).

What the emulator says of a plan (``emulated``): an objective is the predicted mean, or for a quantile
statistic the predicted mean plus z_q predictive sd (a normal approximation of the runs' distribution);
P(target met) is the normal probability, from the predicted mean and predictive sd, of a run falling on the
target's side of its threshold (the target's value less the catalogue's tolerance).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from sim.analysis.design import point_seed
from sim.analysis.emulator import Emulator, EmulatorError
from sim.analysis.emulator_training import Source
from sim.analysis.experiment import Factor
from sim.analysis.problem import Problem

EMULATOR_OPTION = "--emulator"


def problem_factors(problem: Problem) -> list[Factor]:
    """The decision variables as factors, named after the levers as front.csv names them."""
    factors = []
    for d in problem.decisions:
        if d.type == "choice":
            factors.append(Factor(key=d.key, name=d.key, levels=list(d.choices)))
        else:
            whole = d.type in ("integer", "year")
            factors.append(Factor(key=d.key, name=d.key, range=[d.low, d.high], type="int" if whole else "float"))
        if d.variables == 2:
            factors.append(Factor(key=f"{d.key}.profile", name=f"{d.key}.profile", levels=list(d.profiles)))
    return factors


def factor_values(problem: Problem, values: tuple[dict, ...]) -> tuple:
    """A plan's lever values ({level, profile} per lever) as the emulator's factor values."""
    out = []
    for d, v in zip(problem.decisions, values, strict=True):
        if d.type == "choice":
            out.append(v["level"])
        elif d.type in ("integer", "year"):
            out.append(int(v["level"]))
        else:  # a level rounded to the search's grid may fall a hair outside a range whose ends are off it
            out.append(min(max(float(v["level"]), d.low), d.high))
        if d.variables == 2:
            out.append(v["profile"])
    return tuple(out)


def decision_values(problem: Problem, factors: tuple) -> tuple[dict, ...]:
    """The emulator's factor values back as a plan's lever values."""
    out, rest = [], list(factors)
    for d in problem.decisions:
        level, rest = rest[0], rest[1:]
        profile = d.profiles[0] if d.type == "schedule" else None
        if d.variables == 2:
            profile, rest = rest[0], rest[1:]
        out.append({"level": level if d.type == "choice" else float(level), "profile": profile})
    return tuple(out)


def design_plans(problem: Problem, u: np.ndarray) -> list[tuple]:
    """Design points in [0, 1]^d as the plans the search would ask there, as factor values."""
    return [factor_values(problem, problem.decode(x)) for x in u]


def emulation_sha256(problem: Problem) -> str:
    """What decides an emulator of the problem: the problem as resolved, less what only steers the search (its
    population, generations and budget, the probability required and the confidence of its intervals): an
    emulator serves any search over the same levers, objectives' outcomes and targets."""
    resolved = problem.resolved()
    resolved["problem"].pop("search")
    resolved["problem"]["constraints"] = {"targets": resolved["problem"]["constraints"]["targets"]}
    return hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class TrainingJob:
    """What every training run shares: the problem and the seed its points' seeds are drawn from."""

    problem: Problem
    seed: int
    function: None = None  # a model run, not a test function: how sweeps size their tasks


def training_task(job: TrainingJob, task: list[tuple[int, int, tuple]]) -> list[tuple]:
    """Worker side: (point, replicate, factor values) -> (point, replicate, seconds, outcome ...), each run
    by the search's own run function on the plan at those values, with the point's own seed."""
    from sim.analysis.optimize import Job, run_task

    rows = []
    for point, replicate, values in task:
        plan = Job(job.problem, point_seed(job.seed, "independent", point))
        rows += run_task(plan, [(point, replicate, decision_values(job.problem, values))])
    return rows


def problem_source(problem: Problem) -> Source:
    """The problem as what an emulator learns from."""
    readers = tuple(o.reader for o in problem.objectives) + problem.target_readers
    resolved = problem.resolved()
    resolved["problem"].pop("search")
    return Source(
        "problem",
        problem.name,
        problem.path,
        problem.spec.seed,
        problem_factors(problem),
        readers,
        problem.base,
        resolved,
        emulation_sha256(problem),
        TrainingJob(problem, problem.spec.seed),
        training_task,
        partial(design_plans, problem),
    )


def check_emulator(problem: Problem, emulator: Emulator, folder: Path) -> None:
    """EmulatorError (one line) unless the emulator was trained on this problem and predicts every outcome
    its objectives and targets read to the standard."""
    at = f"{EMULATOR_OPTION} = {folder}"
    if emulator.trained_on.get("problem_sha256") != emulation_sha256(problem):
        what = "another problem" if "problem_sha256" in emulator.trained_on else "an experiment, not a problem"
        raise EmulatorError(
            f"{at}: trained on {what}, not on {problem.path} as it is; train one with sim emulate {problem.path}"
        )
    usable = set(emulator.usable())
    for reader in [o.reader for o in problem.objectives] + list(problem.target_readers):
        if reader.name not in usable:
            row = emulator.validation.get(reader.name, {})
            raise EmulatorError(
                f"{at}: {reader.name} is not predicted to the standard (held-out R² {row.get('r2', float('nan')):.3f}"
                f", 90% intervals hold {row.get('coverage_90', float('nan')):.0%} of held-out runs); search with "
                "the model, or train the emulator on more runs"
            )


@dataclass(frozen=True)
class Emulated:
    """What the emulator says of a plan: its objectives (as stated, not signed) and P(met) per target."""

    objectives: np.ndarray
    probability: np.ndarray


def emulated(problem: Problem, emulator: Emulator, plans: list[tuple[dict, ...]]) -> list[Emulated]:
    """The emulator's estimates of plans (their lever values)."""
    from scipy.stats import norm

    from sim.catalogues.indicators import catalogue

    names = [o.reader.name for o in problem.objectives] + [r.name for r in problem.target_readers]
    found = emulator.predict([factor_values(problem, v) for v in plans], outcomes=names)
    columns = []
    for o in problem.objectives:
        p = found[o.reader.name]
        columns.append(p.mean if o.statistic == "mean" else p.mean + norm.ppf(o.quantile) * p.predictive_sd)
    chances = []
    for target, reader in zip(problem.targets, problem.target_readers, strict=True):
        p = found[reader.name]
        margin = catalogue().target(target.indicator).margin(target.value)
        at_least = target.direction == "at_least"
        threshold = target.value - margin if at_least else target.value + margin
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (threshold - p.mean) / p.predictive_sd
        exact = (p.mean >= threshold) if at_least else (p.mean <= threshold)  # no spread: met or not
        chance = norm.sf(z) if at_least else norm.cdf(z)
        chances.append(np.where(p.predictive_sd > 0, chance, exact.astype(float)))
    objectives = np.column_stack(columns)
    probability = np.column_stack(chances) if chances else np.zeros((len(plans), 0))
    return [Emulated(objectives[i], probability[i]) for i in range(len(plans))]
