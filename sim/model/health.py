"""Capacity levels after GB/T 42195-2022 and the yearly chances of moving between them or dying.

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

import numpy as np
from scipy.linalg import expm

from sim.data.levels import INTACT, N_LEVELS


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
