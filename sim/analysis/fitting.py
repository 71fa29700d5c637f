"""`sim calibrate`: estimating the parameters that have no direct source from what a region observed.

A calibration file (``calibration/<name>.yaml``) names the region, the free parameters with their
ranges, the observed targets (value, year, tolerance, source) and the hold-out checks. The objective is
the mean over fitted targets of ((simulated - observed) / tolerance)^2, where *simulated* is the mean over
a fixed set of replicates (the same random streams for every candidate: common random numbers), so the
objective is a deterministic function of the parameters. scipy's differential evolution minimises it with
a fixed seed and deferred updating, so the same file gives the same parameters whatever the number of
workers (``sim.analysis.executors``). The best parameters are then checked on *other* replicates (other
seeds) against every target and hold-out; ``sim.analysis.fit_report`` writes the fit with how it was
obtained.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator
from scipy.optimize import differential_evolution

from sim.analysis.executors import Executor, InProcess, make_executor
from sim.data.fits import NONE, check_name, with_values
from sim.data.parameters import defaults as parameter_defaults
from sim.data.regions import data_file_hashes
from sim.model.model import AgeingModel
from sim.model.scale import scale_problem
from sim.results.catalogue import CatalogueError, catalogue
from sim.results.query import QueryError
from sim.results.query import value as table_value
from sim.scenario import (
    FieldError,
    Scenario,
    ScenarioError,
    Strict,
    apply_overrides,
    parse_mapping,
    parse_scenario,
    read_yaml_file,
)


class FreeParameter(Strict):
    name: str = Field(description="A care parameter, or one number in it: choice_constant.public_home.")
    low: float = Field(description="Lowest value searched.")
    high: float = Field(description="Highest value searched.")
    reason: str = Field(description="Why this parameter is free and why this range.")


class Observation(Strict):
    """One row of the results table at one year."""

    label: str = Field(description="What was observed, in words.")
    indicator: str = Field(description="Indicator name in the results table.")
    group: str = "all"
    capacity: str = "all"
    residence: str = "all"
    age_group: str = "60+"
    sex: str = "all"
    year: int = Field(description="Year observed.")
    source: str = Field(description="Publication, table, year; or 'assumption:' with the reasoning.")


class FitTarget(Observation):
    value: float = Field(description="Observed value.")
    tolerance: float = Field(gt=0, description="Largest accepted |simulated - observed|; the error's scale.")
    fitted: bool = Field(True, description="In the objective (true), or only reported (false: an input checked).")


class Holdout(Observation):
    """An out-of-sample check: not in the objective; passes when the simulated mean lies within [lower, upper]."""

    lower: float | None = None
    upper: float | None = None
    scale: float | None = Field(None, ge=1, description="Persons per agent for this check (default: the file's).")
    set: dict[str, Any] = Field(default_factory=dict, description="Scenario keys for this check, e.g. a policy.")

    @model_validator(mode="after")
    def _bounded(self) -> Holdout:
        if self.lower is None and self.upper is None:
            raise FieldError("lower", None, "a hold-out needs lower, upper or both")
        return self


def check_observation(o: Observation, at: str, base_year: int) -> None:
    """FieldError (key ``at``.field) unless the indicator and breakdown are in the results table and the
    year can have a value (deaths, entrants and life expectancy start the year after the base year)."""
    try:
        found = catalogue()[o.indicator]
        found.resolve(sex=o.sex, age_group=o.age_group, capacity=o.capacity, residence=o.residence, group=o.group)
    except CatalogueError as e:
        raise FieldError(f"{at}.{e.field}", e.value, e.allowed) from None
    first = found.first_year(base_year)
    if o.year < first:
        raise FieldError(f"{at}.year", o.year, f"{o.indicator} has values from {first}")


class Method(Strict):
    seed: int = Field(1, ge=0, description="Seed of differential evolution.")
    popsize: int = Field(8, ge=4, le=100, description="Candidates per free parameter in each generation.")
    maxiter: int = Field(20, ge=1, le=1000, description="Generations at most.")
    tol: float = Field(0.01, gt=0, description="Relative convergence tolerance (scipy's tol).")
    mutation: list[float] = Field([0.5, 1.0], min_length=2, max_length=2, description="Dithering range.")
    recombination: float = Field(0.7, ge=0, le=1)


class CalibrationSpec(Strict):
    name: str = ""
    description: str = ""
    region: str
    base_year: int = 2020
    scale: float = Field(10.0, ge=1, description="Persons per agent while fitting.")
    seed: int = Field(20201101, ge=0, description="Seed of the model's random streams while fitting.")
    replicates: int = Field(2, ge=1, le=100, description="Replicates averaged in the objective.")
    check_seed: int = Field(20240101, ge=0, description="Seed of the check runs (different from the fit's).")
    check_replicates: int = Field(10, ge=2, le=1000, description="Replicates of the check runs.")
    inherit: str | None = Field(
        None, description="A shipped calibration whose fitted values hold for every parameter not freed here."
    )
    parameters: list[FreeParameter] = Field(min_length=1)
    targets: list[FitTarget] = Field(min_length=1)
    holdouts: list[Holdout] = Field(default_factory=list)
    method: Method = Field(default_factory=Method)

    @model_validator(mode="after")
    def _consistent(self) -> CalibrationSpec:
        defaults = parameter_defaults()
        if self.inherit is not None:
            from sim.data.fits import shipped

            if self.inherit not in shipped():
                allowed = f"not a shipped calibration (allowed: {', '.join(shipped())})"
                raise FieldError("inherit", self.inherit, allowed)
        for i, p in enumerate(self.parameters):
            problem = check_name(p.name, defaults)
            if problem:
                raise FieldError(f"parameters.{i}.name", p.name, problem)
            if not p.low < p.high:
                raise FieldError(f"parameters.{i}.high", p.high, f"must be above low ({p.low:g})")
        if not any(t.fitted for t in self.targets):
            raise FieldError("targets", "(all fitted: false)", "at least one target must be fitted")
        for i, t in enumerate(self.targets):
            if t.fitted and t.year != self.base_year:
                raise FieldError(f"targets.{i}.year", t.year, f"fitted targets are for the base year {self.base_year}")
        observations = [(f"targets.{i}", t) for i, t in enumerate(self.targets)]
        for at, o in observations + [(f"holdouts.{i}", h) for i, h in enumerate(self.holdouts)]:
            check_observation(o, at, self.base_year)
        base = parse_scenario(self.scenario_raw({}, self.seed), "calibration")  # region, base year, scale valid
        problem = scale_problem(base)
        if problem:
            raise FieldError("scale", self.scale, problem.split(": ", 1)[1])
        for i, h in enumerate(self.holdouts):
            try:
                check = parse_scenario(self.scenario_raw({}, self.seed, h), "calibration")
            except ScenarioError as e:
                raise FieldError(f"holdouts.{i}.set", h.set, str(e).removeprefix("calibration: ")) from None
            problem = scale_problem(check)
            if problem:
                raise FieldError(f"holdouts.{i}.scale", check.scale, problem.split(": ", 1)[1])
        return self

    def scenario_raw(self, values: dict[str, float], seed: int, holdout: Holdout | None = None) -> dict:
        horizon = max(self.base_year + 1, holdout.year if holdout else self.base_year)
        raw = {
            "name": self.name or self.region,
            "region": self.region,
            "base_year": self.base_year,
            "horizon": horizon,
            "seed": seed,
            "scale": (holdout.scale or self.scale) if holdout else self.scale,
            "calibration": NONE,  # candidates replace any shipped fit
            "data": {"parameters": with_values({**self.inherited(), **values}, parameter_defaults())},
        }
        if holdout and holdout.set:
            raw = apply_overrides(raw, [f"{k}={json.dumps(v)}" for k, v in holdout.set.items()])
        return raw

    def inherited(self) -> dict[str, float]:
        """Fitted values taken from the inherited calibration, less those freed here."""
        if self.inherit is None:
            return {}
        from sim.data.fits import read_fit, shipped_path

        fitted, _ = read_fit(shipped_path(self.inherit))
        free = {p.name for p in self.parameters}
        return {k: float(v) for k, v in fitted["fitted"].items() if k not in free}


def load_spec(path: Path) -> CalibrationSpec:
    raw = read_yaml_file(path, "the file is empty; a calibration needs a region, parameters and targets")
    if isinstance(raw, dict):
        raw.setdefault("name", Path(path).stem)
    return parse_mapping(CalibrationSpec, raw, str(path))


# --- simulating the observations ---------------------------------------------------------------------
def read_observation(table: pd.DataFrame, o: Observation) -> float:
    """The observation's value in a run's results table."""
    try:
        return table_value(
            table,
            o.indicator,
            o.year,
            sex=o.sex,
            age_group=o.age_group,
            capacity=o.capacity,
            residence=o.residence,
            group=o.group,
        )
    except (CatalogueError, QueryError) as e:
        raise ScenarioError(f"{o.label}: {e}") from None


def simulate(
    spec: CalibrationSpec, values: dict[str, float], replicate: int, seed: int, items: list[Observation]
) -> np.ndarray:
    """The observations as simulated in one replicate with these parameter values (all from one run, so
    they must share any scenario settings: base-year targets, or one hold-out)."""
    holdout = items[0] if isinstance(items[0], Holdout) else None
    scenario = Scenario.model_validate(spec.scenario_raw(values, seed, holdout))
    model = AgeingModel(scenario, replicate)
    last = max(o.year for o in items)
    while model.year < last:
        model.step()
    table = model.record.table()
    return np.array([read_observation(table, o) for o in items])


def objective(theta: np.ndarray, spec: CalibrationSpec) -> float:
    values = dict(zip((p.name for p in spec.parameters), map(float, theta), strict=True))
    targets = [t for t in spec.targets if t.fitted]
    simulated = np.mean([simulate(spec, values, r, spec.seed, targets) for r in range(spec.replicates)], axis=0)
    observed = np.array([t.value for t in targets])
    tolerance = np.array([t.tolerance for t in targets])
    return float(np.mean(((simulated - observed) / tolerance) ** 2))


# --- the search ------------------------------------------------------------------------------------
@dataclass
class Fit:
    spec: CalibrationSpec
    values: dict[str, float]
    objective: float
    generations: int
    history: pd.DataFrame  # every candidate evaluated: generation, the parameters, the objective
    table: pd.DataFrame  # every target and hold-out: observed, simulated (check runs), within or not
    profile: pd.DataFrame  # the objective with one parameter moved off the best value: how sharply it is fixed
    seconds: float
    workers: int


def _mapper(executor: Executor, record: list, progress: Callable[[int], None] | None):
    """The map differential evolution calls once a generation: in order, on the workers, recorded."""

    def mapper(func: Callable, candidates: Iterable) -> list[float]:
        candidates = [np.asarray(c, dtype=float) for c in candidates]
        out = []
        for f in executor.map(func, candidates, chunksize=4):
            out.append(f)
            if progress:
                progress(1)
        generation = record[-1][0] + 1 if record else 0
        record.extend((generation, c, f) for c, f in zip(candidates, out, strict=True))
        return out

    return mapper


def evaluations_per_generation(spec: CalibrationSpec) -> int:
    return spec.method.popsize * len(spec.parameters)


def planned_evaluations(spec: CalibrationSpec, budget: int | None) -> int:
    return evaluations_per_generation(spec) * (1 + _generations(spec, budget))


def _generations(spec: CalibrationSpec, budget: int | None) -> int:
    if budget is None:
        return spec.method.maxiter
    return max(1, budget // evaluations_per_generation(spec) - 1)


def calibrate(
    spec: CalibrationSpec,
    workers: int = 1,
    budget: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Fit:
    """Minimise the objective; ``budget`` caps the model evaluations (whole generations)."""
    start = time.perf_counter()
    _check_runs(spec, {}, 0)  # a target or hold-out naming no result fails now, not after the search
    record: list = []
    with make_executor(workers) as executor:
        m = spec.method
        result = differential_evolution(
            objective,
            [(p.low, p.high) for p in spec.parameters],
            args=(spec,),
            seed=m.seed,
            popsize=m.popsize,
            maxiter=_generations(spec, budget),
            tol=m.tol,
            mutation=tuple(m.mutation),
            recombination=m.recombination,
            init="latinhypercube",
            polish=False,  # a gradient polish would chase the replicates' noise
            updating="deferred",  # the same path whatever the number of workers
            workers=_mapper(executor, record, progress),
        )
        values = dict(zip((p.name for p in spec.parameters), map(float, result.x), strict=True))
        profile = objective_profile(spec, result.x, executor)
        table = check(spec, values, executor)
    names = [p.name for p in spec.parameters]
    history = pd.DataFrame([(g, *c, f) for g, c, f in record], columns=["generation", *names, "objective"])
    return Fit(
        spec, values, float(result.fun), int(result.nit), history, table, profile, time.perf_counter() - start, workers
    )


PROFILE_STEPS = (-0.10, -0.05, 0.05, 0.10)  # as shares of each parameter's range


def objective_profile(spec: CalibrationSpec, best: np.ndarray, executor: Executor) -> pd.DataFrame:
    """The objective with each parameter in turn moved by 5% and 10% of its range (the others at their
    best): a flat profile means the targets do not pin that parameter down."""
    points, rows = [], []
    for i, p in enumerate(spec.parameters):
        for step in PROFILE_STEPS:
            x = best.copy()
            x[i] = x[i] + step * (p.high - p.low)
            if p.low <= x[i] <= p.high:
                points.append(x)
                rows.append((p.name, step, float(x[i])))
    job = partial(objective, spec=spec)
    values = list(executor.map(job, points))
    return pd.DataFrame(
        [(*r, v) for r, v in zip(rows, values, strict=True)], columns=["parameter", "step", "value", "objective"]
    )


def _check_runs(spec: CalibrationSpec, values: dict[str, float], replicate: int) -> np.ndarray:
    """One check replicate: every target, then every hold-out (hold-outs with the same settings share a run)."""
    targets = simulate(spec, values, replicate, spec.check_seed, list(spec.targets))
    runs: dict[str, list[int]] = {}
    for i, h in enumerate(spec.holdouts):
        runs.setdefault(json.dumps([h.set, h.scale], sort_keys=True), []).append(i)
    held = np.empty(len(spec.holdouts))
    for rows in runs.values():
        held[rows] = simulate(spec, values, replicate, spec.check_seed, [spec.holdouts[i] for i in rows])
    return np.concatenate([targets, held])


def check(
    spec: CalibrationSpec,
    values: dict[str, float],
    executor: Executor | None = None,
    compare_defaults: bool = True,
) -> pd.DataFrame:
    """Every target and hold-out on the check replicates (the check seed): mean and 90% interval, and
    optionally the mean with the documented defaults (no calibration) for comparison. ``executor``:
    where the runs are done (default: in this process)."""
    executor = executor or InProcess()
    reps = range(spec.check_replicates)
    rows = []
    runs = {}
    for label, vals in (("fitted", values), ("defaults", {})):
        if label == "defaults" and not compare_defaults:
            continue
        job = partial(_check_runs, spec, vals)
        runs[label] = np.array(list(executor.map(job, reps)))
    items: list[Observation] = [*spec.targets, *spec.holdouts]
    for k, o in enumerate(items):
        sims = runs["fitted"][:, k]
        before = runs["defaults"][:, k].mean() if compare_defaults else np.nan
        mean = float(sims.mean())
        if isinstance(o, FitTarget):
            kind = "target" if o.fitted else "input check"
            lower, upper, observed = o.value - o.tolerance, o.value + o.tolerance, o.value
        else:
            kind, lower, upper, observed = "hold-out", o.lower, o.upper, None
        within = (lower is None or mean >= lower) and (upper is None or mean <= upper)
        rows.append(
            {
                "kind": kind,
                "label": o.label,
                "indicator": o.indicator,
                "group": o.group,
                "year": o.year,
                "observed": observed,
                "lower": lower,
                "upper": upper,
                "simulated": mean,
                "p05": float(np.percentile(sims, 5)),
                "p95": float(np.percentile(sims, 95)),
                "within": bool(within),
                "uncalibrated": float(before),
                "source": o.source,
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Validation:
    region: str
    table: pd.DataFrame
    notes: list[str]


def validate(name: str, replicates: int | None = None, workers: int = 1) -> Validation:
    """Re-check a fit (a shipped name or a fit file) against its targets and hold-outs."""
    from sim.data.fits import read_fit, shipped, shipped_path

    path = shipped_path(name) if name in shipped() else Path(name)
    if not path.is_file():
        raise ValueError(f"unknown calibration (allowed: {', '.join(shipped())}, or the path of a fit file)")
    record, _ = read_fit(path)
    # the values inherited at fit time, not the inherited calibration as it is now
    spec = CalibrationSpec.model_validate({**record["spec"], "inherit": None})
    values = {**((record.get("inherited") or {}).get("values") or {}), **record["fitted"]}
    if replicates is not None:
        spec = spec.model_copy(update={"check_replicates": replicates})
    notes = []
    changed = sorted(k for k, v in data_file_hashes().items() if record["fit"]["data_files_sha256"].get(k) != v)
    if changed:
        notes.append(f"packaged data changed since the fit: {', '.join(changed)}")
    with make_executor(workers) as executor:
        table = check(spec, values, executor, compare_defaults=False)
    return Validation(spec.region, table, notes)
