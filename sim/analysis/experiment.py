"""Experiment files: what a sensitivity sweep varies, what it measures and how it samples and analyses;
the typed schema (every default here), loading, and one-line errors naming the key, the value and what
is allowed, as for scenarios.

    name: tianjin-levers-morris           # default: the file name
    scenario: ../scenarios/tianjin-14th-fyp.yaml   # relative to this file (or model: ishigami)
    set: {scale: 100}                     # changes to the scenario before the factors are applied
    seed: 20201101                        # seeds the design, every run (replacing the scenario's) and the bootstrap
    replicates: 2                         # runs per design point; the analysis uses their mean
    seeds: common                         # replicate r uses random stream r at every point (common random numbers)
    method: {name: morris, trajectories: 40, num_levels: 4}   # or {name: sobol, base_samples: 1024}
    factors:
      - {key: policy.beds.total.2025, range: [80000, 120000]}    # the 2025 value of a lever's path
      - {key: policy.insurance.start_year, type: int, range: [2021, 2030]}
      - {key: policy.insurance.eligible_from, levels: [moderate, severe, total]}
      - {key: data.parameters.burden_limit, range: [1.2, 2.0], dist: triangular, mode: 1.6, group: uncertain}
    outcomes:
      - {name: unmet_hours_2035, indicator: care_hours, group: unmet, year: 2035}
      - {name: peak_waiting_list, indicator: waiting_list, aggregate: max}

Factors. ``key`` is a key path into the scenario as for ``--set``; a part that is a year sets that
year's value of a lever's path. A factor has a ``range`` [low, high] with a distribution (``uniform``;
``triangular`` with ``mode``; ``normal`` with ``mean`` and ``sd``, truncated to the range), or
``levels``, a list of values drawn with equal chances. ``type: int`` makes whole numbers from low to high
with equal chances. Integer and level factors are sampled as a uniform u in [0, 1] (what the analysis
sees) and mapped to the k-th of n values with k = min(floor(u n), n - 1). Factors with the same
``group`` move together and are ranked as one (SALib groups, for Morris and Sobol alike); a factor
without a group is a group of its own.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from sim.analysis.analytic import FUNCTIONS
from sim.analysis.outcomes import AGGREGATES, OutcomeError, Reader, compile_outcome
from sim.common.errors import FieldError, ScenarioError, Strict, parse_mapping, show
from sim.common.user_files import read_yaml_file
from sim.scenario import Scenario, parse_scenario, read_scenario_file, set_value
from sim.scenario.scale import scale_problem

METHODS = ("morris", "sobol")
METHOD_SETTINGS = {
    "morris": {"trajectories": None, "num_levels": 4, "optimal_trajectories": None},
    "sobol": {"base_samples": None, "second_order": False},
}
DISTS = ("uniform", "triangular", "normal")
DIST_SETTINGS = {"uniform": (), "triangular": ("mode",), "normal": ("mean", "sd")}
FACTOR_TYPES = ("float", "int")
SEED_POLICIES = ("common", "independent")
RESERVED = ("point", "replicate", "session", "seconds")  # columns of the run store
SET_BY_EXPERIMENT = ("seed", "replicates")


class ExperimentError(Exception):
    """An experiment that cannot be used; the message is the one line shown to the user."""


class _Line(FieldError):
    """A problem stated as ``key: what is wrong`` (no value to show)."""

    def __init__(self, key: str, problem: str):
        ValueError.__init__(self, f"{key}: {problem}")
        self.key, self.value, self.allowed = key, None, problem


class Factor(Strict):
    key: str = Field(description="Key path into the scenario as for --set, e.g. policy.beds.total.2025.")
    name: str = Field("", description="Label in results and charts; default: the key.")
    range: list[float] | None = Field(None, description="[low, high]; for a normal distribution, its truncation.")
    levels: list[str | int | float | None] | None = Field(None, description="Values drawn with equal chances.")
    type: str = Field("float", description="float, or int for whole numbers from low to high.")
    dist: str = Field("uniform", description="uniform, triangular (with mode) or normal (with mean and sd).")
    mode: float | None = Field(None, description="Peak of a triangular distribution, within the range.")
    mean: float | None = Field(None, description="Mean of a normal distribution, within the range.")
    sd: float | None = Field(None, description="Standard deviation of a normal distribution.")
    group: str | None = Field(None, description="Factors of one group move together and are ranked as one.")


class Outcome(Strict):
    name: str = Field(description="Column name in the results.")
    indicator: str = Field(description="An indicator of the results table (or an output of a test function).")
    sex: str = Field("all", description="Breakdown by sex: all, male, female.")
    age_group: str | None = Field(None, description="Age group, e.g. 60+, 80+; default 60+ where there is one.")
    capacity: str = Field("all", description="Capacity level (intact ... total) or all.")
    residence: str = Field("all", description="Breakdown by residence: all, urban, rural.")
    group: str | list[str] = Field("all", description="The indicator's group; a list is summed.")
    year: int | None = Field(None, description="The year to read (or aggregate over the years).")
    aggregate: str | None = Field(None, description=f"Over all years: {', '.join(AGGREGATES)}.")


class Method(Strict):
    name: str = Field(description="morris (screening) or sobol (variance-based indices).")
    trajectories: int | None = Field(None, description="morris: trajectories r (candidates if optimised).")
    num_levels: int | None = Field(None, description="morris: grid levels p (even; default 4).")
    optimal_trajectories: int | None = Field(None, description="morris: keep this many of the trajectories.")
    base_samples: int | None = Field(None, description="sobol: base samples N, a power of 2.")
    second_order: bool | None = Field(None, description="sobol: also second-order indices (default false).")
    resamples: int = Field(1000, ge=10, le=100000, description="Bootstrap resamples for confidence intervals.")
    confidence: float = Field(0.95, gt=0, lt=1, description="Confidence level of the intervals.")


class ExperimentFile(Strict):
    """An experiment file as written; defaults filled in by validation."""

    name: str = Field("", description="Label for results; defaults to the file name.")
    description: str = Field("", description="Free text.")
    scenario: str | None = Field(None, description="Base scenario file, relative to the experiment file.")
    model: str | None = Field(None, description=f"A test function instead of a scenario: {', '.join(FUNCTIONS)}.")
    set: dict[str, Any] = Field(default_factory=dict, description="key.path: value changes to the scenario.")
    seed: int = Field(20201101, ge=0, lt=2**63, description="Seed of the design, the runs and the bootstrap.")
    replicates: int = Field(1, ge=1, le=1000, description="Runs per design point (replicate r: stream r).")
    seeds: str = Field("common", description="common: every point uses the same streams; or independent.")
    method: Method
    factors: list[Factor]
    outcomes: list[Outcome]

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentFile:
        if (self.scenario is None) == (self.model is None):
            raise _Line("scenario", f"give a scenario file or a model ({', '.join(FUNCTIONS)}), one of them")
        if self.model is not None and self.model not in FUNCTIONS:
            raise FieldError("model", self.model, f"unknown test function (allowed: {', '.join(FUNCTIONS)})")
        if self.model is not None and self.set:
            raise FieldError("set", self.set, "only with a scenario")
        for key in self.set:
            if key in SET_BY_EXPERIMENT:
                raise FieldError(f"set.{key}", self.set[key], f"set by the experiment's own {key}")
        if self.seeds not in SEED_POLICIES:
            raise FieldError("seeds", self.seeds, f"must be one of {', '.join(SEED_POLICIES)}")
        _check_method(self.method)
        if not self.factors:
            raise _Line("factors", "needs at least one factor")
        if not self.outcomes:
            raise _Line("outcomes", "needs at least one outcome")
        names: dict[str, str] = {}
        for i, f in enumerate(self.factors):
            _check_factor(f, f"factors.{i}")
            f.name = f.name or f.key
            _unique(names, f.name, f"factors.{i}.name")
        for i, f in enumerate(self.factors):
            if f.group is not None and f.group in names and f.group != f.name:
                raise FieldError(f"factors.{i}.group", f.group, "is the name of a factor; choose another")
        for i, o in enumerate(self.outcomes):
            _unique(names, o.name, f"outcomes.{i}.name")
            given = [k for k in ("year", "aggregate") if getattr(o, k) is not None]
            if self.model is not None and given:
                raise FieldError(f"outcomes.{i}.{given[0]}", getattr(o, given[0]), f"not for model {self.model}")
            if self.model is None and len(given) != 1:
                raise _Line(f"outcomes.{i}", "give a year or an aggregate (one of them)")
        return self


def _unique(seen: dict[str, str], name: str, key: str) -> None:
    if name in RESERVED:
        raise FieldError(key, name, f"is reserved ({', '.join(RESERVED)})")
    if name in seen:
        raise FieldError(key, name, f"is already the name of {seen[name]}")
    seen[name] = key.rsplit(".", 1)[0]


def _check_method(m: Method) -> None:
    if m.name not in METHODS:
        raise FieldError("method.name", m.name, f"must be one of {', '.join(METHODS)}")
    for other, settings in METHOD_SETTINGS.items():
        for key in settings:
            if other != m.name and getattr(m, key) is not None:
                raise FieldError(f"method.{key}", getattr(m, key), f"only for {other}")
    for key, default in METHOD_SETTINGS[m.name].items():
        if getattr(m, key) is None and default is not None:
            setattr(m, key, default)
    if m.name == "morris":
        if m.trajectories is None or m.trajectories < 2:
            raise FieldError("method.trajectories", m.trajectories, "must be a whole number of at least 2")
        if m.num_levels < 2 or m.num_levels % 2:
            raise FieldError("method.num_levels", m.num_levels, "must be an even number of at least 2")
        k = m.optimal_trajectories
        if k is not None and not 2 <= k < m.trajectories:
            raise FieldError("method.optimal_trajectories", k, f"must be from 2 to {m.trajectories - 1}")
    else:
        n = m.base_samples
        if n is None or n < 8 or n & (n - 1):
            raise FieldError("method.base_samples", n, "must be a power of 2 of at least 8")


def _check_factor(f: Factor, at: str) -> None:
    if (f.range is None) == (f.levels is None):
        raise _Line(at, "give a range [low, high] or levels [...], one of them")
    if f.type not in FACTOR_TYPES:
        raise FieldError(f"{at}.type", f.type, f"must be one of {', '.join(FACTOR_TYPES)}")
    if f.dist not in DISTS:
        raise FieldError(f"{at}.dist", f.dist, f"must be one of {', '.join(DISTS)}")
    for dist, settings in DIST_SETTINGS.items():
        for key in settings:
            if dist != f.dist and getattr(f, key) is not None:
                raise FieldError(f"{at}.{key}", getattr(f, key), f"only for dist {dist}")
    if f.levels is not None:
        if f.type != "float" or f.dist != "uniform":
            key = "type" if f.type != "float" else "dist"
            raise FieldError(f"{at}.{key}", getattr(f, key), "not with levels (they are drawn with equal chances)")
        kinds = {type(v) is str for v in f.levels if v is not None}
        if len(f.levels) < 2 or len(set(map(repr, f.levels))) < len(f.levels) or len(kinds) > 1:
            raise FieldError(f"{at}.levels", f.levels, "must be two or more different values, all text or all numbers")
        return
    if len(f.range) != 2 or not f.range[0] < f.range[1]:
        raise FieldError(f"{at}.range", f.range, "must be [low, high] with low < high")
    low, high = f.range
    if f.type == "int":
        if not (float(low).is_integer() and float(high).is_integer()):
            raise FieldError(f"{at}.range", f.range, "must be whole numbers for type int")
        if f.dist != "uniform":
            raise FieldError(f"{at}.dist", f.dist, "must be uniform for type int")
    for key in DIST_SETTINGS[f.dist]:
        if getattr(f, key) is None:
            raise _Line(f"{at}.{key}", f"is required for dist {f.dist}")
    if f.dist == "triangular" and not low <= f.mode < high:
        raise FieldError(f"{at}.mode", f.mode, f"must be at least {show(low)} and below {show(high)}")
    if f.dist == "normal":
        if f.sd <= 0:
            raise FieldError(f"{at}.sd", f.sd, "must be > 0")
        if not low <= f.mean <= high:
            raise FieldError(f"{at}.mean", f.mean, f"must be within the range [{show(low)}, {show(high)}]")


@dataclass(frozen=True)
class Experiment:
    """A loaded experiment: the file (defaults filled), its base scenario and how outcomes are read."""

    path: Path
    spec: ExperimentFile
    base: Scenario | None  # with `set` and the experiment's seed applied; None for a test function
    readers: tuple[Reader, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def factors(self) -> list[Factor]:
        return self.spec.factors

    def resolved(self) -> dict:
        """Everything that decides the results, as plain data (JSON): the experiment with its defaults,
        the base scenario as resolved (its content, not the path to its file; labels left out) and the
        calibration it uses (name, SHA-256 and fitted values)."""
        from sim.results.runs import calibration_record

        return {
            "experiment": self.spec.model_dump(mode="json", exclude={"name", "description", "scenario"}),
            "scenario": self.base.model_dump(mode="json") if self.base else None,
            "calibration": calibration_record(self.base) if self.base else None,
        }

    def fingerprint(self) -> str:
        """SHA-256 of ``resolved()``: a sweep is resumed only by the experiment that started it."""
        return hashlib.sha256(json.dumps(self.resolved(), sort_keys=True).encode()).hexdigest()


def _assignments(sets: list[str]) -> dict[str, Any]:
    """``--set key.path=value`` strings as a mapping of key paths to YAML values; one-line errors."""
    from sim.common.user_files import UnsafeYAML, load_yaml

    out = {}
    for item in sets:
        if "=" not in item:
            raise ExperimentError(f"--set {show(item)}: expected key.path=value")
        key, text = item.split("=", 1)
        try:
            out[key.strip()] = load_yaml(text)
        except UnsafeYAML as e:
            raise ExperimentError(f"--set {show(item)}: {e}") from None
        except Exception:  # yaml's own errors
            raise ExperimentError(f"--set {show(item)}: the value is not valid YAML") from None
    return out


def parse_experiment(raw: Any, source: str) -> ExperimentFile:
    try:
        return parse_mapping(ExperimentFile, raw, source)
    except ScenarioError as e:
        raise ExperimentError(str(e)) from None


def load_experiment(path: Path, sets: list[str] | None = None) -> Experiment:
    """Read, validate and resolve an experiment; raise ExperimentError with one line naming the problem.
    ``sets``: ``key.path=value`` changes to the scenario, added to the experiment's own ``set`` (so a sweep
    at a coarser scale needs no copy of the file; they are part of what a resumed sweep must match).

    Every factor is tried on the scenario at both ends of its range (or at each level), so a key or a
    value the scenario does not accept is reported now, naming the factor, not by a failed run."""
    path = Path(path)
    try:
        raw = read_yaml_file(path, "the file is empty; an experiment needs a scenario, method, factors and outcomes")
    except ScenarioError as e:
        raise ExperimentError(str(e)) from None
    if sets and isinstance(raw, dict):
        raw = {**raw, "set": {**(raw.get("set") or {}), **_assignments(sets)}}
    spec = parse_experiment(raw, str(path))
    spec.name = spec.name or path.stem
    if spec.model is not None:
        return Experiment(path, spec, None, _function_readers(spec, path))
    base = starting_scenario(spec, path)
    _try_factors(spec, base, path)
    readers = []
    for i, o in enumerate(spec.outcomes):
        breakdown = {
            "sex": o.sex,
            "age_group": o.age_group,
            "capacity": o.capacity,
            "residence": o.residence,
            "group": o.group,
        }
        try:
            readers.append(
                compile_outcome(o.name, o.indicator, breakdown, o.year, o.aggregate, base.base_year, base.horizon)
            )
        except OutcomeError as e:
            raise ExperimentError(f"{path}: outcomes.{i}.{e}") from None
    return Experiment(path, spec, base, tuple(readers))


def _function_readers(spec: ExperimentFile, path: Path) -> tuple[Reader, ...]:
    fn = FUNCTIONS[spec.model]
    for i, f in enumerate(spec.factors):
        if f.key not in fn.inputs:
            raise ExperimentError(
                f"{path}: factors.{i}.key = {show(f.key)}: not an input of {spec.model} "
                f"(allowed: {', '.join(fn.inputs)})"
            )
    missing = [x for x in fn.inputs if x not in {f.key for f in spec.factors}]
    if missing:
        raise ExperimentError(
            f"{path}: factors: {spec.model} needs a factor for every input (missing: {', '.join(missing)})"
        )
    for i, o in enumerate(spec.outcomes):
        if o.indicator not in fn.outputs:
            raise ExperimentError(
                f"{path}: outcomes.{i}.indicator = {show(o.indicator)}: not an output of {spec.model} "
                f"(allowed: {', '.join(fn.outputs)})"
            )
    return tuple(Reader(o.name, o.indicator, (), False, None, None) for o in spec.outcomes)


def starting_scenario(spec: Any, path: Path) -> Scenario:
    """The scenario a study file (an experiment or a policy-search problem) starts from: its ``scenario`` with
    its ``set`` changes and ``seed``, one replicate, refused at a scale that is not faithful. Errors name the
    study file."""
    scenario_path = (path.parent / spec.scenario).resolve()
    if not scenario_path.is_file():
        raise ExperimentError(f"{path}: scenario = {show(spec.scenario)}: no such file ({scenario_path})")
    try:
        raw = read_scenario_file(scenario_path)
    except ScenarioError as e:
        raise ExperimentError(str(e)) from None
    return study_scenario(raw, spec, path, scenario_path)


def study_scenario(raw: Any, spec: Any, path: Path, source: Path) -> Scenario:
    """A study's scenario from the data of the scenario it names (read from ``source``, or a scenario already
    loaded, as the app's "Find a plan" has it): ``set``, ``seed`` and one replicate applied, refused at a scale
    that is not faithful."""
    try:
        if not isinstance(raw, dict):
            return parse_scenario(raw, str(source))  # raises the scenario's own message
        raw.setdefault("name", source.stem)
        for key, value in spec.set.items():
            set_value(raw, key, value, f"{path}: set.{key}")
        raw["seed"], raw["replicates"] = spec.seed, 1
        scenario = parse_scenario(raw, f"{path}: scenario {spec.scenario} with set")
    except ScenarioError as e:
        raise ExperimentError(str(e)) from None
    problem = scale_problem(scenario)
    if problem:
        raise ExperimentError(f"{path}: scenario {spec.scenario} with set: {problem}")
    return scenario


def _probes(f: Factor) -> list[tuple[str, Any]]:
    if f.levels is not None:
        return [(f"level {v!r}", v) for v in f.levels]
    cast = int if f.type == "int" else float
    return [("its low end", cast(f.range[0])), ("its high end", cast(f.range[1]))]


def _try_factors(spec: ExperimentFile, base: Scenario, path: Path) -> None:
    resolved = base.model_dump()
    for i, f in enumerate(spec.factors):
        if f.key.split(".")[0] in SET_BY_EXPERIMENT:
            raise ExperimentError(f"{path}: factors.{i}.key = {show(f.key)}: set by the experiment's own {f.key}")
        for where, value in _probes(f):
            source = f"{path}: factors.{i} at {where}"
            raw = copy.deepcopy(resolved)
            try:
                set_value(raw, f.key, value, source)
                parse_scenario(raw, source)
            except ScenarioError as e:
                hint = " (declare type: int)" if f.type == "float" and "whole number" in str(e) else ""
                raise ExperimentError(f"{e}{hint}") from None
