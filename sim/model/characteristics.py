"""Who each elder is, beyond residence, age, sex and capacity: income group, insurance scheme, dementia.

Drawn when an elder enters (the base-year population and each year's new 60-year-olds; residence is
drawn with the level, in ``entrants``): urban elders in employees' medical insurance with
``employee_insured_share_urban``, the rest in the residents' schemes; destitute with the region's share,
in a minimum-income household with ``minimum_income_share``, the others low, middle or high income by
``income_group_split``; dementia by level; a propensity to apply for means-tested subsidies (uniform: the
elder applies when it is below the take-up). Dementia is kept at its base-year relation to capacity level:
each year enough new cases arise at each level.
"""

from __future__ import annotations

import numba
import numpy as np

from sim.data.levels import N_LEVELS
from sim.data.parameters import Parameters
from sim.model.elders import (
    DESTITUTE,
    EMPLOYEE,
    LOW,
    MINIMUM_INCOME,
    RURAL_RESIDENT,
    URBAN_RESIDENT,
    Elders,
)


def assign(
    elders: Elders,
    rows: slice,
    destitute_share: float,
    dementia_by_level: np.ndarray,
    p: Parameters,
    rng: np.random.Generator,
) -> None:
    """Insurance scheme, income group and dementia of new elders (``rows``)."""
    rest_cdf = np.cumsum(p.income_group_split)
    rest_cdf /= rest_cdf[-1]  # ends at 1 exactly, so every draw lands in a group
    _draw(
        float(p.employee_insured_share_urban),
        float(destitute_share),
        float(p.minimum_income_share["urban"]),
        float(p.minimum_income_share["rural"]),
        rest_cdf,
        dementia_by_level,
        elders.level[rows],
        elders.urban[rows],
        elders.scheme[rows],
        elders.income[rows],
        elders.dementia[rows],
        elders.applies[rows],
        rng,
    )


@numba.njit(cache=True, nogil=True)
def _draw(
    employee_share,
    destitute_share,
    poor_urban,
    poor_rural,
    rest_cdf,
    dementia,
    level,
    urban,
    scheme,
    income,
    demented,
    applies,
    rng,
):  # pragma: no cover - compiled
    # one pass with the draws each elder needs (a NumPy version draws five arrays and combines them: 3x slower)
    for i in range(level.size):
        if urban[i]:
            scheme[i] = EMPLOYEE if rng.random() < employee_share else URBAN_RESIDENT
        else:
            scheme[i] = RURAL_RESIDENT
        u = rng.random()
        if u < destitute_share:
            income[i] = DESTITUTE
        elif u < destitute_share + (poor_urban if urban[i] else poor_rural):
            income[i] = MINIMUM_INCOME
        else:
            income[i] = LOW + np.searchsorted(rest_cdf, rng.random(), side="right")
        demented[i] = rng.random() < dementia[level[i]]
        applies[i] = rng.random()


def dementia_by_level(counts_by_level: np.ndarray, p: Parameters) -> np.ndarray:
    """Dementia prevalence at each level: relative risks scaled to the overall prevalence."""
    weights = p.dementia_relative_risk_by_level
    k = p.dementia_prevalence_60plus * counts_by_level.sum() / (weights * counts_by_level).sum()
    return np.minimum(weights * k, p.dementia_prevalence_max)


def align_dementia(elders: Elders, demented: np.ndarray, prevalence: np.ndarray, rng: np.random.Generator) -> None:
    """New dementia cases among the non-demented at each level (``demented``: the census's count by level),
    as many as keep the level's prevalence (its share at the base year), picked at random."""
    persons = elders.counts().sum(axis=(0, 1, 2))
    new_cases = np.maximum(np.round(prevalence * persons) - demented, 0).astype(np.int64)
    free = persons - demented
    picks = [np.sort(rng.choice(free[lvl], size=new_cases[lvl], replace=False)) for lvl in range(N_LEVELS)]
    _mark(elders.level, elders.dementia, np.concatenate(picks), np.cumsum([0, *new_cases]))


@numba.njit(cache=True, nogil=True)
def _mark(level, dementia, picks, start):  # pragma: no cover - compiled
    """Mark new cases: ``picks[start[l]:start[l + 1]]`` are the (sorted) positions among the non-demented
    at level ``l``, counted in row order."""
    seen = np.zeros(N_LEVELS, dtype=np.int64)
    next_pick = start[:-1].copy()
    for i in range(level.size):
        if dementia[i]:
            continue
        lvl = level[i]
        if next_pick[lvl] < start[lvl + 1] and picks[next_pick[lvl]] == seen[lvl]:
            dementia[i] = True
            next_pick[lvl] += 1
        seen[lvl] += 1


def monthly_income(urban: np.ndarray, income_group: np.ndarray, p: Parameters) -> np.ndarray:
    """Own monthly income, yuan, by residence and income group."""
    return np.where(urban, p.income_monthly["urban"][income_group], p.income_monthly["rural"][income_group])
