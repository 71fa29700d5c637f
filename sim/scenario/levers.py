"""Levers year by year: what each lever of the catalogue (``sim/catalogues/levers.yaml``) is in every year of
a run, resolved once, and changes to a lever's path (for plan targets and `sim evaluate`).

A schedule lever is written in a scenario either as one number (constant) or as a mapping from year to
value. A mapping with one year is a *target to reach by that year*; with several years it is a *schedule*.
Between given years the value moves linearly; before the first given year it moves linearly from the
base-year value (the lever's ``base``: a number, or the region's base-year figure); after the last it stays.
So ``{2025: 100000}`` from a base of 76,000 beds in 2020 means 80,800 in 2021, ... 100,000 in 2025 and after.
A *profile* names the shape of a change instead: ``{to: 100000, by: 2025, profile: front_loaded}`` (linear,
front_loaded, back_loaded, or step: all of it in the year ``by``; ``start``: the year it starts, default the
base year).

``year_levers`` gives the model one immutable object per year, ``levers.beds.total``,
``levers.insurance.coverage`` ...: the submodels read the year's levers from it, never the scenario.
"""

from __future__ import annotations

from collections import namedtuple
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.catalogues.levers import Lever, lever_catalogue
from sim.scenario.policy import SECTIONS, Profile, lever_value

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario


def path_value(spec: float | dict[int, float] | Profile | None, year: int, base_year: int, base_value: float) -> float:
    """The lever's value in ``year``; ``None`` keeps the base value."""
    if spec is None:
        return base_value
    if isinstance(spec, Profile):
        return base_value + (spec.to - base_value) * profile_share(spec, year, base_year)
    if not isinstance(spec, dict):
        return float(spec)
    years = [base_year] + sorted(spec)
    values = [base_value] + [float(spec[y]) for y in sorted(spec)]
    if base_year in spec:  # an explicit base-year value replaces the data's
        years, values = years[1:], values[1:]
    return float(np.interp(year, years, values))


def named_values(spec: float | dict[int, float] | Profile | None) -> list[float]:
    """The values a schedule lever's spec names (not those between them): a constant, a schedule's values,
    a profile's end."""
    if spec is None:
        return []
    if isinstance(spec, Profile):
        return [spec.to]
    return [float(v) for v in spec.values()] if isinstance(spec, dict) else [float(spec)]


def profile_share(profile: Profile, year: int, base_year: int) -> float:
    """The share of a profile's change done by ``year``: with t the share of its years gone (0 at its start,
    1 at ``by``), linear t, front_loaded 1 - (1 - t)^2, back_loaded t^2; a step all of it from ``by``."""
    start = base_year if profile.start is None else profile.start
    if profile.profile == "step":
        return 1.0 if year >= profile.by else 0.0
    t = min(max((year - start) / (profile.by - start), 0.0), 1.0)
    return {"linear": t, "front_loaded": 1 - (1 - t) ** 2, "back_loaded": t**2}[profile.profile]


def base_value(lever: Lever, baseline: dict, population_60plus: float) -> float:
    """Where a schedule lever starts in the base year: its number, or the region's base-year figure
    (``baseline``: the region's care supply; per 10,000 of ``population_60plus`` where the catalogue says)."""
    if lever.region_base is None:
        return float(lever.base)
    figure = float(baseline[lever.region_base]["value"])
    return figure / population_60plus * 1e4 if lever.base.get("per_10k_older") else figure


@cache
def _year_types() -> tuple[type, dict[str, type]]:
    names = {s: [lever.name for lever in lever_catalogue().in_section(s)] for s in SECTIONS}
    sections = {s: namedtuple(f"{s.title()}Levers", names[s]) for s in SECTIONS}
    whole = namedtuple("YearLevers", SECTIONS)
    globals().update({t.__name__: t for t in (whole, *sections.values())})  # by name, so they pickle
    return whole, sections


def year_levers(
    scenario: Scenario, baseline: dict, population_60plus: float, last_year: int | None = None
) -> dict[int, Any]:
    """Every lever's value in every year of the run (to ``last_year`` if later than the horizon: a run may be
    stepped on to the region's last year), one immutable ``YearLevers`` a year (sections as attributes, levers
    as their attributes). ``baseline``: the region's base-year care supply; ``population_60plus``: the
    region's persons aged 60+ in its base-year data (for rates per 10,000)."""
    whole, sections = _year_types()
    catalogue = lever_catalogue()
    starts = {
        lever.key: base_value(lever, baseline, population_60plus)
        for lever in catalogue.levers.values()
        if lever.type == "schedule"
    }
    out = {}
    for year in range(scenario.base_year, max(scenario.horizon, last_year or 0) + 1):
        values = {}
        for section in SECTIONS:
            row = []
            for lever in catalogue.in_section(section):
                value = lever_value(scenario.policy, lever)
                if lever.type == "schedule":
                    value = path_value(value, year, scenario.base_year, starts[lever.key])
                row.append(value)
            values[section] = sections[section](*row)
        out[year] = whole(**values)
    return out


# --- a lever's values year by year, and changes to them (for plan targets and `sim evaluate`) ---------
def lever_spec(scenario: Scenario, lever: str):
    node = scenario
    for part in lever.split(".")[:-1]:
        node = getattr(node, part)
    return getattr(node, lever.split(".")[-1])


def with_lever(scenario: Scenario, lever: str, spec) -> Scenario:
    raw = scenario.model_dump(mode="python")
    node = raw
    *parents, last = lever.split(".")
    for part in parents:
        node = node[part]
    node[last] = spec
    return type(scenario).model_validate(raw)


def lever_path(scenario: Scenario, key: str) -> dict[int, float]:
    """A schedule lever's value in every year of the run."""
    from sim.data.parameters import care_baseline
    from sim.data.regions import load_region

    lever = lever_catalogue()[key]
    region, region_file = scenario.region, scenario.region_file
    base = base_value(lever, care_baseline(region, region_file), load_region(region, region_file).population_total())
    spec = lever_spec(scenario, key)
    return {y: path_value(spec, y, scenario.base_year, base) for y in range(scenario.base_year, scenario.horizon + 1)}


def cumulative(indicator: str) -> bool:
    from sim.catalogues.indicators import catalogue

    return catalogue()[indicator].unit.endswith("(cumulative)")


def scheduled(scenario: Scenario, target: str, year: int) -> float:
    """What the scenario schedules for a commitment (a plan target's name) by ``year``: its lever's value, or
    for a cumulative indicator (trainees) the sum of the lever's yearly values since the base year."""
    from sim.catalogues.indicators import catalogue

    lever, _ = lever_catalogue().for_target(target)
    path = lever_path(scenario, lever)
    if cumulative(catalogue().target(target).indicator):
        return float(sum(v for y, v in path.items() if scenario.base_year < y <= year))
    return path[year]


def changed_lever(scenario: Scenario, lever: str, factor: float, after: int) -> Scenario:
    """The scenario with ``lever`` multiplied by ``factor`` in every year after ``after``."""
    path = lever_path(scenario, lever)
    spec = {y: (v * factor if y > after else v) for y, v in path.items()}
    return with_lever(scenario, lever, spec)
