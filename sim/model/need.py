"""Need: the hours of help an elder needs each week, and what each arrangement gives of them.

Need grows with the capacity level, and with dementia at moderate loss or worse (supervision). Paid care
is capped by what the arrangement provides (a care home gives all of it); the family gives what it can of
the rest, and paid hours replace family hours only in part (``informal_substitution``)."""

from __future__ import annotations

import numpy as np

from sim.data.levels import MODERATE
from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, SETTINGS


def need_hours(level: np.ndarray, dementia: np.ndarray, p: Parameters) -> np.ndarray:
    """Hours of help per week."""
    return p.need_hours_per_week[level] + np.where(dementia & (level >= MODERATE), p.dementia_extra_hours, 0.0)


def professional_hours_cap(p: Parameters) -> np.ndarray:
    """Most professional hours per week each setting gives, by setting code (a care home: all of the need)."""
    cap = np.zeros(len(SETTINGS))
    cap[[NO_NEED, FAMILY]] = 0.0
    cap[HOME_CARE] = p.home_care_hours_per_week
    cap[DAY_CARE] = p.day_care_hours_per_week
    cap[FAMILY_BED] = p.family_bed_hours_per_week
    cap[INSTITUTION] = np.inf
    return cap


def hours_given(
    need: np.ndarray, family: np.ndarray, setting: np.ndarray | int, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Professional and family hours per week an arrangement (a setting code, or one per elder) gives."""
    setting = np.broadcast_to(setting, need.shape)
    formal = np.minimum(professional_hours_cap(p)[setting], need)
    return formal, np.where(setting == INSTITUTION, 0.0, family_given(need, family, formal, p))


def family_given(need: np.ndarray, family: np.ndarray, formal: np.ndarray, p: Parameters) -> np.ndarray:
    """Hours the family gives alongside ``formal`` paid hours: what it can, less what paid care replaces,
    never more than the need paid care leaves."""
    return np.clip(np.minimum(family, need) - p.informal_substitution * formal, 0.0, need - formal)
