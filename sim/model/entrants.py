"""Who joins: the base-year population (the census) and, every later year, the people turning 60, each
given a residence (urban with the region's urban share of the year) and a capacity level drawn from the
region's shares for their residence, sex and age."""

from __future__ import annotations

import numpy as np

from sim.common.rounding import stochastic_round
from sim.data.demography import AGE_MIN, N_AGES
from sim.data.regions import ENTRY_AGE, RegionData
from sim.model.elders import Elders


def base_population(region: RegionData, data) -> np.ndarray:
    """Persons by [sex, age 60..110] in the base year, rescaled to ``data.population_60plus`` if given
    (``data``: the scenario's changes to the region's data)."""
    persons = region.base_population().copy()
    target = data.population_60plus
    if target is not None:
        persons *= target / persons.sum()
    return persons


def turning_60(region: RegionData, data, year: int) -> np.ndarray:
    """Expected persons by [sex, age 60..110] joining in ``year``: the cohort turning 60 (``data``: the
    scenario's changes to the region's data)."""
    persons = np.zeros((2, N_AGES))
    persons[:, ENTRY_AGE - AGE_MIN] = region.entrants(year, data.mortality_multiplier) * data.entrants_multiplier
    return persons


def urban_share(region: RegionData, year: int) -> float:
    """Urban share of those joining in ``year``: the base-year 60+'s at the census, then the entrants'."""
    return region.urban_share_60plus if year == region.base_year else region.urban_share_of_entrants(year)


def add(
    elders: Elders, persons: np.ndarray, urban: float, region: RegionData, scale: float, rng: np.random.Generator
) -> tuple[np.ndarray, slice]:
    """Add agents for expected persons by [sex, age 60..110], ``urban`` of them urban, their capacity
    levels drawn from the region's shares for their residence, sex and age. Returns agents added by
    [residence, sex] and their rows."""
    agents = stochastic_round(persons / scale, rng)
    in_towns = rng.binomial(agents, urban)
    by_residence = np.stack([agents - in_towns, in_towns])
    by_level = rng.multinomial(by_residence, region.prevalence)
    rows = elders.add(by_level)
    return by_residence.sum(axis=2), rows
