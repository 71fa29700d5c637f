"""Who joins: the base-year population (the census) and, every later year, the people turning 60, each
given a capacity level drawn from the region's shares for their sex and age."""

from __future__ import annotations

import numpy as np

from sim.data.demography import AGE_MIN, N_AGES
from sim.data.regions import ENTRY_AGE, RegionData
from sim.model.elders import Elders
from sim.model.scale import stochastic_round
from sim.scenario import Scenario


def base_population(region: RegionData, scenario: Scenario) -> np.ndarray:
    """Persons by [sex, age 60..110] in the base year, rescaled to ``data.population_60plus`` if given."""
    persons = region.base_population().copy()
    target = scenario.data.population_60plus
    if target is not None:
        persons *= target / persons.sum()
    return persons


def turning_60(region: RegionData, scenario: Scenario, year: int) -> np.ndarray:
    """Expected persons by [sex, age 60..110] joining in ``year``: the cohort turning 60."""
    data = scenario.data
    persons = np.zeros((2, N_AGES))
    persons[:, ENTRY_AGE - AGE_MIN] = region.entrants(year, data.mortality_multiplier) * data.entrants_multiplier
    return persons


def add(
    elders: Elders, persons: np.ndarray, region: RegionData, scale: float, rng: np.random.Generator
) -> tuple[np.ndarray, slice]:
    """Add agents for expected persons by [sex, age 60..110], their capacity levels drawn from the
    region's shares for their sex and age. Returns agents added by sex and their rows."""
    agents = stochastic_round(persons / scale, rng)
    by_level = rng.multinomial(agents, region.prevalence)
    rows = elders.add(by_level)
    return agents.sum(axis=1), rows
