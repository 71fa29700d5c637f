"""Problem files for `sim optimize`: the plan it starts from, the levers it may change (from the lever
catalogue), what it minimises and which targets must be met with what probability; the typed schema,
loading and one-line errors naming the key, the value and what is allowed, as for scenarios.

    name: tianjin-cheapest                        # default: the file name
    scenario: ../scenarios/tianjin-14th-fyp.yaml  # relative to this file
    set: {scale: 16, horizon: 2025}               # changes to the scenario before the levers are applied
    seed: 20261205                                # every candidate's runs use it (common random numbers)
    levers:
      - {key: policy.beds.total, range: [80000, 120000], by: 2025, profiles: [linear, front_loaded, step]}
      - {key: policy.insurance.premium_per_person, range: [120, 480]}
    objectives:                                   # each minimised (sense: max to maximise)
      - {indicator: plan_cost_cumulative, group: all, year: 2025}
      - {indicator: persons_with_unmet_need, year: 2025, statistic: quantile, quantile: 0.9}
    constraints: {probability: 0.8}               # every target of the scenario (or those listed in targets:)
    search: {population: 12, generations: 8, runs: 1000, replicates: {first: 4, most: 16, step: 4}}
    verify: {runs: 500, plans: 5}

A schedule lever (type schedule in the catalogue) is searched as a profile ``{to, by, profile, start}``:
the level ``to`` within ``range``, reached by the year ``by`` along one of ``profiles`` (searched too when
more than one is listed). Any other numeric lever (number, share, integer, year) is searched as a value within
``range``; a choice lever among ``choices``. Every range must lie within the catalogue's.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from sim.analysis.experiment import ExperimentError, starting_scenario
from sim.analysis.outcomes import OutcomeError, Reader, compile_outcome
from sim.catalogues.indicators import catalogue
from sim.catalogues.levers import POPULATION_60PLUS, lever_catalogue
from sim.common.errors import ScenarioError, Strict, parse_mapping, show
from sim.common.user_files import read_yaml_file
from sim.scenario import Scenario, parse_scenario, set_value
from sim.scenario.policy import PROFILES

STATISTICS = ("mean", "quantile")
SENSES = ("min", "max")
SEARCHED_TYPES = ("schedule", "number", "share", "integer", "year", "choice")


class ProblemError(Exception):
    """A problem file that cannot be used; the message is the one line shown to the user."""


class LeverSpec(Strict):
    key: str = Field(description="A lever of sim/catalogues/levers.yaml, e.g. policy.beds.total.")
    range: list[float] | None = Field(None, description="[low, high] searched; within the catalogue's range.")
    by: int | None = Field(None, description="A schedule lever: the year its level is reached.")
    start: int | None = Field(None, description="A schedule lever: the year its change starts (default base year).")
    profiles: list[str] = Field(["linear"], description="A schedule lever: the profiles searched.")
    choices: list[str] | None = Field(None, description="A choice lever: the choices searched.")


class ObjectiveSpec(Strict):
    indicator: str = Field(description="An indicator of sim/catalogues/indicators.yaml.")
    name: str = Field("", description="Its column in front.csv; default indicator_year.")
    group: str | None = Field(None, description="The indicator's group (default: its total).")
    year: int = Field(description="The year it is read in.")
    statistic: str = Field("mean", description="mean or quantile of the ensemble's runs.")
    quantile: float = Field(0.5, gt=0, lt=1, description="The quantile, for statistic: quantile.")
    sense: str = Field("min", description="min (minimise) or max (maximise).")


class ConstraintSpec(Strict):
    probability: float = Field(0.8, gt=0, lt=1, description="Each target met with at least this probability.")
    targets: list[str] | None = Field(None, description="Target indicators of the scenario; default: all.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Of the Clopper-Pearson intervals of P(met).")


class ReplicateSpec(Strict):
    first: int = Field(4, ge=1, description="Runs of every candidate.")
    most: int = Field(16, ge=1, description="Runs at most, for an undecided candidate that could be on the front.")
    step: int = Field(4, ge=1, description="Runs added at a time to such a candidate.")


class SearchSpec(Strict):
    population: int = Field(12, ge=4, le=1000, description="Candidates per generation (NSGA-II).")
    generations: int = Field(10, ge=1, le=10000, description="Generations at most.")
    runs: int = Field(2000, ge=1, description="Model runs at most; no generation starts that could exceed it.")
    replicates: ReplicateSpec = Field(default_factory=ReplicateSpec)


class VerifySpec(Strict):
    runs: int = Field(500, ge=1, le=100000, description="Fresh runs of each verified plan.")
    plans: int = Field(5, ge=1, le=100, description="Plans of the front verified (the cheapest, then spread).")


class ProblemFile(Strict):
    name: str = Field("", description="Default: the file name.")
    description: str = Field("")
    scenario: str = Field(description="The scenario the search starts from, relative to this file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Changes to the scenario (key path: value).")
    seed: int = Field(20261205, ge=0, lt=2**63, description="Seeds the search and every run.")
    levers: list[LeverSpec] = Field(min_length=1)
    objectives: list[ObjectiveSpec] = Field(min_length=1, max_length=3)
    constraints: ConstraintSpec = Field(default_factory=ConstraintSpec)
    search: SearchSpec = Field(default_factory=SearchSpec)
    verify: VerifySpec = Field(default_factory=VerifySpec)


@dataclass(frozen=True)
class Decision:
    """One searched lever: its catalogue key, type, range and (schedule) year, profiles; or choices."""

    key: str
    type: str
    low: float
    high: float
    by: int | None
    start: int | None
    profiles: tuple[str, ...]
    choices: tuple[str, ...]

    @property
    def variables(self) -> int:
        """Search variables it takes: its level (or choice), and its profile when several are searched."""
        return 1 + (len(self.profiles) > 1)

    def decode(self, u: list[float]) -> dict[str, Any]:
        """Its value from search variables in [0, 1]: {level, profile} (profile None unless a schedule)."""
        if self.type == "choice":
            return {"level": self.choices[_index(u[0], len(self.choices))], "profile": None}
        level = self.low + min(max(u[0], 0.0), 1.0) * (self.high - self.low)
        if self.type in ("integer", "year"):
            level = float(round(level))
        else:  # a grid of about 10,000 steps: readable plans, and near-equal candidates the same plan
            exponent = math.floor(math.log10((self.high - self.low) / 1e4)) if self.high > self.low else 0
            level = float(round(level, -exponent))  # 4758.9, not 47589 * 0.1 = 4758.900000000001
        profile = None
        if self.type == "schedule":
            profile = self.profiles[_index(u[1], len(self.profiles))] if len(self.profiles) > 1 else self.profiles[0]
        return {"level": level, "profile": profile}

    def scenario_value(self, value: dict[str, Any]) -> Any:
        """What the scenario's lever is set to: a profile for a schedule, else the value."""
        if self.type != "schedule":
            return int(value["level"]) if self.type in ("integer", "year") else value["level"]
        out = {"to": value["level"], "by": self.by, "profile": value["profile"]}
        return out if self.start is None else {**out, "start": self.start}


