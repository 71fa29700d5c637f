"""Health: each year every elder dies, or keeps or changes capacity level (GB/T 42195-2022).

The model keeps all five levels of the national standard 《老年人能力评估规范》 (GB/T 42195-2022).
Transitions are continuous-time intensities (per person-year) by sex and single age, turned into
one-year probabilities with the matrix exponential, so that several moves within a year (say mild ->
moderate -> severe) are possible and the probabilities are consistent whatever the rates.

Urban and rural elders have their own onset, worsening and death hazards (multipliers on the national
rates), and onset, worsening and the hazard of death with a loss of capacity change over calendar time:
Hanewald, Li & Shao 2019's time trends by age, sex and residence, plus, in the variants that need it, a
uniform yearly change of onset and worsening fitted to a pace of decline of age-specific severe-or-total
loss (sim/data/disability_trends.json; docs/model.md, 'Disability trend').

Mortality by level is *aligned*: relative hazards by level and residence come from the data, and the
baseline hazard is solved every year so that, for each sex and age, the expected deaths equal those of the
region's life table given the current mix. Capacity and residence therefore decide *who* dies, the life
table *how many*.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.linalg import expm

from sim.data.demography import AGES, N_AGES
from sim.data.levels import INTACT, N_LEVELS
from sim.data.regions import RESIDENCES, RegionData, disability_trends
from sim.model.elders import DEAD, expand_to_cells


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
    """Death probability by group, ``q[sex, age, group]``, consistent with the life table.

    Solves, for every sex and age, the baseline hazard ``h`` such that
    ``sum_g w_g * (1 - exp(-h * HR_g)) = q_table`` (Newton's method; the left side is increasing and
    concave in ``h``, so the iteration from below converges monotonically). ``weights`` is the current
    count of persons by group (level, or residence and level); where a sex-age cell is empty, all groups
    get the table's rate.
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


def onset_change(region: RegionData, trend: str, year: int) -> np.ndarray:
    """Onset and worsening in ``year`` relative to the base year, [residence, sex, age]."""
    variant = disability_trends()[trend]
    per_year = variant["hanewald"] * region.residence.onset_trend + variant["uniform_onset_change"]
    return np.exp(per_year * (year - region.base_year))


@lru_cache(maxsize=1024)
def transition_matrices(data: RegionData, multipliers: TransitionMultipliers, trend: str, year: int) -> np.ndarray:
    """One-year transition matrices ``P[residence, sex, age, from, to]`` of a region under these
    multipliers, for the step from ``year``: cached (a region is known by its identity), since every model
    of a region shares them and calibrations and sweeps build thousands of models."""
    effects = data.residence
    worse = np.triu(np.ones((N_LEVELS, N_LEVELS), dtype=bool), k=1)
    onset = effects.onset * onset_change(data, trend, year)
    rates = scaled_rates(data.transition_rates, multipliers)[None] * np.where(worse, onset[..., None, None], 1.0)
    matrices = annual_transition_probabilities(rates)
    matrices.setflags(write=False)
    return matrices


def death_hazard_ratios(region: RegionData, trend: str, year: int) -> np.ndarray:
    """Hazard of death relative to an intact national elder, [residence, sex, age, level], in ``year``."""
    effects = region.residence
    change = np.exp(disability_trends()[trend]["hanewald"] * effects.death_trend * (year - region.base_year))
    return region.hazard_ratio[None] * effects.death * change


def yearly_outcomes(
    region: RegionData, data, onset_multiplier: float, year: int, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities and outcome codes per cell (residence, sex, age, level) for the year from
    ``year`` to ``year + 1``, given persons by [residence, sex, age, level] at its start; ``data``: the
    scenario's changes to the region's data (mortality and transition multipliers, disability trend);
    ``onset_multiplier``: prevention's lever for the year reached.

    Outcomes per cell: stay at the level, each other level in order, then death. Death probabilities
    are aligned to the life table for the year's midpoint given the current mix of residences and levels;
    prevention scales the onset of capacity loss from the year it reaches."""
    trend = data.disability_trend
    q_table = region.mortality.death_probability(year + 0.5, AGES, data.mortality_multiplier)
    n_res = len(RESIDENCES)

    def by_sex_age(x: np.ndarray) -> np.ndarray:  # [residence, sex, age, level] -> [sex, age, residence x level]
        return np.moveaxis(x, 0, 2).reshape(2, N_AGES, n_res * N_LEVELS)

    hazard = by_sex_age(np.broadcast_to(death_hazard_ratios(region, trend, year), counts.shape))
    q = aligned_death_probability(q_table, hazard, by_sex_age(counts))
    q = np.moveaxis(q.reshape(2, N_AGES, n_res, N_LEVELS), 2, 0)  # [residence, sex, age, level]
    m = TransitionMultipliers(data.onset_multiplier, data.worsening_multiplier, data.recovery_multiplier)
    if onset_multiplier != 1.0:
        m = TransitionMultipliers(m.onset * onset_multiplier, m.worsening, m.recovery)
    transitions = transition_matrices(region, m, trend, year)
    survive = (1.0 - q)[..., None] * transitions  # [residence, sex, age, from, to]
    probs = np.empty((n_res, 2, N_AGES, N_LEVELS, N_LEVELS + 1))
    codes = np.empty((N_LEVELS, N_LEVELS + 1), dtype=np.int8)
    for lvl in range(N_LEVELS):
        order = [lvl] + [k for k in range(N_LEVELS) if k != lvl]
        probs[..., lvl, :N_LEVELS] = survive[..., lvl, order]
        codes[lvl] = order + [DEAD]
    probs[..., N_LEVELS] = q
    thresholds = np.cumsum(probs, axis=-1)
    thresholds[..., -1] = 1.0  # guard against rounding: every draw lands somewhere
    outcomes = np.broadcast_to(codes, probs.shape)
    return expand_to_cells(thresholds), expand_to_cells(outcomes)
