"""Families: the spouse and children around each elder, the care hours they can give, and their strain.

- A married elder's spouse is another elder agent when both are 60+ (linked by row, kept up to date as
  the dead are removed, which also widows the survivor); a married elder
  whose spouse is not among the elders (under 60) has ``spouse = -2`` and is cared for by an able spouse.
- The nearest child lives in the same home, the neighbourhood, the county, farther away, or there is
  none; new 60-year-olds live with a child less often each year (household shrinkage).
- Family hours come from an able spouse (intact or mild) and the nearest child; trained carers sustain
  more. Strain (hours given / hours the family can give) accumulates; beyond a limit the family stops
  caring alone and the elder needs formal care.
"""

from __future__ import annotations

from functools import cache

import numba
import numpy as np

from sim.data.demography import AGE_MAX, AGE_MIN
from sim.data.levels import MILD
from sim.data.parameters import Parameters
from sim.data.regions import load_region
from sim.model.elders import Elders

CHILD_PLACES = ("none", "farther", "county", "neighbourhood", "coresident")
NONE, FARTHER, COUNTY, NEIGHBOURHOOD, CORESIDENT = range(5)
SPOUSE_OUTSIDE = -2  # married, spouse under 60 and so not an elder agent


def married_probability(sex: np.ndarray, age: np.ndarray, p: Parameters) -> np.ndarray:
    """Chance of being married (a living spouse), by sex and age."""
    return married_by_age(p)[sex, np.minimum(age, AGE_MAX) - AGE_MIN]


def married_by_age(p: Parameters) -> np.ndarray:
    """[sex, age 60..110] married shares: a line falling with age, at least ``married_share_min``, through
    the census 60-64 share at the mean age of China's 60-64 year-olds (so that their average is the census
    share: the famine cohorts make that mean age 62.3, not 62), its slope such that the 65+ average over
    China's 2020 age structure is the census 65+ share (the census gives these two averages only)."""
    persons = load_region("china").base_population()
    out = np.empty((2, AGE_MAX - AGE_MIN + 1))
    for s, name in enumerate(("male", "female")):
        young, mean65 = p.married_share_60_64[name], p.married_share_65plus[name]
        pivot = float((persons[s, :5] * np.arange(AGE_MIN, AGE_MIN + 5)).sum() / persons[s, :5].sum())
        slope = _married_slope(young, mean65, p.married_share_min, pivot, tuple(persons[s, 5:]))
        out[s] = _married_line(young, slope, p.married_share_min, pivot, AGE_MIN)
    return out


def _married_line(young: float, slope: float, floor: float, pivot: float, first_age: int) -> np.ndarray:
    return np.clip(young - slope * (np.arange(first_age, AGE_MAX + 1) - pivot), floor, 1.0)


@cache
def _married_slope(young: float, mean65: float, floor: float, pivot: float, persons: tuple) -> float:
    """The yearly fall that gives the 65+ average ``mean65``: the average falls as the slope rises, so a
    bisection finds it (0 if even a flat line is not above it)."""
    weights = np.asarray(persons) / np.sum(persons)

    def mean(slope: float) -> float:
        return float((_married_line(young, slope, floor, pivot, 65) * weights).sum())

    if mean(0.0) <= mean65:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean(mid) > mean65 else (lo, mid)
    return (lo + hi) / 2


def coresident_share(year: int, base_year: int, p: Parameters) -> float:
    return p.children_location["coresident"] * (1.0 + p.coresidence_trend) ** (year - base_year)


def form_families(
    elders: Elders, rows: slice, year: int, base_year: int, p: Parameters, rng: np.random.Generator
) -> None:
    """Give new elders (``rows``) a marital status, spouse links among themselves and a nearest child."""
    sex, age = elders.sex[rows], elders.age[rows]
    married = rng.random(sex.size) < married_probability(sex, age, p)
    row = np.arange(rows.start, rows.stop)
    spouse = np.full(sex.size, -1, dtype=np.int64)
    spouse[married] = SPOUSE_OUTSIDE
    # pair married men and women in order of age: husbands are matched to wives of similar rank
    men = np.flatnonzero(married & (sex == 0))
    women = np.flatnonzero(married & (sex == 1))
    men = men[np.argsort(-age[men], kind="stable")]
    women = women[np.argsort(-age[women], kind="stable")]
    k = min(men.size, women.size)
    spouse[men[:k]] = row[women[:k]]
    spouse[women[:k]] = row[men[:k]]
    elders.spouse[rows] = spouse

    loc = p.children_location
    shares = np.array(
        [loc["none"], loc["farther"], loc["county"], loc["neighbourhood"], coresident_share(year, base_year, p)]
    )
    cdf = np.cumsum(shares)
    cdf /= cdf[-1]  # ends at 1 exactly, so every draw lands on a place
    elders.children[rows] = np.searchsorted(cdf, rng.random(sex.size), side="right")
    elders.child_working[rows] = rng.random(sex.size) < p.coresident_child_working