def _index(u: float, n: int) -> int:
    return min(int(math.floor(min(max(u, 0.0), 1.0) * n)), n - 1)


@dataclass(frozen=True)
class Objective:
    name: str
    reader: Reader
    statistic: str
    quantile: float
    sense: str


@dataclass(frozen=True)
class Problem:
    path: Path
    spec: ProblemFile
    base: Scenario  # the scenario with `set` applied, seed the problem's, one replicate
    decisions: tuple[Decision, ...]
    objectives: tuple[Objective, ...]
    targets: tuple[Any, ...]  # the scenario's targets constrained
    target_readers: tuple[Reader, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def variables(self) -> int:
        return sum(d.variables for d in self.decisions)

    @property
    def signs(self) -> np.ndarray:
        """+1 for an objective minimised, -1 for one maximised: objectives times signs are all minimised."""
        return np.array([1.0 if o.sense == "min" else -1.0 for o in self.objectives])

    def resolved(self) -> dict:
        """Everything that decides the results, as plain data: the problem with its defaults, the base scenario
        as resolved and its calibration."""
        from sim.results.runs import calibration_record

        return {
            "problem": self.spec.model_dump(mode="json", exclude={"name", "description", "scenario", "verify"}),
            "scenario": self.base.model_dump(mode="json"),
            "calibration": calibration_record(self.base),
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()

    def decode(self, x) -> tuple[dict, ...]:
        """A point of the search's variables (each in [0, 1]) as each lever's {level, profile}."""
        values, u = [], list(map(float, x))
        for decision in self.decisions:
            values.append(decision.decode(u[: decision.variables] + [0.0]))
            u = u[decision.variables :]
        return tuple(values)

    def plan_code(self, values: tuple[dict, ...]) -> tuple[float, ...]:
        """A plan as numbers, stored with its runs (so that a resumed search checks it asks the same plans):
        each lever's level (a choice's position) and its profile's position (-1 for none)."""
        out = []
        for decision, value in zip(self.decisions, values, strict=True):
            level = decision.choices.index(value["level"]) if decision.type == "choice" else value["level"]
            out += [float(level), float(decision.profiles.index(value["profile"])) if value["profile"] else -1.0]
        return tuple(out)

    def code_columns(self) -> list[str]:
        return [f"lever_{k}_{part}" for k in range(len(self.decisions)) for part in ("level", "profile")]

    def start_point(self) -> list[float]:
        """The starting plan in the search's variables (each in [0, 1]): a schedule lever's value in its year
        ``by`` along the scenario's own path, and the linear profile where it is searched."""
        from sim.scenario.levers import lever_path, lever_spec

        point = []
        for d in self.decisions:
            if d.type == "choice":
                current = lever_spec(self.base, d.key)
                u = [(d.choices.index(current) + 0.5) / len(d.choices) if current in d.choices else 0.0]
            else:
                value = lever_path(self.base, d.key)[d.by] if d.type == "schedule" else lever_spec(self.base, d.key)
                value = d.low if value is None else float(value)
                u = [min(max((value - d.low) / (d.high - d.low), 0.0), 1.0) if d.high > d.low else 0.0]
                if d.variables == 2:
                    shape = "linear" if "linear" in d.profiles else d.profiles[0]
                    u.append((d.profiles.index(shape) + 0.5) / len(d.profiles))
            point += u
        return point

    def plan_scenario(self, values: tuple[dict, ...], seed: int | None = None, replicates: int = 1) -> Scenario:
        """The base scenario with a plan's lever values."""
        raw = self.base.model_dump()
        for decision, value in zip(self.decisions, values, strict=True):
            set_value(raw, decision.key, decision.scenario_value(value), str(self.path))
        raw["seed"] = self.base.seed if seed is None else seed
        raw["replicates"] = replicates
        return parse_scenario(raw, f"{self.path}: plan")


def load_problem(path: Path) -> Problem:
    """Read, validate and resolve a problem file; ProblemError with one line naming the first problem."""
    path = Path(path)
    try:
        raw = read_yaml_file(path, "the file is empty; a problem needs a scenario, levers and objectives")
        spec = parse_mapping(ProblemFile, raw, str(path))
    except ScenarioError as e:
        raise ProblemError(str(e)) from None
    spec.name = spec.name or path.stem
    try:
        base = starting_scenario(spec, path)
    except ExperimentError as e:
        raise ProblemError(str(e)) from None
    return resolve_problem(spec, base, path)


def resolve_problem(spec: ProblemFile, base: Scenario, path: Path) -> Problem:
    """A validated problem on its starting scenario (``set`` and ``seed`` applied), resolved: its levers,
    objectives and targets checked against the catalogues and the scenario, and both ends of every range
    tried; ProblemError with one line naming ``path`` and the first problem. A problem file and the app's
    "Find a plan" (``sim.analysis.plan_search``) both come here."""
    decisions = tuple(_decision(lever, i, base, path) for i, lever in enumerate(spec.levers))
    keys = [d.key for d in decisions]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ProblemError(f"{path}: levers.{i}.key = {show(key)}: searched twice; give each lever once")
    objectives = tuple(_objective(o, i, base, path) for i, o in enumerate(spec.objectives))
    names = [o.name for o in objectives]
    if len(set(names)) < len(names):
        raise ProblemError(f"{path}: objectives: two are named {show(names)}; give them distinct names")
    targets = _targets(spec, base, path)
    readers = tuple(_target_reader(t, base) for t in targets)
    _check_search(spec, path)
    problem = Problem(path, spec, base, decisions, objectives, targets, readers)
    for end in (0.0, 1.0):  # both ends of every range make a valid scenario (counts within the region's 60+ ...)
        try:
            problem.plan_scenario(tuple(d.decode([end, end]) for d in decisions))
        except ScenarioError as e:
            where = "low" if end == 0.0 else "high"
            raise ProblemError(f"{e} (the levers at the {where} end of their ranges)") from None
    return problem


def _decision(spec: LeverSpec, i: int, base: Scenario, path: Path) -> Decision:
    at = f"{path}: levers.{i}"
    catalogue_levers = lever_catalogue()
    if spec.key not in catalogue_levers:
        examples = ", ".join(list(catalogue_levers.levers)[:3])
        raise ProblemError(f"{at}.key = {show(spec.key)}: not a lever of sim/catalogues/levers.yaml (e.g. {examples})")
    lever = catalogue_levers[spec.key]
    if lever.type == "choice":
        allowed = tuple(lever.choices)
        choices = tuple(spec.choices or allowed)
        for c in choices:
            if c not in allowed:
                raise ProblemError(f"{at}.choices = {show(list(choices))}: {c!r} is not one of {', '.join(allowed)}")
        return Decision(spec.key, "choice", 0.0, 0.0, None, None, (), choices)
    if spec.range is None or len(spec.range) != 2 or spec.range[0] > spec.range[1]:
        raise ProblemError(f"{at}.range = {show(spec.range)}: give [low, high] with low <= high")
    low, high = spec.range
    cat_low, cat_high = lever.low, lever.high
    if lever.type == "year":
        cat_low, cat_high = base.base_year, base.horizon
    elif cat_high == POPULATION_60PLUS:
        cat_high = None  # checked on the scenario at both ends: the region's people aged 60+
    if (cat_low is not None and low < cat_low) or (cat_high is not None and high > cat_high):
        allowed = f"[{cat_low:g}, {cat_high:g}]" if cat_high is not None else f">= {cat_low:g}"
        raise ProblemError(f"{at}.range = {show(spec.range)}: outside the catalogue's range of {spec.key} ({allowed})")
    if lever.type in ("integer", "year") and not (float(low).is_integer() and float(high).is_integer()):
        raise ProblemError(f"{at}.range = {show(spec.range)}: {spec.key} takes whole numbers")
    if lever.type != "schedule":
        if spec.by is not None or spec.start is not None:
            raise ProblemError(f"{at}.by = {show(spec.by)}: only a schedule lever has a year it is reached by")
        return Decision(spec.key, lever.type, float(low), float(high), None, None, (), ())
    if spec.by is None or not base.base_year < spec.by <= base.horizon:
        raise ProblemError(
            f"{at}.by = {show(spec.by)}: a schedule lever needs the year its level is reached, "
            f"after {base.base_year} and at most the horizon ({base.horizon})"
        )
    if spec.start is not None and not base.base_year <= spec.start < spec.by:
        raise ProblemError(f"{at}.start = {show(spec.start)}: must be from {base.base_year} to before by ({spec.by})")
    if (
        not spec.profiles
        or any(p not in PROFILES for p in spec.profiles)
        or len(set(spec.profiles)) < len(spec.profiles)
    ):
        raise ProblemError(f"{at}.profiles = {show(spec.profiles)}: distinct profiles among {', '.join(PROFILES)}")
    return Decision(spec.key, "schedule", float(low), float(high), spec.by, spec.start, tuple(spec.profiles), ())


def _objective(spec: ObjectiveSpec, i: int, base: Scenario, path: Path) -> Objective:
    at = f"{path}: objectives.{i}"
    if spec.statistic not in STATISTICS:
        raise ProblemError(f"{at}.statistic = {show(spec.statistic)}: must be one of {', '.join(STATISTICS)}")
    if spec.sense not in SENSES:
        raise ProblemError(f"{at}.sense = {show(spec.sense)}: must be one of {', '.join(SENSES)}")
    name = spec.name or f"{spec.indicator}_{spec.year}"
    breakdown = {"sex": None, "age_group": None, "capacity": None, "residence": None, "group": spec.group}
    try:
        reader = compile_outcome(name, spec.indicator, breakdown, spec.year, None, base.base_year, base.horizon)
    except OutcomeError as e:
        raise ProblemError(f"{at}.{e}") from None
    return Objective(name, reader, spec.statistic, spec.quantile, spec.sense)


def _targets(spec: ProblemFile, base: Scenario, path: Path) -> tuple:
    named = spec.constraints.targets
    if named is None:
        return tuple(base.targets)
    by_name = {t.indicator: t for t in base.targets}
    for i, name in enumerate(named):
        if name not in by_name:
            allowed = ", ".join(by_name) or "none: the scenario has no targets"
            raise ProblemError(
                f"{path}: constraints.targets.{i} = {show(name)}: not a target of the scenario ({allowed})"
            )
    return tuple(by_name[name] for name in dict.fromkeys(named))


def _target_reader(target, base: Scenario) -> Reader:
    found = catalogue().target(target.indicator)
    breakdown = {"sex": None, "age_group": None, "capacity": None, "residence": None, "group": found.group}
    return compile_outcome(
        f"target_{target.indicator}_{target.year}",
        found.indicator,
        breakdown,
        target.year,
        None,
        base.base_year,
        base.horizon,
    )


def _check_search(spec: ProblemFile, path: Path) -> None:
    s, r = spec.search, spec.search.replicates
    if r.most < r.first:
        raise ProblemError(f"{path}: search.replicates.most = {r.most}: must be at least first ({r.first})")
    one_generation = s.population * r.first
    if s.runs < one_generation:
        raise ProblemError(
            f"{path}: search.runs = {s.runs}: an infeasible budget; one generation needs population x "
            f"replicates.first = {one_generation} runs"
        )
