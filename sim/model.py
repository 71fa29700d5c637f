"""The model: a Mesa model whose step is one year in the lives of a region's older people.

Each year, in order:
1. every elder lives the year: dies, or keeps or changes capacity level (one draw per elder);
2. the survivors age one year;
3. the people turning 60 join, with capacity levels drawn for their sex and age;
4. the year's indicators are recorded.
"""

from __future__ import annotations

import mesa
import numpy as np

from .capacity import (
    N_LEVELS,
    TransitionMultipliers,
    aligned_death_probability,
    annual_transition_probabilities,
    scaled_rates,
)
from .demography import AGE_MIN, AGES, N_AGES
from .elders import DEAD, Elders, expand_to_cells, pool_cells, stochastic_round
from .indicators import YearlyRecord
from .regions import ENTRY_AGE, load_region
from .scenario import Scenario


def replicate_rng(seed: int, replicate: int) -> np.random.Generator:
    """Replicate r always gets stream r of the seed, whichever worker runs it."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replicate,)))


class AgeingModel(mesa.Model):
    """A region's population aged 60+, one agent per ``scale`` persons, stepped yearly."""

    def __init__(self, scenario: Scenario, replicate: int = 0):
        super().__init__(rng=replicate_rng(scenario.seed, replicate))
        self.config = scenario  # the validated scenario (mesa.Model reserves `scenario` for its own class)
        self.region = load_region(scenario.region)
        self.year = scenario.base_year
        self.scale = scenario.scale
        data = scenario.data
        multipliers = TransitionMultipliers(data.onset_multiplier, data.worsening_multiplier, data.recovery_multiplier)
        self.transitions = annual_transition_probabilities(scaled_rates(self.region.transition_rates, multipliers))
        self.elders = Elders()
        self.record = YearlyRecord(scale=self.scale)
        self._add_base_population()
        self._counts = self.elders.counts()
        self.record.add(self.year, self._counts)
        self.running = self.year < scenario.horizon

    def step(self) -> None:
        exposure = self._counts
        thresholds, outcomes = self._yearly_outcomes(exposure)
        deaths = pool_cells(self.elders.live_one_year(thresholds, outcomes, self.rng))
        self.elders.age_one_year()
        self.year += 1
        entrants = self._add_new_60_year_olds()
        self._counts = self.elders.counts()
        self.record.add(self.year, self._counts, deaths, exposure, entrants)
        self.running = self.year < self.config.horizon

    def run(self) -> YearlyRecord:
        while self.running:
            self.step()
        return self.record

    # --- the year's chances -------------------------------------------------------------------------
    def _yearly_outcomes(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative probabilities and outcome codes per cell (sex, age, level) for this year.

        Outcomes per cell: stay at the level, each other level in order, then death. Death probabilities
        are aligned to the life table for the year's midpoint given the current mix of levels."""
        q_table = self.region.mortality.death_probability(self.year + 0.5, AGES, self.config.data.mortality_multiplier)
        q = aligned_death_probability(q_table, self.region.hazard_ratio, counts)  # [sex, age, level]
        survive = (1.0 - q)[..., None] * self.transitions  # [sex, age, from, to]
        probs = np.empty((2, N_AGES, N_LEVELS, N_LEVELS + 1))
        codes = np.empty((N_LEVELS, N_LEVELS + 1), dtype=np.int8)
        for lvl in range(N_LEVELS):
            order = [lvl] + [k for k in range(N_LEVELS) if k != lvl]
            probs[:, :, lvl, :N_LEVELS] = survive[:, :, lvl, order]
            codes[lvl] = order + [DEAD]
        probs[..., N_LEVELS] = q
        thresholds = np.cumsum(probs, axis=-1)
        thresholds[..., -1] = 1.0  # guard against rounding: every draw lands somewhere
        outcomes = np.broadcast_to(codes, (2, N_AGES, N_LEVELS, N_LEVELS + 1))
        return expand_to_cells(thresholds), expand_to_cells(outcomes)

    # --- who joins ----------------------------------------------------------------------------------
    def _add_agents(self, persons: np.ndarray) -> np.ndarray:
        """Add agents for expected persons by [sex, age 60..110], their capacity levels drawn from the
        region's shares for their sex and age. Returns agents added by sex."""
        agents = stochastic_round(persons / self.scale, self.rng)
        by_level = self.rng.multinomial(agents, self.region.prevalence)
        self.elders.add(by_level)
        return agents.sum(axis=1)

    def _add_base_population(self) -> None:
        persons = self.region.base_population().copy()
        target = self.config.data.population_60plus
        if target is not None:
            persons *= target / persons.sum()
        self._add_agents(persons)

    def _add_new_60_year_olds(self) -> np.ndarray:
        data = self.config.data
        expected = self.region.entrants(self.year, data.mortality_multiplier) * data.entrants_multiplier
        persons = np.zeros((2, N_AGES))
        persons[:, ENTRY_AGE - AGE_MIN] = expected
        return self._add_agents(persons)
