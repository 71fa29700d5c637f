"""Small inputs for the submodels' unit tests: elders built one by one, so rows keep the order given."""

import mesa
import numpy as np

from sim.data.demography import AGE_MIN, N_AGES
from sim.data.levels import N_LEVELS
from sim.model.elders import N_RESIDENCES, Elders


def elders_with(levels, ages=70, sexes=0, urban=False, **columns) -> Elders:
    """Elders with these levels (and ages, sexes, residence: one value or one per elder), row i being the
    i-th given; any care column set from ``columns`` (name=values)."""
    levels = np.asarray(levels)
    ages = np.broadcast_to(ages, levels.shape)
    sexes = np.broadcast_to(sexes, levels.shape)
    urban = np.broadcast_to(urban, levels.shape)
    elders = Elders()
    for town, sex, age, level in zip(urban, sexes, ages, levels, strict=True):
        one = np.zeros((N_RESIDENCES, 2, N_AGES, N_LEVELS), dtype=np.int64)
        one[int(town), sex, age - AGE_MIN, level] = 1
        elders.add(one)
    for name, values in columns.items():
        getattr(elders, name)[:] = values
    return elders


def many_elders(counts_by_level, age=70, sex=0, urban=False) -> Elders:
    """Elders of one residence, sex and age, ``counts_by_level[l]`` at each level, in level order."""
    counts = np.zeros((N_RESIDENCES, 2, N_AGES, N_LEVELS), dtype=np.int64)
    counts[int(urban), sex, age - AGE_MIN] = counts_by_level
    elders = Elders()
    elders.add(counts)
    return elders


def sd_bound(p: float, n: int, k: float = 5.0) -> float:
    """``k`` standard errors of a share ``p`` estimated from ``n`` draws."""
    return k * np.sqrt(p * (1 - p) / n)


def model() -> mesa.Model:
    return mesa.Model(rng=0)


def levers_of(scenario, year: int, baseline: dict | None = None, population_60plus: float | None = None):
    """The year's levers of a scenario, as the model hands them to its submodels (the region's own care
    supply and population unless given)."""
    from sim.data.parameters import care_baseline
    from sim.data.regions import load_region
    from sim.scenario.levers import year_levers

    baseline = baseline if baseline is not None else care_baseline(scenario.region)
    population = population_60plus if population_60plus is not None else load_region(scenario.region).population_total()
    return year_levers(scenario, baseline, population)[year]


def census_of(elders, benefits=None, take_up: float = 1.0):
    """The year's census of ``elders`` (``sim.model.census``), under ``benefits`` (default: no insurance)."""
    from sim.model.census import take_census
    from sim.model.money import Benefits
    from sim.scenario.policy import Insurance

    benefits = benefits if benefits is not None else Benefits(Insurance(), False, 0.0, 0.0, 0.0)
    return take_census(elders, benefits.terms, take_up)
