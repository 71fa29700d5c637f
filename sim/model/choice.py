"""Care choice: each elder reconsidering their care picks one of six arrangements by a multinomial logit.

Utility = the arrangement's constant (a strong preference for home) + a cost term (net monthly cost over
monthly income) + an unmet-need term (share of need the arrangement leaves unmet) + inertia for last
year's arrangement. Ruled out: what costs more than ``max_cost_to_income`` times income, family care alone
once the family is past its strain limit, day care at total loss or when no place is left, a family bed
when none is left, homes of an ownership the region has none of, private homes for the destitute.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from sim.data.levels import TOTAL
from sim.data.parameters import Parameters
from sim.model.elders import NO_NEED, Elders
from sim.model.need import HoursTerms, hours_given
from sim.model.options import N_OPTIONS, O_DAY, O_FAMILY, O_PRIVATE, O_PUBLIC, OPTION_SETTING, OPTIONS, SETTING_OPTION


class ChoiceTerms(NamedTuple):
    """The logit's weights and the rules that rule arrangements out (care_parameters.yaml)."""

    constant: np.ndarray  # by option
    cost: float  # per unit of net monthly cost over monthly income
    unmet: float  # per unit of the share of need left unmet
    inertia: float  # for last year's arrangement
    max_cost_to_income: float
    burden_limit: float


def choice_terms(p: Parameters) -> ChoiceTerms:
    return ChoiceTerms(
        np.array([p.choice_constant[o] for o in OPTIONS]),
        float(p.choice_cost),
        float(p.choice_unmet),
        float(p.choice_inertia),
        float(p.max_cost_to_income),
        float(p.burden_limit),
    )


def current_option(elders: Elders, rows: np.ndarray) -> np.ndarray:
    """Each elder's arrangement as an option (-1 none; on the public waiting list: a public home)."""
    current = SETTING_OPTION[elders.setting[rows]]
    current[elders.setting[rows] == NO_NEED] = -1
    current[elders.waiting_since[rows] > 0] = O_PUBLIC
    return current


@numba.njit(cache=True, nogil=True)
def utilities(
    need: np.ndarray,
    family: np.ndarray,
    net: np.ndarray,
    destitute: np.ndarray,
    income: np.ndarray,
    current: np.ndarray,
    burden: np.ndarray,
    level: np.ndarray,
    available: np.ndarray,
    hours: HoursTerms,
    terms: ChoiceTerms,
) -> np.ndarray:  # pragma: no cover - compiled
    """[elder, option] utilities, -inf where the option is ruled out. Per elder: ``need`` and ``family``
    hours a week, the monthly ``net`` price of each option (``prices.net_prices``), ``destitute``, monthly
    ``income`` (public cash included), ``current`` option (-1 none: no inertia), family ``burden``, capacity
    ``level``; ``available``: whether each option has places (or homes of its kind) at all."""
    n = need.size
    utility = np.empty((n, N_OPTIONS))
    for i in range(n):
        for o in range(N_OPTIONS):
            formal, informal = hours_given(need[i], family[i], OPTION_SETTING[o], hours)
            unmet_share = max(need[i] - informal - formal, 0.0) / need[i] if need[i] > 0 else 0.0
            u = terms.constant[o] + terms.cost * net[i, o] / income[i] + terms.unmet * unmet_share
            if o == current[i]:
                u += terms.inertia
            if o == O_FAMILY:
                # the family alone costs nothing: only its strain rules it out (compared at the precision
                # strain is stored in, as everywhere else)
                out = burden[i] > np.float32(terms.burden_limit)
            else:
                out = net[i, o] > terms.max_cost_to_income * income[i] or not available[o]
                out = out or (o == O_DAY and level[i] == TOTAL) or (o == O_PRIVATE and destitute[i])
            utility[i, o] = -np.inf if out else u
    return utility


def sample_logit(utility: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row from the logit probabilities ``exp(v) / sum(exp(v))`` (-inf: not available).
    A row with nothing available gets family care: the last resort when no service can be had."""
    return _sample_logit(np.ascontiguousarray(utility), rng.random(utility.shape[0]))


@numba.njit(cache=True, nogil=True)
def _sample_logit(utility, u):  # pragma: no cover - compiled
    # A row loop: the NumPy version (exp, cumsum, compare over rows x options) is about 20 times slower.
    n, k = utility.shape
    out = np.empty(n, dtype=np.int64)
    weights = np.empty(k)
    for i in range(n):
        top = -np.inf
        for j in range(k):
            top = max(top, utility[i, j])
        if top == -np.inf:
            out[i] = O_FAMILY
            continue
        total = 0.0
        for j in range(k):
            weights[j] = np.exp(utility[i, j] - top)
            total += weights[j]
        target = u[i] * total
        j = 0
        acc = weights[0]
        while acc <= target and j < k - 1:
            j += 1
            acc += weights[j]
        out[i] = j
    return out
