"""The scenario's ``policy`` section, made from the lever catalogue (``sim/catalogues/levers.yaml``): one
section per group of levers (beds, insurance, subsidies, workforce, family, health), one field per lever
with its default, range and description. Checks that need the run (years of a schedule within it, a year
lever within it, counts at most the region's people aged 60+) are ``check_levers``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, create_model

from sim.catalogues.levers import POPULATION_60PLUS, Lever, lever_catalogue
from sim.common.errors import FieldError, Strict

YearPath = float | dict[int, float]  # a constant, or year -> value (one year: a target; several: a schedule)
SECTIONS = ("beds", "insurance", "subsidies", "workforce", "family", "health")


def _one_of(allowed: tuple[str, ...]):
    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return v

    return check


def _field(lever: Lever) -> tuple[Any, Any]:
    """The schema field of a lever: its type, default, bounds and description."""
    description = lever.help["en"]
    numeric = isinstance(lever.low, int | float), isinstance(lever.high, int | float)
    bounds = {"ge": lever.low if numeric[0] else None, "le": lever.high if numeric[1] else None}
    if lever.type == "schedule":
        extra = {"minimum": lever.low, "maximum": lever.high if numeric[1] else None}
        return YearPath | None, Field(None, description=description, json_schema_extra=extra)
    if lever.type == "choice":
        kind = Annotated[str, AfterValidator(_one_of(tuple(lever.choices)))]
        return kind, Field(lever.default, description=description)
    if lever.type == "year":
        return int | None, Field(lever.default, description=description)
    kind = int if lever.type == "integer" else float
    return kind, Field(lever.default, description=description, **{k: v for k, v in bounds.items() if v is not None})


def _section(name: str):
    levers = lever_catalogue().in_section(name)
    fields = {lever.name: _field(lever) for lever in levers}
    doc = f"{lever_catalogue().groups[levers[0].group]['en']} (levers declared in sim/catalogues/levers.yaml)."
    return create_model(name.title(), __base__=Strict, __doc__=doc, **fields)


SECTION_MODELS = {s: _section(s) for s in SECTIONS}
globals().update({model.__name__: model for model in SECTION_MODELS.values()})  # by name, so they pickle
Insurance = SECTION_MODELS["insurance"]  # the money submodel and its tests build one directly

Policy = create_model(
    "Policy",
    __base__=Strict,
    __doc__="Policy levers. A lever is a number, or a mapping year -> value: one year is a target reached by that "
    "year along a straight line from the base year, several years a schedule.",
    **{s: (model, Field(default_factory=model)) for s, model in SECTION_MODELS.items()},
)


def lever_value(policy, lever: Lever) -> Any:
    return getattr(getattr(policy, lever.section), lever.name)


def check_levers(policy, base_year: int, horizon: int, population_60plus: float) -> None:
    """FieldError for the first lever out of its range: a schedule's years outside the run or a value outside
    the lever's range, a year lever outside the run, a count above the region's people aged 60+."""
    for lever in lever_catalogue().levers.values():
        value = lever_value(policy, lever)
        if value is None:
            continue
        if lever.type == "year":
            if not base_year <= value <= horizon:
                raise FieldError(
                    lever.key, value, f"must be from {base_year} to the horizon ({horizon}); null for none"
                )
            continue
        if lever.type != "schedule":
            continue
        values = list(value.values()) if isinstance(value, dict) else [value]
        if isinstance(value, dict) and any(not base_year <= y <= horizon for y in value):
            raise FieldError(lever.key, value, f"years must be from {base_year} to {horizon}")
        every = " in every year" if isinstance(value, dict) else ""
        if lever.high == POPULATION_60PLUS:
            if any(v < lever.low for v in values):
                raise FieldError(lever.key, value, f"must be >= {lever.low:g}{every}")
            if any(v > population_60plus for v in values):
                raise FieldError(
                    lever.key, value, f"must be at most the region's people aged 60+ ({population_60plus:,.0f})"
                )
        elif any(v < lever.low or (lever.high is not None and v > lever.high) for v in values):
            allowed = f"between {lever.low:g} and {lever.high:g}" if lever.high is not None else f">= {lever.low:g}"
            raise FieldError(lever.key, value, f"must be {allowed}{every}")
