"""Scenario files: the typed schema (all defaults in one place), loading, overrides and error messages.

A wrong scenario is reported as one line naming the key path, the value and what is allowed, e.g.
``tianjin.yaml: horizon = 2019: must be after base_year (2020) and at most 2035``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

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
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Care-system parameters by name (sim/data/care_parameters.yaml lists them with units and sources).",
    )

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, v: dict[str, Any]) -> dict[str, Any]:
        from .parameters import ParameterError, check_overrides

        try:
            check_overrides(v)
        except ParameterError as e:
            raise _FieldError(f"data.parameters.{e.name}", e.value, e.allowed) from None
        return v


YearPath = float | dict[int, float]  # a constant, or year -> value (one year: a target; several: a schedule)


def _path(description: str, default=None, ge: float = 0, le: float | None = None):
    return Field(default, description=description, json_schema_extra={"minimum": ge, "maximum": le})


class Beds(_Strict):
    """Institutional beds and home-based capacity. Counts are persons/places, shares in 0-1."""

    total: YearPath | None = _path("Institutional beds of all types (schedule or target; default: the region's count).")
    nursing_share: YearPath | None = _path("Nursing-type beds as a share of institutional beds.", le=1)
    dementia_per_10k: YearPath | None = _path("Dementia-care beds per 10,000 older people.", le=10000)
    public_share_of_new: float = Field(0.2, ge=0, le=1, description="Share of new beds built in public homes.")
    family_beds: YearPath | None = _path("Family elderly-care beds (家庭养老床位): institutional-grade care at home.")
    day_care_places: YearPath | None = _path("Day-care places in community care centres.")


class Insurance(_Strict):
    """Long-term-care insurance (长期护理保险). Defaults are Tianjin's pilot rules (2020)."""

    start_year: int | None = Field(None, description="First year benefits are paid; null = no insurance.")
    coverage: str = Field("urban_employees", description="Who is covered: urban_employees, urban or all.")
    eligible_from: str = Field("severe", description="Lowest capacity level that qualifies: moderate, severe or total.")
    institution_daily: float = Field(70.0, ge=0, description="Standard daily amount for institutional care, yuan.")
    institution_share: float = Field(0.70, ge=0, le=1, description="Share of the daily amount the fund pays.")
    home_monthly_cap: float = Field(2100.0, ge=0, description="Monthly cap on home-care services, yuan.")
    home_share: float = Field(
        0.75, ge=0, le=1, description="Share of home-care spending (up to the cap) the fund pays."
    )
    family_cash_monthly: float = Field(
        0.0, ge=0, description="Monthly cash for family carers of eligible people, yuan."
    )
    premium_per_person: float = Field(
        240.0, ge=0, description="Yearly contribution per covered person (all ages), yuan."
    )

    @field_validator("coverage")
    @classmethod
    def _coverage(cls, v: str) -> str:
        if v not in ("urban_employees", "urban", "all"):
            raise ValueError("must be one of urban_employees, urban, all")
        return v

    @field_validator("eligible_from")
    @classmethod
    def _eligible(cls, v: str) -> str:
        if v not in ("moderate", "severe", "total"):
            raise ValueError("must be one of moderate, severe, total")
        return v


class Subsidies(_Strict):
    nursing_subsidy_monthly: YearPath | None = _path(
        "Nursing subsidy for poor elders at moderate loss or worse, yuan/month."
    )
    old_age_allowance_monthly: YearPath | None = _path("Allowance for everyone aged 80+, yuan/month.")
    service_voucher_monthly: YearPath | None = _path(
        "Voucher for formal care services, poor elders with a care need, yuan/month."
    )


class Workforce(_Strict):
    trained_per_year: YearPath | None = _path(
        "Care workers trained and certified per year (new entrants and upgrades)."
    )
    entry_share: float = Field(0.3, ge=0, le=1, description="Share of trainees who are new to care work.")
    migrants_per_year: YearPath | None = _path("Care workers recruited from outside the region per year.")
    pay_uplift: YearPath | None = _path("Pay rise for care workers as a share of the base wage.", le=5)
    certification_bonus_monthly: YearPath | None = _path("Post allowance for certified workers, yuan/month.")
    attrition_multiplier: float = Field(1.0, ge=0, le=5, description="Multiplier on the yearly leaving rate.")


class Family(_Strict):
    carers_trained_per_year: YearPath | None = _path("Family carers trained per year.")
    respite_days: YearPath | None = _path(
        "Respite days per year for each family caring for an elder at severe loss or worse.", le=365
    )


class Health(_Strict):
    onset_multiplier: YearPath | None = _path("Prevention: multiplier on the onset of capacity loss, by year.", le=10)


class Policy(_Strict):
    """Policy levers. A lever is a number, or a mapping year -> value: one year is a target reached by
    that year along a straight line from the base year, several years a schedule."""

    beds: Beds = Field(default_factory=Beds)
    insurance: Insurance = Field(default_factory=Insurance)
    subsidies: Subsidies = Field(default_factory=Subsidies)
    workforce: Workforce = Field(default_factory=Workforce)
    family: Family = Field(default_factory=Family)
    health: Health = Field(default_factory=Health)


