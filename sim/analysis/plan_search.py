"""A policy search built from a scenario, with no problem file: the app's "Find a plan". The same problem as a
file of ``experiments/optimize/`` would state, made from what the scenario says:

- levers: the catalogue's levers that move the scenario's targets (``moves`` in sim/catalogues/levers.yaml),
  each over the catalogue's range, a schedule reaching its level by its targets' year along any of the time
  profiles a scenario can name;
- objectives: the plan's cumulative public cost to the targets' last year (minimised) and the persons with
  unmet need in that year, in a bad year (its 90% quantile over the runs);
- constraints: every target of the scenario met with P >= 0.8;
- the scenario cut at the targets' last year (nothing after it decides them) and run at its coarsest faithful
  scale (whole persons per agent), with its own seed.

The problem is checked and resolved by the code that reads problem files (``sim.analysis.problem``), so it is
refused with the same one-line messages.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sim.analysis.experiment import ExperimentError, study_scenario
from sim.analysis.problem import Problem, ProblemError, ProblemFile, resolve_problem
from sim.catalogues.levers import POPULATION_60PLUS, lever_catalogue
from sim.common.errors import ScenarioError, parse_mapping
from sim.scenario import Scenario
from sim.scenario.policy import PROFILES, Profile

PROBABILITY = 0.8  # every target met with at least this probability
UNMET_QUANTILE = 0.9  # unmet need in a bad year, not an average one
# half to one and a half times the scenario's own level of each lever: every plan a bureau would write as an
# alternative (the shipped problems search 0.8-1.2 of Tianjin's beds, 0.5-2 of its trainees), narrow enough for
# a few thousand runs to settle the front; the catalogue's whole range (up to every person aged 60+ in a bed)
# left a 200-run search at 83,000 beds for an 80,000 target
PLAN_SPAN = (0.5, 1.5)
MOST_REPLICATES = 16  # runs of one plan at most (where its P(met) interval straddles the probability)


def target_levers(scenario: Scenario) -> dict[str, int]:
    """The catalogue's levers that move the scenario's targets, each with the year its level is reached by:
    the last year of the targets it moves (an earlier target of the same lever is met on the way, a front-loaded
    profile meeting it sooner)."""
    levers = lever_catalogue()
    years: dict[str, int] = {}
    for target in scenario.targets:
        moved = levers.for_target(target.indicator)
        if moved is not None:
            years[moved[0]] = max(years.get(moved[0], target.year), target.year)
    return years


def objectives(year: int) -> list[dict[str, Any]]:
    """What a plan is judged by, in ``year`` (the targets' last): its cumulative public cost, and the persons
    with unmet need in a bad year."""
    return [
        {"indicator": "plan_cost_cumulative", "group": "all", "year": year},
        {"indicator": "persons_with_unmet_need", "year": year, "statistic": "quantile", "quantile": UNMET_QUANTILE},
    ]


def search_settings(runs: int, most: int = MOST_REPLICATES) -> tuple[dict, dict]:
    """``search`` and ``verify`` of a problem for a budget of ``runs`` model runs (the search's; verification
    adds a tenth, at most 500 a plan): four runs of each plan, and up to ``most`` where P(met) is in doubt, when
    the budget allows some eight generations of at least 4 plans; fewer below, and no more (the interval of
    P(met) from one or two runs is in doubt for every plan: adding runs would spend the budget on them all);
    at most 16 plans a generation."""
    first = max(1, min(4, most, runs // 64))
    population = min(16, max(4, runs // (8 * first)))
    search = {
        "population": population,
        "generations": max(1, runs // (population * first)),  # the budget ends the search first
        "runs": runs,
        "replicates": {"first": first, "most": max(first, most) if first == 4 else first, "step": first},
    }
    verify = {"runs": max(first, min(500, runs // 10)), "plans": 3 if runs >= 500 else 1}
    return search, verify


def plan_problem(scenario: Scenario, runs: int, most: int = MOST_REPLICATES) -> Problem:
    """The search for the cheapest plan meeting the scenario's targets, with a budget of ``runs`` model runs
    and ``most`` runs of one plan at most; ProblemError (one line) if it has no target, no lever moves them,
    or the problem is refused as a problem file would be."""
    where = Path(scenario.name)  # how messages name the problem: after its scenario, as it has no file
    if not scenario.targets:
        raise ProblemError(f"{where}: the scenario has no targets: a search needs targets to meet")
    last = max(t.year for t in scenario.targets)
    levers = target_levers(scenario)
    if not levers:
        moved = ", ".join(t.indicator for t in scenario.targets)
        raise ProblemError(f"{where}: no lever of sim/catalogues/levers.yaml moves its targets ({moved})")
    from sim.scenario import parse_scenario, set_value
    from sim.scenario.scale import faithful_scale

    cut = cut_at(scenario, last)
    try:  # the scale faithful to the scenario as searched: a capacity cut short is smaller than its target
        shorter = scenario.model_dump()
        for key, value in cut.items():
            set_value(shorter, key, value, f"{where}: set.{key}")
        scale = faithful_scale(parse_scenario(shorter, f"{where}: cut at {last}"))
    except ScenarioError as e:
        raise ProblemError(str(e)) from None
    search, verify = search_settings(runs, most)
    raw = {
        "name": scenario.name,
        "scenario": scenario.name,
        "set": {**cut, "scale": scale},
        "seed": scenario.seed,
        "levers": [searched(scenario, key, year, last) for key, year in levers.items()],
        "objectives": objectives(last),
        "constraints": {"probability": PROBABILITY},
        "search": search,
        "verify": verify,
    }
    try:
        spec = parse_mapping(ProblemFile, raw, str(where))
        base = study_scenario(scenario.model_dump(), spec, where, where)
    except (ScenarioError, ExperimentError) as e:
        raise ProblemError(str(e)) from None
    return resolve_problem(spec, base, where)


def searched(scenario: Scenario, key: str, year: int, last: int) -> dict[str, Any]:
    """A lever as a problem file would search it: around the scenario's own level by ``year`` (``PLAN_SPAN``
    of it, within the catalogue's range), or over the catalogue's range where the scenario sets no level (a
    count's upper end the region's people aged 60+, rounded down to two significant figures so that the
    search's grid lands on it); a schedule by ``year`` along every profile; a choice among all its choices."""
    lever = lever_catalogue()[key]
    if lever.type == "choice":
        return {"key": key}
    low, high = lever.low, lever.high
    if lever.type == "year":
        low, high = scenario.base_year, last
    elif high == POPULATION_60PLUS:
        from sim.data.regions import load_region

        people = load_region(scenario.region, scenario.region_file).population_total()
        unit = 10 ** max(0, math.floor(math.log10(people)) - 1)
        high = math.floor(people / unit) * unit
    level = plan_level(scenario, key, year)
    if level is not None and level > 0 and lever.type != "year":
        low, high = (max(low, _readable(PLAN_SPAN[0] * level)), min(high, _readable(PLAN_SPAN[1] * level)))
        if lever.type == "integer":
            low, high = math.ceil(low), math.floor(high)
    entry = {"key": key, "range": [low, high]}
    if lever.type == "schedule":
        entry |= {"by": year, "profiles": list(PROFILES)}
    return entry


def _readable(x: float) -> float:
    """6 significant figures: 0.9, not 0.6 * 1.5 = 0.8999999999999999."""
    return float(f"{x:.6g}")


def plan_level(scenario: Scenario, key: str, year: int) -> float | None:
    """The lever's level in the scenario by ``year``: a schedule's value in that year, a number as set (None
    where the scenario leaves it to the region's default)."""
    from sim.scenario.levers import lever_path, lever_spec

    if lever_catalogue()[key].type == "schedule":
        return lever_path(scenario, key)[year]
    value = lever_spec(scenario, key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def cut_at(scenario: Scenario, last: int) -> dict[str, Any]:
    """The changes that end the scenario in ``last`` with the same levers up to then: the horizon, each schedule
    naming a later year given year by year to ``last`` (its path unchanged), a later first year of insurance
    none; and no observations (only `sim evaluate` reads them, and a plan found names no file)."""
    from sim.scenario.levers import lever_path, lever_spec

    changes: dict[str, Any] = {"horizon": last, "observed": None}
    for key, lever in lever_catalogue().levers.items():
        spec = lever_spec(scenario, key)
        if lever.type == "year" and spec is not None and spec > last:
            changes[key] = None
        if lever.type != "schedule":
            continue
        if spec.by > last if isinstance(spec, Profile) else isinstance(spec, dict) and any(y > last for y in spec):
            path = lever_path(scenario, key)
            changes[key] = {y: path[y] for y in range(scenario.base_year + 1, last + 1)}
    return changes
