"""'+N' answers (``sim steps``): the plan run with one lever raised or lowered by given steps (+10%, +20%, or +5000
beds, +2000 workers trained a year), on common random numbers, and what each step changes.

Every step runs the same replicates with the same seeds as the plan (replicate r draws from
``SeedSequence(seed, spawn_key=(r,))`` in every step), so the difference between a step and the plan in one
replicate is the lever's effect, not a different draw; the table gives the mean of those paired differences and
their 5th and 95th percentiles. A step changes the lever in every year after the base year (a schedule lever:
its value each year, as the plan schedules it, times 1 + p or plus N; the base year is the data's); a number,
share or integer lever is changed once. Measured: every target's value in its year and the share of replicates
meeting it (P(met)), and the plan's cumulative public cost (``plan_cost_cumulative``) at the horizon.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.analysis.executors import make_executor
from sim.catalogues.levers import lever_catalogue
from sim.results.query import value
from sim.results.runs import run_replicate
from sim.results.targets import TARGETS, is_met
from sim.scenario import Scenario
from sim.scenario.levers import lever_path, lever_spec, with_lever

NUMERIC = ("schedule", "number", "integer", "share")  # the lever types a step can raise or lower
STEP = re.compile(r"^([+-]?)(\d+(?:\.\d+)?)(%?)$")
COST = "plan_cost_cumulative"
COLUMNS = ["step", "measure", "year", "value", "change", "change_p05", "change_p95", "p_met", "p_met_change"]


class StepsError(ValueError):
    """A lever or step that cannot be taken; the message is one line for the user."""


@dataclass(frozen=True)
class Step:
    text: str  # as written, e.g. +10%
    amount: float  # signed
    relative: bool  # a percentage of the lever's value, else a number in the lever's unit

    def apply(self, v: float) -> float:
        return v * (1 + self.amount / 100) if self.relative else v + self.amount


def parse_steps(texts: list[str]) -> list[Step]:
    """Steps as written (``+10%``, ``-5%``, ``+5000``; several may be given comma-separated); StepsError
    naming the one that is not a step."""
    steps = []
    for text in (t.strip() for item in texts for t in item.split(",") if t.strip()):
        found = STEP.match(text)
        if found is None:
            raise StepsError(f"--by = {text!r}: a step is +N or +N% (e.g. +10%, -5%, +5000)")
        amount = float(found.group(2)) * (-1 if found.group(1) == "-" else 1)
        if amount == 0:
            raise StepsError(f"--by = {text!r}: a step must change the lever (the plan itself is always run)")
        steps.append(Step(text if found.group(1) else f"+{text}", amount, bool(found.group(3))))
    if not steps:
        raise StepsError("--by: give at least one step, e.g. --by +10% --by +20%")
    return steps


def check_lever(key: str) -> None:
    catalogue = lever_catalogue()
    numeric = [k for k, lever in catalogue.levers.items() if lever.type in NUMERIC]
    if key not in catalogue or catalogue[key].type not in NUMERIC:
        raise StepsError(
            f"--lever = {key!r}: must be a numeric lever of sim/catalogues/levers.yaml ({', '.join(numeric)})"
        )


def stepped(scenario: Scenario, key: str, step: Step) -> Scenario:
    """The scenario with the lever changed by ``step``; StepsError (one line) if that leaves its range."""
    lever = lever_catalogue()[key]
    if lever.type == "schedule":
        path = lever_path(scenario, key)
        spec = {y: (v if y == scenario.base_year else step.apply(v)) for y, v in path.items()}
    else:
        spec = step.apply(float(lever_spec(scenario, key)))
        spec = round(spec) if lever.type == "integer" else spec
    try:
        return with_lever(scenario, key, spec)
    except ValueError as e:
        lines = [line for line in str(e).splitlines() if "Value error," in line or "Input should" in line]
        why = lines[0].split("Value error,")[-1].split("[type=")[0].strip() if lines else "out of its range"
        raise StepsError(f"--by = {step.text!r}: {key} would leave its range ({why})") from None


def measured(scenario: Scenario, replicate: int) -> dict[str, float]:
    """One replicate's targets in their years and the plan's cumulative cost at the horizon (runs on a worker)."""
    table = run_replicate(scenario, replicate)
    out = {}
    for t in scenario.targets:
        indicator, group = TARGETS[t.indicator]
        out[t.indicator] = float(value(table, indicator, group=group, column="value").get(t.year, np.nan))
    out[COST] = float(value(table, COST, column="value").get(scenario.horizon, np.nan))
    return out


def _task(job: tuple[Scenario, int]) -> dict[str, float]:
    return measured(*job)


def run_steps(
    scenario: Scenario,
    key: str,
    steps: list[Step],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """The steps' table (``COLUMNS``; step ``plan`` is the plan itself) and what ran it."""
    check_lever(key)
    scenarios = {"plan": scenario} | {s.text: stepped(scenario, key, s) for s in steps}
    jobs = [(name, s, r) for name, s in scenarios.items() for r in range(scenario.replicates)]
    found: dict[tuple[str, int], dict] = {}
    with make_executor(workers, scheduler) as executor:
        for i, result in executor.as_completed(_task, [(s, r) for _, s, r in jobs]):
            found[jobs[i][0], jobs[i][2]] = result
            if progress:
                progress()
        ran = executor.describe()
    return table(scenario, list(scenarios), found), ran


def table(scenario: Scenario, names: list[str], found: dict[tuple[str, int], dict]) -> pd.DataFrame:
    replicates = range(scenario.replicates)
    rows = []
    for name in names:
        for t in [*scenario.targets, None]:
            measure = t.indicator if t is not None else COST
            mine = np.array([found[name, r][measure] for r in replicates])
            plan = np.array([found["plan", r][measure] for r in replicates])
            paired = mine - plan  # common random numbers: the same replicate, the same draws
            p_met = float(np.mean(is_met(mine, t))) if t is not None else np.nan
            p_plan = float(np.mean(is_met(plan, t))) if t is not None else np.nan
            rows.append(
                (
                    name,
                    measure,
                    t.year if t is not None else scenario.horizon,
                    float(np.mean(mine)),
                    float(np.mean(paired)),
                    float(np.percentile(paired, 5)),
                    float(np.percentile(paired, 95)),
                    p_met,
                    p_met - p_plan,
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS)
