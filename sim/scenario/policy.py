"""The scenario's ``policy`` section, made from the lever catalogue (``sim/catalogues/levers.yaml``): one
section per group of levers (beds, insurance, subsidies, workforce, family, health), one field per lever
with its default, range and description. Checks that need the run (years of a schedule within it, a year
lever within it, counts at most the region's people aged 60+) are ``check_levers``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, create_model

from sim.catalogues.levers import POPULATION_60PLUS, Lever, lever_catalogue
from sim.common.errors import FieldError, Strict

PROFILES = ("linear", "front_loaded", "back_loaded", "step")


class Profile(Strict):
    """A change to ``to`` by the year ``by``, along a named profile from the lever's value in ``start`` (the
    base year unless given): linear (the same step every year), front_loaded (most of the change early),
    back_loaded (most of it late), or step (all of it in the year ``by``)."""

    to: float = Field(description="the value reached")
    by: int = Field(description="the year it is reached (a step: the year of the step)")
    profile: Literal[PROFILES] = Field("linear", description=", ".join(PROFILES))
    start: int | None = Field(None, description="the year the change starts; default the base year")


def _path_form(value: Any) -> str:
    """Which form a lever's value is written in, so that an error speaks of that form only."""
    if isinstance(value, Profile) or (isinstance(value, dict) and any(not _is_year(k) for k in value)):
        return "Profile"
    return "dict[int, float]" if isinstance(value, dict) else "float"


def _is_year(key: Any) -> bool:
    return isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit())


# a constant; year -> value (one year: a target reached along a straight line, several: a schedule); a profile
YearPath = Annotated[
    Annotated[float, Tag("float")]
    | Annotated[dict[int, float], Tag("dict[int, float]")]
    | Annotated[Profile, Tag("Profile")],
    Discriminator(_path_form),
]
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
    __doc__="Policy levers. A lever is a number, a mapping year -> value (one year is a target reached by that "
    "year along a straight line from the base year, several years a schedule), or a profile "
    "{to: VALUE, by: YEAR, profile: linear|front_loaded|back_loaded|step, start: YEAR}.",
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
        key = lever.key
        if isinstance(value, Profile):
            _check_profile(lever.key, value, base_year, horizon)
            key, value = f"{lever.key}.to", value.to
        values = list(value.values()) if isinstance(value, dict) else [value]
        if isinstance(value, dict) and any(not base_year <= y <= horizon for y in value):
            raise FieldError(lever.key, value, f"years must be from {base_year} to {horizon}")
        every = " in every year" if isinstance(value, dict) else ""
        if lever.high == POPULATION_60PLUS:
            if any(v < lever.low for v in values):
                raise FieldError(key, value, f"must be >= {lever.low:g}{every}")
            if any(v > population_60plus for v in values):
                raise FieldError(key, value, f"must be at most the region's people aged 60+ ({population_60plus:,.0f})")
        elif any(v < lever.low or (lever.high is not None and v > lever.high) for v in values):
            allowed = f"between {lever.low:g} and {lever.high:g}" if lever.high is not None else f">= {lever.low:g}"
            raise FieldError(key, value, f"must be {allowed}{every}")


def _check_profile(key: str, profile: Profile, base_year: int, horizon: int) -> None:
    start = base_year if profile.start is None else profile.start
    if not base_year < profile.by <= horizon:
        raise FieldError(f"{key}.by", profile.by, f"must be after the base year ({base_year}) and at most {horizon}")
    if not base_year <= start < profile.by:
        raise FieldError(f"{key}.start", profile.start, f"must be from {base_year} to before `by` ({profile.by})")
