"""`sim calibrate`: estimating the parameters that have no direct source from what a region observed.

A calibration file (``calibration/<name>.yaml``) names the region, the free parameters with their
ranges, the observed targets (value, year, tolerance, source) and the hold-out checks. Each parameter set
is judged by the mean of each target over a fixed set of replicates (the same random streams for every set:
common random numbers, so the judgement is a deterministic function of the parameters) against the observed
value, with an error of half the tolerance as standard deviation. ``sim.analysis.posterior`` draws the
ensemble of parameter sets consistent with the observations (the posterior); its best-fitting set is the
point estimate. Both are checked on *other* replicates (other seeds) against every target and hold-out;
``sim.outputs.fit_report`` writes the fit with how it was obtained.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from sim.analysis.executors import Executor, InProcess, make_executor
from sim.analysis.posterior import ERROR_SD_PER_TOLERANCE, Posterior, sample
from sim.catalogues.indicators import CatalogueError, catalogue
from sim.common.errors import FieldError, ScenarioError, Strict, parse_mapping
from sim.common.user_files import read_yaml_file
from sim.data.fits import NONE, check_name, with_values
from sim.data.parameters import defaults as parameter_defaults
from sim.model.model import AgeingModel
from sim.results.query import QueryError
from sim.results.query import value as table_value
from sim.results.record import table as record_table
from sim.scenario import Scenario, apply_overrides, parse_scenario
from sim.scenario.scale import scale_problem


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
    seed: int = Field(1, ge=0, description="Seed of the sampler's draws (not of the model).")
    particles: int = Field(128, ge=16, le=10000, description="Parameter sets in the ensemble.")
    moves: int = Field(3, ge=1, le=50, description="Metropolis moves of every particle after each tempering step.")
    ess: float = Field(0.5, gt=0.05, lt=1, description="Effective sample size kept at each step, as a share.")


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
        try:
            base = parse_scenario(self.scenario_raw({}, self.seed), "calibration")  # region, base year, scale valid
        except ScenarioError as e:
            raise FieldError.passed_on(e, "calibration") from None
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

    def region_key(self) -> str:
        """The region's key (a user's region file gives its own)."""
        return parse_scenario(self.scenario_raw({}, self.seed), "calibration").region

    def inherited(self) -> dict[str, float]:
        """Fitted values taken from the inherited calibration, less those freed here."""
        if self.inherit is None:
            return {}
        from sim.data.fits import read_fit, shipped_path

        fitted, _ = read_fit(shipped_path(self.inherit))
        free = {p.name for p in self.parameters}
        return {k: float(v) for k, v in fitted["fitted"].items() if k not in free}

    def inherited_ensemble(self) -> list[dict[str, float]]:
        """The inherited calibration's ensemble (its members' values, less those freed here); empty if none."""
        if self.inherit is None:
            return []
        from sim.data.fits import ensemble_members, read_fit, shipped_path

        fitted, _ = read_fit(shipped_path(self.inherit))
        free = {p.name for p in self.parameters}
        return [{k: v for k, v in m.items() if k not in free} for m in ensemble_members(fitted)]


def load_spec(path: Path, sets: list[str] | None = None) -> CalibrationSpec:
    """A calibration file, with ``key.path=value`` changes (``--set scale=8``) applied; one-line errors."""
    raw = read_yaml_file(path, "the file is empty; a calibration needs a region, parameters and targets")
    if isinstance(raw, dict):
        raw = apply_overrides(raw, sets or [])
        raw.setdefault("name", Path(path).stem)
        region = raw.get("region")
        if isinstance(region, str) and region.endswith((".yaml", ".yml")) and not Path(region).is_absolute():
            raw["region"] = str(Path(path).parent / region)  # a user's region file, named relative to this one
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
    table = record_table(model.record)
    return np.array([read_observation(table, o) for o in items])


def objective(theta: np.ndarray, spec: CalibrationSpec, member: dict[str, float] | None = None) -> float:
    """The mean over fitted targets of ((simulated - observed) / tolerance)^2: how far a parameter set
    (and, for an inheriting calibration, a member of the inherited ensemble) is from the observations."""
    values = {**(member or {}), **dict(zip((p.name for p in spec.parameters), map(float, theta), strict=True))}
    targets = [t for t in spec.targets if t.fitted]
    simulated = np.mean([simulate(spec, values, r, spec.seed, targets) for r in range(spec.replicates)], axis=0)
    observed = np.array([t.value for t in targets])
    tolerance = np.array([t.tolerance for t in targets])
    return float(np.mean(((simulated - observed) / tolerance) ** 2))


def _log_likelihood(objective_value: float, targets: int) -> float:
    """The Gaussian log-likelihood of ``sim.analysis.posterior`` from the objective (the same distances)."""
    return -0.5 * targets * objective_value / ERROR_SD_PER_TOLERANCE**2


def _objective(loglik: float, targets: int) -> float:
    return -2.0 * loglik * ERROR_SD_PER_TOLERANCE**2 / targets


# --- the ensemble ----------------------------------------------------------------------------------
@dataclass
class Fit:
    spec: CalibrationSpec
    values: dict[str, float]  # the point estimate: the best-fitting set evaluated
    member: dict[str, float]  # the inherited ensemble's member it was found with (empty if none)
    objective: float
    ensemble: pd.DataFrame  # the posterior: one row per parameter set, every parameter (inherited included)
    posterior: Posterior
    history: pd.DataFrame  # every parameter set evaluated: stage, the parameters, the objective
    table: pd.DataFrame  # every target and hold-out: observed, simulated (check runs), within or not
    profile: pd.DataFrame  # the objective with one parameter moved off the best value: how sharply it is fixed
    seconds: float
    workers: int


def calibrate(
    spec: CalibrationSpec,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
) -> Fit:
    """Draw the ensemble of parameter sets consistent with the targets; check it and its best set."""
    start = time.perf_counter()
    _check_runs(spec, {}, 0)  # a target or hold-out naming no result fails now, not after the search
    names = [p.name for p in spec.parameters]
    inherited = spec.inherited_ensemble()
    fitted_targets = sum(t.fitted for t in spec.targets)
    with make_executor(workers, scheduler) as executor:

        def loglik(theta: np.ndarray, members: np.ndarray) -> np.ndarray:
            jobs = [(t, inherited[m] if inherited else None) for t, m in zip(theta, members, strict=True)]
            out = executor.map(_objective_job, [(spec, t, m) for t, m in jobs], chunksize=4)
            return np.array([_log_likelihood(f, fitted_targets) for f in out])

        m = spec.method
        posterior = sample(
            loglik,
            np.array([p.low for p in spec.parameters]),
            np.array([p.high for p in spec.parameters]),
            m.particles,
            np.random.default_rng(m.seed),
            moves=m.moves,
            ess=m.ess,
            members=len(inherited),
            progress=progress,
        )
        best, best_member, best_ll = posterior.best()
        values = dict(zip(names, map(float, best), strict=True))
        member = inherited[best_member] if inherited else {}
        ensemble = pd.DataFrame(posterior.theta, columns=names)
        if inherited:
            ensemble = pd.concat([pd.DataFrame([inherited[i] for i in posterior.members]), ensemble], axis=1)
        profile = objective_profile(spec, best, member, executor)
        table = check(spec, {**member, **values}, executor, ensemble=ensemble.to_dict(orient="records"))
    history = pd.DataFrame(
        [
            (stage, *t, mem, _objective(ll, fitted_targets))
            for stage, thetas, mems, lls in posterior.evaluated
            for t, mem, ll in zip(thetas, mems, lls, strict=True)
        ],
        columns=["stage", *names, "inherited_member", "objective"],
    )
    if not inherited:
        history = history.drop(columns="inherited_member")
    return Fit(
        spec,
        values,
        member,
        _objective(best_ll, fitted_targets),
        ensemble,
        posterior,
        history,
        table,
        profile,
        time.perf_counter() - start,
        workers,
    )


def _objective_job(args: tuple) -> float:
    spec, theta, member = args
    return objective(theta, spec, member)


PROFILE_STEPS = (-0.10, -0.05, 0.05, 0.10)  # as shares of each parameter's range


def objective_profile(spec: CalibrationSpec, best: np.ndarray, member: dict, executor: Executor) -> pd.DataFrame:
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
    job = partial(objective, spec=spec, member=member)
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


def _check_member(spec: CalibrationSpec, ensemble: list[dict[str, float]], replicate: int) -> np.ndarray:
    """A check replicate with its own member of the ensemble (members spread evenly over the replicates)."""
    return _check_runs(spec, ensemble[replicate * len(ensemble) // spec.check_replicates], replicate)


def check(
    spec: CalibrationSpec,
    values: dict[str, float],
    executor: Executor | None = None,
    compare_defaults: bool = True,
    ensemble: list[dict[str, float]] | None = None,
) -> pd.DataFrame:
    """Every target and hold-out on the check replicates (the check seed): with the point estimate, mean
    and 90% interval (random draws only); with the ensemble, if given, mean and 90% interval over replicates
    that each use another member (random draws and parameter uncertainty); optionally the mean with the
    documented defaults (no calibration) for comparison. ``executor``: where the runs are done (default: in
    this process). Whether a target is met is judged on the point estimate's mean."""
    executor = executor or InProcess()
    reps = range(spec.check_replicates)
    rows = []
    runs = {"fitted": np.array(list(executor.map(partial(_check_runs, spec, values), reps)))}
    if compare_defaults:
        runs["defaults"] = np.array(list(executor.map(partial(_check_runs, spec, {}), reps)))
    if ensemble:
        runs["ensemble"] = np.array(list(executor.map(partial(_check_member, spec, ensemble), reps)))
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
        row = {
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
        }
        if ensemble:
            members = runs["ensemble"][:, k]
            row |= {
                "ensemble_mean": float(members.mean()),
                "ensemble_p05": float(np.percentile(members, 5)),
                "ensemble_p95": float(np.percentile(members, 95)),
            }
        rows.append(row | {"uncalibrated": float(before), "source": o.source})
    return pd.DataFrame(rows)
