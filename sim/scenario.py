"""Scenario files: the typed schema (all defaults in one place), loading, overrides and error messages.

A wrong scenario is reported as one line naming the key path, the value and what is allowed, e.g.
``tianjin.yaml: horizon = 2019: must be after base_year (2020) and at most 2035``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .regions import load_region, region_keys


class ScenarioError(Exception):
    """A scenario that cannot be used; the message is the one line shown to the user."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)


class DataOverrides(_Strict):
    """Changes to the packaged region data, for sensitivity and local knowledge."""

    population_60plus: int | None = Field(
        None,
        gt=0,
        description="Rescale the base-year population aged 60+ to this many persons (age-sex shares kept).",
    )
    entrants_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the persons turning 60 each year (e.g. >1 for net in-migration)."
    )
    mortality_multiplier: float = Field(
        1.0, gt=0, le=10, description="Multiplier on the life table's death rates at every age."
    )
    onset_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of first loss of capacity (intact -> any level)."
    )
    worsening_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of moving to a worse level from one with some loss."
    )
    recovery_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of moving to a better level."
    )


class Policy(_Strict):
    """Policy levers (beds, insurance, workforce, family support). None are modelled yet: the care
    system comes with the next part of the model, and any key given here is rejected until then."""


class Scenario(_Strict):
    """A simulation scenario. Units: years, persons; ``scale`` is persons per agent."""

    name: str = Field("", description="Label for results; defaults to the file name.")
    description: str = Field("", description="Free text shown in reports.")
    region: str = Field(description="A packaged region key (see `sim regions`).")
    base_year: int = Field(2020, description="First year (the census); must be the region's base year.")
    horizon: int = Field(2035, description="Last simulated year.")
    seed: int = Field(20201101, ge=0, lt=2**63, description="Seed of the random streams; replicate r uses stream r.")
    replicates: int = Field(1, ge=1, le=1000, description="Independent runs with different random streams.")
    scale: float = Field(
        1.0, ge=1, le=10000, description="Persons per agent; 1 = one agent per person. Results are always in persons."
    )
    data: DataOverrides = Field(default_factory=DataOverrides)
    policy: Policy = Field(default_factory=Policy)

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        if v not in region_keys():
            raise ValueError(f"unknown region (allowed: {', '.join(region_keys())})")
        return v

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        region = load_region(self.region)
        if self.base_year != region.base_year:
            raise _FieldError(
                "base_year", self.base_year, f"must be {region.base_year}, the base year of region {self.region}"
            )
        if not self.base_year < self.horizon <= region.last_year:
            raise _FieldError(
                "horizon", self.horizon, f"must be after base_year ({self.base_year}) and at most {region.last_year}"
            )
        return self


class _FieldError(ValueError):
    def __init__(self, key: str, value: Any, allowed: str):
        super().__init__(f"{key} = {value!r}: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed


_MESSAGES = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "missing": "is required",
    "model_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
}


def _fields_at(loc: tuple) -> list[str]:
    model: type[BaseModel] = Scenario
    for part in loc[:-1]:
        annotation = model.model_fields[part].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def _describe(err: dict) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), _FieldError):
        return str(ctx["error"])
    if kind == "extra_forbidden":
        allowed = _fields_at(loc)
        return f"{key} = {value!r}: unknown key (allowed: {', '.join(allowed) if allowed else 'none yet'})"
    if kind == "missing":
        return f"{key}: is required"
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{key} = {value!r}: must be {bounds[kind]} {limit:g}"
    if kind == "value_error":
        return f"{key} = {value!r}: {ctx.get('error', err['msg'])}"
    return f"{key} = {value!r}: {_MESSAGES.get(kind, err['msg'])}"


def parse_scenario(raw: Any, source: str = "scenario") -> Scenario:
    """Validate a mapping; raise ScenarioError with one line naming the first problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: must be a mapping of keys to values, got {type(raw).__name__}")
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {_describe(e.errors()[0])}") from None
    except _FieldError as e:
        raise ScenarioError(f"{source}: {e}") from None
    return scenario


def apply_overrides(raw: dict, assignments: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings (values parsed as YAML) to a raw scenario mapping."""
    raw = yaml.safe_load(yaml.safe_dump(raw))  # deep copy of plain data
    for item in assignments:
        if "=" not in item:
            raise ScenarioError(f"{source} {item!r}: expected key.path=value")
        path, text = item.split("=", 1)
        keys = path.strip().split(".")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {item!r}: the value is not valid YAML") from None
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"{source} {item!r}: {k} is not a section")
        node[keys[-1]] = value
    return raw


def read_scenario_file(path: Path) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
        raise ScenarioError(f"{path}: cannot be read as a text file ({type(e).__name__})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ScenarioError(f"{path}: not valid YAML{line}") from None
    if raw is None:
        raise ScenarioError(f"{path}: the file is empty; a scenario needs at least `region`")
    return raw


def load_scenario(path: Path, overrides: list[str] | None = None) -> Scenario:
    raw = read_scenario_file(path)
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
        raw.setdefault("name", Path(path).stem)
    return parse_scenario(raw, str(path))
