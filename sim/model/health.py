"""Health: each year every elder dies, or keeps or changes capacity level (GB/T 42195-2022).

The model keeps all five levels of the national standard 《老年人能力评估规范》 (GB/T 42195-2022).
Transitions are continuous-time intensities (per person-year) by sex and single age, turned into
one-year probabilities with the matrix exponential, so that several moves within a year (say mild ->
moderate -> severe) are possible and the probabilities are consistent whatever the rates.

Mortality by level is *aligned*: relative hazards by level come from the data, and the baseline hazard is
solved every year so that, for each sex and age, the expected deaths equal those of the region's life
table given the current mix of levels. Capacity therefore decides *who* dies, the life table *how many*.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import expm

from sim.data.demography import AGES, N_AGES
from sim.data.levels import INTACT, N_LEVELS
from sim.data.regions import RegionData, load_region
from sim.model.elders import DEAD, expand_to_cells
from sim.scenario import Scenario
from sim.scenario.levers import path_value


@dataclass(frozen=True)
class TransitionMultipliers:
    """Scenario multipliers on the packaged intensities (1 = as packaged)."""

    onset: float = 1.0  # intact -> any loss of capacity
    worsening: float = 1.0  # from a level with some loss to a worse one
    recovery: float = 1.0  # to a better level


def scaled_rates(rates: np.ndarray, m: TransitionMultipliers) -> np.ndarray:
    """Apply multipliers to intensities ``rates[sex, age, from, to]`` by the kind of move."""
    frm, to = np.meshgrid(np.arange(N_LEVELS), np.arange(N_LEVELS), indexing="ij")
    factor = np.where(to > frm, np.where(frm == INTACT, m.onset, m.worsening), m.recovery)
    factor = np.where(to == frm, 0.0, factor)
    return rates * factor


def annual_transition_probabilities(rates: np.ndarray) -> np.ndarray:
    """One-year transition matrices among the living, ``P[sex, age, from, to]``, from intensities."""
    q = rates.copy()
    idx = np.arange(N_LEVELS)
    q[..., idx, idx] = 0.0
    q[..., idx, idx] = -q.sum(axis=-1)
    return expm(q)


def aligned_death_probability(q_table: np.ndarray, hazard_ratio: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Death probability by level, ``q[sex, age, level]``, consistent with the life table.

    Solves, for every sex and age, the baseline hazard ``h`` such that
    ``sum_l w_l * (1 - exp(-h * HR_l)) = q_table`` (Newton's method; the left side is increasing and
    concave in ``h``, so the iteration from below converges monotonically). ``weights`` is the current
    count of persons by level; where a sex-age cell is empty, all levels get the table's rate.
    """
    total = weights.sum(axis=-1, keepdims=True)
    share = np.divide(weights, total, out=np.zeros_like(weights, dtype=float), where=total > 0)
    target = np.clip(q_table, 0.0, 1.0 - 1e-12)
    h = -np.log1p(-target) / (share * hazard_ratio).sum(axis=-1).clip(min=1e-12)
    for _ in range(30):
        survive = np.exp(-h[..., None] * hazard_ratio)
        f = (share * (1.0 - survive)).sum(axis=-1) - target
        df = (share * hazard_ratio * survive).sum(axis=-1)
        step = np.divide(f, df, out=np.zeros_like(f), where=df > 0)
        h = h - step
        if np.abs(step).max() < 1e-13:
            break
    q = 1.0 - np.exp(-h[..., None] * hazard_ratio)
    empty = total[..., 0] == 0
    q[empty] = target[empty][:, None]
    return q


@lru_cache(maxsize=64)
def transition_matrices(region: str, multipliers: TransitionMultipliers) -> np.ndarray:
    """One-year transition matrices ``P[sex, age, from, to]`` of a region under these multipliers: cached,
    since every model of a region shares them and calibrations and sweeps build thousands of models."""
    matrices = annual_transition_probabilities(scaled_rates(load_region(region).transition_rates, multipliers))
    matrices.setflags(write=False)
    return matrices


def multipliers_of(scenario: Scenario) -> TransitionMultipliers:
    data = scenario.data
    return TransitionMultipliers(data.onset_multiplier, data.worsening_multiplier, data.recovery_multiplier)


def yearly_outcomes(
    region: RegionData, scenario: Scenario, year: int, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities and outcome codes per cell (sex, age, level) for the year from ``year``
    to ``year + 1``, given persons by [sex, age, level] at its start.

    Outcomes per cell: stay at the level, each other level in order, then death. Death probabilities
    are aligned to the life table for the year's midpoint given the current mix of levels; prevention
    (``policy.health.onset_multiplier``) scales the onset of capacity loss from the year it reaches."""
    q_table = region.mortality.death_probability(year + 0.5, AGES, scenario.data.mortality_multiplier)
    q = aligned_death_probability(q_table, region.hazard_ratio, counts)  # [sex, age, level]
    m = multipliers_of(scenario)
    onset = path_value(scenario.policy.health.onset_multiplier, year + 1, scenario.base_year, 1.0)
    if onset != 1.0:
        m = TransitionMultipliers(m.onset * onset, m.worsening, m.recovery)
    transitions = transition_matrices(scenario.region, m)
    survive = (1.0 - q)[..., None] * transitions  # [sex, age, from, to]
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