class Target(_Strict):
    indicator: str = Field(description="A plan indicator (see docs/model.md, Targets).")
    value: float = Field(description="Target value.")
    year: int = Field(description="Year by which it should be met.")
    direction: str = Field("at_least", description="at_least or at_most.")

    @field_validator("direction")
    @classmethod
    def _direction(cls, v: str) -> str:
        if v not in ("at_least", "at_most"):
            raise ValueError("must be at_least or at_most")
        return v


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
    calibration: str = Field(
        "default",
        description="Fitted parameters to use: 'default' (the region's shipped calibration), 'none' (the documented"
        " defaults alone), a shipped calibration's name, or the path of a fit file written by `sim calibrate`."
        " data.parameters apply on top.",
    )
    data: DataOverrides = Field(default_factory=DataOverrides)
    policy: Policy = Field(default_factory=Policy)
    targets: list[Target] = Field(default_factory=list, description="Plan targets checked every year.")

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
        from .calibration import resolve

        try:
            resolve(self.calibration, self.region, self.base_year)
        except ValueError as e:
            raise _FieldError("calibration", self.calibration, str(e)) from None
        _check_paths(self.policy, "policy", self.base_year, self.horizon)
        _check_targets(self.targets, self.base_year, self.horizon)
        if self.policy.insurance.start_year is not None and not self.base_year <= self.policy.insurance.start_year:
            raise _FieldError(
                "policy.insurance.start_year", self.policy.insurance.start_year, f"must be {self.base_year} or later"
            )
        return self


def _check_paths(model: BaseModel, prefix: str, base_year: int, horizon: int) -> None:
    """Every lever path: years within the run, values within the lever's range."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}.{name}"
        if isinstance(value, BaseModel):
            _check_paths(value, key, base_year, horizon)
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        if extra is None or value is None:
            continue
        lo, hi = extra["minimum"], extra["maximum"]
        values = list(value.values()) if isinstance(value, dict) else [value]
        if isinstance(value, dict) and any(not base_year <= y <= horizon for y in value):
            raise _FieldError(key, value, f"years must be from {base_year} to {horizon}")
        if any(v < lo or (hi is not None and v > hi) for v in values):
            allowed = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
            raise _FieldError(key, value, f"must be {allowed}" + (" in every year" if isinstance(value, dict) else ""))


def _check_targets(targets: list[Target], base_year: int, horizon: int) -> None:
    from .targets import TARGETS

    for i, t in enumerate(targets):
        if t.indicator not in TARGETS:
            raise _FieldError(
                f"targets.{i}.indicator", t.indicator, f"unknown indicator (allowed: {', '.join(TARGETS)})"
            )
        if not base_year <= t.year <= horizon:
            raise _FieldError(f"targets.{i}.year", t.year, f"must be from {base_year} to {horizon}")


def _show(value: Any) -> str:
    """A value as the user wrote it: whole numbers without '.0' (validation turns them into floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


class _FieldError(ValueError):
    def __init__(self, key: str, value: Any, allowed: str):
        super().__init__(f"{key} = {_show(value)}: {allowed}")
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


def _fields_at(loc: tuple, root: type[BaseModel]) -> list[str]:
    model = root
    for part in loc[:-1]:
        if isinstance(part, int):  # an item of a list: its schema is the list's item type, taken below
            continue
        annotation = model.model_fields[part].annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def _describe(err: dict, root: type[BaseModel]) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), _FieldError):
        return str(ctx["error"])
    if kind == "extra_forbidden":
        allowed = _fields_at(loc, root)
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


def parse_mapping[M: BaseModel](schema: type[M], raw: Any, source: str) -> M:
    """Validate a mapping against a schema; raise ScenarioError with one line naming the first problem."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{source}: must be a mapping of keys to values, got {type(raw).__name__}")
    try:
        return schema.model_validate(raw)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {_describe(e.errors()[0], schema)}") from None
    except _FieldError as e:
        raise ScenarioError(f"{source}: {e}") from None


def parse_scenario(raw: Any, source: str = "scenario") -> Scenario:
    return parse_mapping(Scenario, raw, source)


def apply_overrides(raw: dict, assignments: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings (values parsed as YAML) to a raw scenario mapping."""
    raw = yaml.safe_load(yaml.safe_dump(raw))  # deep copy of plain data
    for item in assignments:
        if "=" not in item:
            raise ScenarioError(f"{source} {item!r}: expected key.path=value")
        path, text = item.split("=", 1)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {item!r}: the value is not valid YAML") from None
        set_value(raw, path.strip(), value, f"{source} {item!r}")
    return raw


def set_value(raw: dict, path: str, value: Any, source: str) -> None:
    """Put ``value`` at a dotted key path of a raw scenario mapping, creating sections on the way (an
    unset lever, ``null``, becomes an empty one).

    A part that is a whole number is a year (YAML reads ``2025:`` as the number 2025), so
    ``policy.beds.total.2025`` sets the 2025 value of a lever's path; inside a list it is a position,
    so ``data.parameters.need_hours_per_week.3`` sets one level's value."""
    keys: list[str | int] = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = raw
    for k, child in zip(keys[:-1], keys[1:], strict=True):
        if isinstance(node, dict) and node.get(k) is None:
            node[k] = {}
        if isinstance(node, dict):
            node = node[k]
        elif isinstance(k, int) and k < len(node):
            node = node[k]
        else:
            raise ScenarioError(f"{source}: {k} is not a position in a list of {len(node)}")
        if not isinstance(node, dict | list) or (isinstance(node, list) and not isinstance(child, int)):
            raise ScenarioError(f"{source}: {k} is not a section")
    last = keys[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise ScenarioError(f"{source}: {last} is not a position in a list of {len(node)}")
    node[last] = value


def read_scenario_file(path: Path) -> dict:
    return read_yaml_file(path, "the file is empty; a scenario needs at least `region`")


def read_yaml_file(path: Path, if_empty: str) -> Any:
    """The YAML data of a file, or a ScenarioError of one line saying why it cannot be read."""
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
        raise ScenarioError(f"{path}: {if_empty}")
    return raw


def load_scenario(path: Path, overrides: list[str] | None = None) -> Scenario:
    raw = read_scenario_file(path)
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
        raw.setdefault("name", Path(path).stem)
    return parse_scenario(raw, str(path))
