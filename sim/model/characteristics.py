"""Who each elder is, beyond age, sex and capacity: residence, income group, insurance scheme, dementia.

Drawn when an elder enters (the base-year population and each year's new 60-year-olds). Dementia is
kept at its base-year relation to capacity level: each year enough new cases arise at each level.
"""

from __future__ import annotations

import numpy as np

from sim.data.levels import N_LEVELS
from sim.data.parameters import Parameters
from sim.model.elders import Elders


def assign(
    elders: Elders,
    rows: slice,
    baseline: dict,
    destitute_share: float,
    dementia_by_level: np.ndarray,
    p: Parameters,
    rng: np.random.Generator,
) -> None:
    n = rows.stop - rows.start
    urban = rng.random(n) < baseline["urban_share"]["value"]
    elders.urban[rows] = urban
    elders.scheme[rows] = np.where(urban, np.where(rng.random(n) < p.employee_insured_share_urban, 0, 1), 2)

    u = rng.random(n)
    poor = np.where(urban, p.minimum_income_share["urban"], p.minimum_income_share["rural"])
    rest = rng.choice(3, size=n, p=p.income_group_split / p.income_group_split.sum()) + 2
    elders.income[rows] = np.where(u < destitute_share, 0, np.where(u < destitute_share + poor, 1, rest))

    level = elders.level[rows]
    elders.dementia[rows] = rng.random(n) < dementia_by_level[level]


def dementia_by_level(counts_by_level: np.ndarray, p: Parameters) -> np.ndarray:
    """Dementia prevalence at each level: relative risks scaled to the overall prevalence."""
    weights = p.dementia_relative_risk_by_level
    k = p.dementia_prevalence_60plus * counts_by_level.sum() / (weights * counts_by_level).sum()
    return np.minimum(weights * k, 0.95)


def align_dementia(elders: Elders, prevalence: np.ndarray, rng: np.random.Generator) -> None:
    """New dementia cases among the non-demented at each level, up to the level's prevalence."""
    level = elders.level
    persons = np.bincount(level, minlength=N_LEVELS)
    demented = np.bincount(level, weights=elders.dementia, minlength=N_LEVELS)
    free = persons - demented
    short = np.maximum(np.round(prevalence * persons) - demented, 0.0)
    chance = np.divide(short, free, out=np.zeros(N_LEVELS), where=free > 0)
    candidates = np.flatnonzero(~elders.dementia & (chance[level] > 0))
    elders.dementia[candidates[rng.random(candidates.size) < chance[level[candidates]]]] = True


def monthly_income(urban: np.ndarray, income_group: np.ndarray, p: Parameters) -> np.ndarray:
    """Own monthly income, yuan, by residence and income group."""
    return np.where(urban, p.income_monthly["urban"][income_group], p.income_monthly["rural"][income_group])