def update_outside_spouses(
    elders: Elders, outside: np.ndarray, q: np.ndarray, p: Parameters, rng: np.random.Generator
) -> None:
    """Spouses outside the model (of the rows ``outside``, the census's) die too, at the death rate
    ``q[sex, age - 60]`` of the other sex ``outside_spouse_age_gap`` years younger (at least age 60's rate).
    Spouses among the elders are widowed as the dead are removed."""
    ages = np.clip(elders.age[outside] - int(p.outside_spouse_age_gap) - 60, 0, q.shape[1] - 1)
    gone = outside[rng.random(outside.size) < q[1 - elders.sex[outside], ages]]
    elders.spouse[gone] = -1


def family_hours(elders: Elders, rows: np.ndarray, p: Parameters) -> np.ndarray:
    """Hours of care per week the family of each elder in ``rows`` can give: an able spouse's (alive, at
    most mild loss) and the nearest child's, more once a carer is trained."""
    h = p.family_hours_per_week
    by_place = np.zeros(len(CHILD_PLACES))
    by_place[[FARTHER, COUNTY, NEIGHBOURHOOD, CORESIDENT]] = (
        h["farther"],
        h["county"],
        h["neighbourhood"],
        h["coresident_not_working"],
    )
    return _family_hours(
        rows,
        elders.spouse,
        elders.level,
        elders.children,
        elders.child_working,
        elders.carer_trained,
        float(h["spouse"]),
        by_place,
        float(h["coresident_working"]),
        1.0 + float(p.family_training_uplift),
    )


@numba.njit(cache=True, nogil=True)
def _family_hours(
    rows, spouse, level, children, child_working, trained, spouse_hours, by_place, coresident_working, uplift
):  # pragma: no cover - compiled
    out = np.empty(rows.size)
    for k in range(rows.size):
        i = rows[k]
        s = spouse[i]
        able = s == SPOUSE_OUTSIDE or (s >= 0 and level[s] <= MILD)
        child = children[i]
        by_child = coresident_working if child == CORESIDENT and child_working[i] else by_place[child]
        out[k] = ((spouse_hours if able else 0.0) + by_child) * (uplift if trained[i] else 1.0)
    return out


def accumulate_strain(
    burden: np.ndarray, given: np.ndarray, capacity: np.ndarray, respite_days: np.ndarray, p: Parameters
) -> np.ndarray:
    """Families' strain carried into next year (a new array, at the precision strain is stored in): last
    year's ``burden`` carried forward, plus this year's (hours ``given`` over the hours the family can give);
    respite days take time off the year's strain."""
    return _strain(burden, given, capacity, respite_days, float(p.burden_decay))


@numba.njit(cache=True, nogil=True)
def _strain(burden, given, capacity, respite_days, decay):  # pragma: no cover - compiled
    out = np.empty(burden.size, dtype=np.float32)
    for k in range(burden.size):
        strain = given[k] / capacity[k] if capacity[k] > 0 else 0.0
        strain *= 1.0 - min(respite_days[k], 365.0) / 365.0
        out[k] = np.float32(decay * burden[k] + strain)
    return out


def train_carers(elders: Elders, caring: np.ndarray, n: int) -> int:
    """Train carers in the ``n`` most strained of the families ``caring`` (the census's: caring at home for an
    elder at mild loss or worse, their carer not yet trained); returns how many."""
    pick = caring[top(elders.burden[caring], n)]
    elders.carer_trained[pick] = True
    return pick.size


def top(values: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest values, largest first, ties in order of position (a stable sort of
    the few that can be among them rather than of all)."""
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    if n >= values.size:
        return np.argsort(-values, kind="stable")
    threshold = np.partition(values, values.size - n)[values.size - n]
    few = np.flatnonzero(values >= threshold)
    return few[np.argsort(-values[few], kind="stable")][:n]
