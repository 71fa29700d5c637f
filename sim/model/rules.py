"""Policy rules that several submodels apply, each defined once: who is poor, who is unable to care for
themselves, who gets the old-age allowance, who the insurance covers and pays, who comes first for a
public bed, and which arrangements home-care workers deliver."""

from __future__ import annotations

import numba
import numpy as np

from sim.catalogues.levers import lever_catalogue
from sim.data.levels import LEVELS, MODERATE, SEVERE
from sim.model.elders import DESTITUTE, EMPLOYEE, FAMILY_BED, HOME_CARE, MINIMUM_INCOME

OLD_AGE_ALLOWANCE_AGE = 80  # 高龄津贴: everyone aged 80 and over
# the insurance's choices, as the lever catalogue declares them: who it covers (and who pays its premium), and
# the lowest level it pays (a level of the national standard by name)
COVERAGE = tuple(lever_catalogue()["policy.insurance.coverage"].choices)
URBAN_EMPLOYEES, URBAN, EVERYONE = (COVERAGE.index(c) for c in ("urban_employees", "urban", "all"))
ELIGIBLE_FROM = {name: LEVELS.index(name) for name in lever_catalogue()["policy.insurance.eligible_from"].choices}
RESPITE_FROM = SEVERE  # respite days go to families caring for an elder at severe loss or worse


# The rules that compiled passes also apply are compiled, so that one definition serves arrays (from
# Python) and single elders (inside a compiled loop).
@numba.njit(cache=True, nogil=True)
def destitute(income: np.ndarray) -> np.ndarray:
    """Under destitute support (特困): the government pays their care home."""
    return income == DESTITUTE


@numba.njit(cache=True, nogil=True)
def poor(income: np.ndarray) -> np.ndarray:
    """Destitute or in a minimum-income (低保) household."""
    return income <= MINIMUM_INCOME


@numba.njit(cache=True, nogil=True)
def unable_to_care_for_self(level: np.ndarray) -> np.ndarray:
    """'Unable to care for themselves' (生活不能自理) of the plans and statistics, read as GB/T levels
    moderate or worse."""
    return level >= MODERATE


@numba.njit(cache=True, nogil=True)
def poor_and_disabled(income: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Who may receive the nursing subsidy (护理补贴) and comes second for a public bed."""
    return poor(income) & unable_to_care_for_self(level)


@numba.njit(cache=True, nogil=True)
def nursing_subsidy_due(income: np.ndarray, level: np.ndarray, applies: np.ndarray, take_up: float) -> np.ndarray:
    """Who receives the nursing subsidy: the poor and disabled who apply (their propensity below the take-up)."""
    return poor_and_disabled(income, level) & (applies < take_up)


@numba.njit(cache=True, nogil=True)
def old_age_allowance_due(age: np.ndarray) -> np.ndarray:
    return age >= OLD_AGE_ALLOWANCE_AGE


def public_priority(income: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Public-home priority class: 0 destitute, 1 poor and disabled, 2 everyone else."""
    return np.where(destitute(income), 0, np.where(poor_and_disabled(income, level), 1, 2))


@numba.njit(cache=True, nogil=True)
def covered(coverage: int, scheme: int, urban: bool) -> bool:
    """Whether the insurance covers an elder: ``coverage`` is a position in COVERAGE (employees' medical
    insurance 职工医保, urban residents, or everyone)."""
    if coverage == URBAN_EMPLOYEES:
        return scheme == EMPLOYEE
    if coverage == URBAN:
        return urban
    return True


@numba.njit(cache=True, nogil=True)
def eligible(active: bool, coverage: int, eligible_from: int, scheme: int, urban: bool, level: int) -> bool:
    """Whether the insurance pays an elder this year: in force, covered, at or above the eligible level."""
    return active and covered(coverage, scheme, urban) and level >= eligible_from


def contributors(coverage: str, population_all_ages: float, urban_share: float, employee_share: float) -> float:
    """Persons of all ages who pay the premium: the covered population of the base year."""
    share = {"urban_employees": employee_share, "urban": urban_share, "all": 1.0}[coverage]
    return population_all_ages * share


@numba.njit(cache=True, nogil=True)
def visited(setting):
    """Whether a setting (or each of an array of them) is one home-care workers deliver."""
    return (setting == HOME_CARE) | (setting == FAMILY_BED)
