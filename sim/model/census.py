"""The year's census: one pass over every elder, once the new 60-year-olds are in, finding who each submodel
works on this year. A city has millions of elders and each submodel needs a few of them (those with a
spouse outside the model, those caring for a family member, those the insurance covers, those at home with
a need, those in a care home), so one compiled pass that sorts everyone into the groups replaces a pass per
submodel. Nothing the submodels change before they use their group changes who is in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.data.levels import MILD, N_LEVELS
from sim.model import rules
from sim.model.elders import FAMILY, FAMILY_BED, INCOME_GROUPS, INSTITUTION, NO_NEED, Elders

SPOUSE_OUTSIDE = -2  # families.SPOUSE_OUTSIDE: married, the spouse under 60 and not an elder agent


@dataclass(frozen=True)
class Census:
    """Rows by group (in row order) and counts; in agents."""

    outside_spouses: np.ndarray  # married to someone under 60 (families: they may die)
    demented_by_level: np.ndarray  # persons with dementia at each level (characteristics: keep the prevalence)
    residents: np.ndarray  # living in a care home
    caring: np.ndarray  # at mild loss or worse, cared for at home by a family whose carer is not trained
    ltci_eligible: int  # qualify for the insurance this year
    ltci_lapsed: np.ndarray  # beneficiaries who no longer qualify
    ltci_waiting: np.ndarray  # qualify and are not yet beneficiaries: they may apply
    candidates: np.ndarray  # at home with a care need (mild loss or worse), or waiting for a public home
    lost: np.ndarray  # at home with neither, still holding an arrangement: they lose it
    entitled: tuple[int, int]  # receiving the nursing subsidy, the old-age allowance
    income_counts: np.ndarray  # everyone, by income group


def take_census(elders: Elders, insurance_terms, take_up: float) -> Census:
    """The census of ``elders`` under the year's insurance (``money.Benefits.terms``) and the nursing
    subsidy's take-up."""
    t = insurance_terms
    found = _census(
        elders.level,
        elders.setting,
        elders.waiting_since,
        elders.income,
        elders.age,
        elders.applies,
        elders.dementia,
        elders.spouse,
        elders.carer_trained,
        elders.scheme,
        elders.urban,
        elders.ltci_from,
        take_up,
        t.active,
        t.coverage,
        t.eligible_from,
    )
    groups, n_eligible, demented, income_counts, subsidy, allowance = found
    outside, residents, caring, lapsed, waiting, candidates, lost = groups
    return Census(
        outside_spouses=outside,
        demented_by_level=demented,
        residents=residents,
        caring=caring,
        ltci_eligible=int(n_eligible),
        ltci_lapsed=lapsed,
        ltci_waiting=waiting,
        candidates=candidates,
        lost=lost,
        entitled=(int(subsidy), int(allowance)),
        income_counts=income_counts,
    )


@numba.njit(cache=True, nogil=True)
def _census(
    level,
    setting,
    waiting_since,
    income,
    age,
    applies,
    dementia,
    spouse,
    carer_trained,
    scheme,
    urban,
    ltci_from,
    take_up,
    active,
    coverage,
    eligible_from,
):  # pragma: no cover - compiled
    n = level.size
    # room for every elder in every group: memory the system hands out only where it is written
    outside, residents, caring = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    lapsed, waiting = np.empty(n, np.int64), np.empty(n, np.int64)
    candidates, lost = np.empty(n, np.int64), np.empty(n, np.int64)
    n_outside = n_residents = n_caring = n_lapsed = n_waiting = n_candidates = n_lost = n_eligible = 0
    demented = np.zeros(N_LEVELS, dtype=np.int64)
    income_counts = np.zeros(len(INCOME_GROUPS), dtype=np.int64)
    subsidy = 0
    allowance = 0
    for i in range(n):
        s = setting[i]
        lvl = level[i]
        income_counts[income[i]] += 1
        if dementia[i]:
            demented[lvl] += 1
        subsidy += rules.nursing_subsidy_due(income[i], lvl, applies[i], take_up)
        allowance += rules.old_age_allowance_due(age[i])
        if spouse[i] == SPOUSE_OUTSIDE:
            outside[n_outside] = i
            n_outside += 1
        if lvl >= MILD and s >= FAMILY and s <= FAMILY_BED and not carer_trained[i]:
            caring[n_caring] = i
            n_caring += 1
        if active and rules.eligible(active, coverage, eligible_from, scheme[i], urban[i], lvl):
            n_eligible += 1
            if ltci_from[i] == 0:
                waiting[n_waiting] = i
                n_waiting += 1
        elif ltci_from[i] != 0:
            lapsed[n_lapsed] = i
            n_lapsed += 1
        if s == INSTITUTION:
            residents[n_residents] = i
            n_residents += 1
        elif lvl >= MILD or waiting_since[i] > 0:
            candidates[n_candidates] = i
            n_candidates += 1
        elif s != NO_NEED:
            lost[n_lost] = i
            n_lost += 1
    groups = (
        outside[:n_outside].copy(),
        residents[:n_residents].copy(),
        caring[:n_caring].copy(),
        lapsed[:n_lapsed].copy(),
        waiting[:n_waiting].copy(),
        candidates[:n_candidates].copy(),
        lost[:n_lost].copy(),
    )
    return groups, n_eligible, demented, income_counts, subsidy, allowance
