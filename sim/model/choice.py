"""Care choice: each elder reconsidering their care picks one of six arrangements by a multinomial logit.

Utility = the arrangement's constant (a strong preference for home) + a cost term (net monthly cost over
monthly income) + an unmet-need term (share of need the arrangement leaves unmet) + inertia for last
year's arrangement. Ruled out: what costs more than ``max_cost_to_income`` times income, family care alone
once the family is past its strain limit, day care at total loss or when no place is left, a family bed
when none is left, homes of an ownership the region has none of, private homes for the destitute.
"""

from __future__ import annotations

import numba
import numpy as np

from sim.data.levels import TOTAL
from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, Elders

OPTIONS = ("family", "home_care", "day_care", "family_bed", "public_home", "private_home")
O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC, O_PRIVATE = range(len(OPTIONS))
OPTION_SETTING = np.array([FAMILY, HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION, INSTITUTION])
HOME_OPTIONS = (O_PUBLIC, O_PRIVATE)  # the options that are a care home
SETTING_OPTION = np.array([O_FAMILY, O_FAMILY, O_HOME, O_DAY, O_BED, O_PUBLIC])  # by setting code


def utilities(
    net: np.ndarray,
    income: np.ndarray,
    unmet_share: np.ndarray,
    current: np.ndarray | None,
    p: Parameters,
) -> np.ndarray:
    """[elder, option] utilities; ``current`` is each elder's option last year (-1 none), or None for no
    inertia (the base year, when everyone chooses afresh)."""
    constants = np.array([p.choice_constant[o] for o in OPTIONS])
    utility = constants + p.choice_cost * net / income[:, None] + p.choice_unmet * unmet_share
    if current is not None:
        keeps = current >= 0
        utility[keeps, current[keeps]] += p.choice_inertia
    return utility


def current_option(elders: Elders, rows: np.ndarray) -> np.ndarray:
    """Each elder's arrangement as an option (-1 none; on the public waiting list: a public home)."""
    current = SETTING_OPTION[elders.setting[rows]]
    current[elders.setting[rows] == NO_NEED] = -1
    current[elders.waiting_since[rows] > 0] = O_PUBLIC
    return current


def ruled_out(
    elders: Elders,
    rows: np.ndarray,
    net: np.ndarray,
    income: np.ndarray,
    places_left: dict[int, int],
    ownerships: tuple[bool, bool],
    destitute: np.ndarray,
    p: Parameters,
) -> np.ndarray:
    """[elder, option] True where the option cannot be chosen. ``places_left``: family beds and day-care
    places still free; ``ownerships``: whether the region has public and other homes."""
    out = net > p.max_cost_to_income * income[:, None]
    out[:, O_FAMILY] = elders.burden[rows] > p.burden_limit
    out[:, O_DAY] |= (elders.level[rows] == TOTAL) | (places_left[O_DAY] <= 0)
    out[:, O_BED] |= places_left[O_BED] <= 0
    has_public, has_other = ownerships
    out[:, O_PUBLIC] |= not has_public
    out[:, O_PRIVATE] |= (not has_other) | destitute
    return out


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
