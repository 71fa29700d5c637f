"""Need: the hours of help an elder needs each week, and what each arrangement gives of them.

Need grows with the capacity level, and with dementia at moderate loss or worse (supervision). Paid care
is capped by what the arrangement provides (a care home gives all of it); the family gives what it can of
the rest, and paid hours replace family hours only in part (``informal_substitution``).

``hours_given`` is compiled: the choice evaluates it for six arrangements of every elder reconsidering,
and the hours at home for everyone in need, each year."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from sim.data.levels import MODERATE
from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY_BED, HOME_CARE, INSTITUTION, SETTINGS


class HoursTerms(NamedTuple):
    """What arrangements give: most professional hours a week by setting code, and the family hours one
    paid hour replaces."""

    cap: np.ndarray
    substitution: float


def need_hours(level: np.ndarray, dementia: np.ndarray, p: Parameters) -> np.ndarray:
    """Hours of help per week."""
    return p.need_hours_per_week[level] + np.where(dementia & (level >= MODERATE), p.dementia_extra_hours, 0.0)


def hours_terms(p: Parameters) -> HoursTerms:
    cap = np.zeros(len(SETTINGS))  # no need, family care: no professional hours
    cap[HOME_CARE] = p.home_care_hours_per_week
    cap[DAY_CARE] = p.day_care_hours_per_week
    cap[FAMILY_BED] = p.family_bed_hours_per_week
    cap[INSTITUTION] = np.inf
    return HoursTerms(cap, float(p.informal_substitution))


@numba.njit(cache=True, nogil=True)
def hours_given(need: float, family: float, setting: int, terms: HoursTerms) -> tuple[float, float]:
    """Professional and family hours per week an arrangement gives an elder with ``need`` hours of need
    and a family that can give ``family`` hours."""
    formal = min(terms.cap[setting], need)
    if setting == INSTITUTION:
        return formal, 0.0
    return formal, family_given(need, family, formal, terms.substitution)


@numba.njit(cache=True, nogil=True)
def family_given(need: float, family: float, formal: float, substitution: float) -> float:
    """Hours the family gives alongside ``formal`` paid hours: what it can, less what paid care replaces,
    never more than the need paid care leaves."""
    return min(max(min(family, need) - substitution * formal, 0.0), need - formal)
