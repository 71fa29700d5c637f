"""Levers that change over the years: a value per year from a few given points.

A lever is written in a scenario either as one number (constant) or as a mapping from year to value.
A mapping with one year is a *target to reach by that year*; with several years it is a *schedule*.
Between given years the value moves linearly; before the first given year it moves linearly from the
base-year value; after the last it stays. So ``{2025: 100000}`` from a base of 76,000 beds in 2020
means 80,800 in 2021, ... 100,000 in 2025 and after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario


def path_value(spec: float | dict[int, float] | None, year: int, base_year: int, base_value: float) -> float:
    """The lever's value in ``year``; ``None`` keeps the base value."""
    if spec is None:
        return base_value
    if not isinstance(spec, dict):
        return float(spec)
    years = [base_year] + sorted(spec)
    values = [base_value] + [float(spec[y]) for y in sorted(spec)]
    if base_year in spec:  # an explicit base-year value replaces the data's
        years, values = years[1:], values[1:]
    return float(np.interp(year, years, values))


# --- a lever's values year by year, and changes to them (for plan targets and `sim evaluate`) ---------
LEVER_BASE = {  # the region's base-year value of each lever that has one (the others start from 0)
    "policy.beds.total": "beds",
    "policy.beds.nursing_share": "nursing_share",
    "policy.beds.family_beds": "family_beds",
    "policy.beds.day_care_places": "day_care_places",
    "policy.workforce.trained_per_year": "trained_per_year",
}


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


def _base_value(scenario: Scenario, lever: str) -> float:
    """The lever's base-year value; NaN where the region's data give none here (the dementia-bed rate), so
    a path that depends on it is NaN until the scenario's first given year."""
    key = LEVER_BASE.get(lever)
    if key:
        from sim.data.parameters import care_baseline

        return float(care_baseline(scenario.region)[key]["value"])
    return np.nan if lever == "policy.beds.dementia_per_10k" else 0.0


def lever_path(scenario: Scenario, lever: str) -> dict[int, float]:
    """The lever's value in every year of the run."""
    spec, base = lever_spec(scenario, lever), _base_value(scenario, lever)
    return {y: path_value(spec, y, scenario.base_year, base) for y in range(scenario.base_year, scenario.horizon + 1)}


def cumulative(indicator: str) -> bool:
    from sim.catalogues.indicators import catalogue

    return catalogue()[indicator].unit.endswith("(cumulative)")


def scheduled(scenario: Scenario, target, year: int) -> float:
    """What the scenario schedules for a commitment by ``year``: the lever's value, or for a cumulative
    indicator (trainees) the sum of the lever's yearly values since the base year."""
    path = lever_path(scenario, target.lever)
    if cumulative(target.indicator):
        return float(sum(v for y, v in path.items() if scenario.base_year < y <= year))
    return path[year]


def changed_lever(scenario: Scenario, lever: str, factor: float, after: int) -> Scenario:
    """The scenario with ``lever`` multiplied by ``factor`` in every year after ``after``."""
    path = lever_path(scenario, lever)
    spec = {y: (v * factor if y > after else v) for y, v in path.items()}
    return with_lever(scenario, lever, spec)
