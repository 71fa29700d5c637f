"""Ages, deaths and life tables: the demographic arithmetic shared by data building and the model.

Conventions used everywhere in the package:
- Ages are completed years. Agents older than ``AGE_MAX`` are kept at ``AGE_MAX`` ("110 and over").
- A year's result describes the population at the end of that year (for the 2020 base year: the census,
  1 November 2020). The step from year ``t`` to ``t + 1`` uses rates for calendar time ``t + 0.5``.
- Death probabilities come from central death rates as ``q = 1 - exp(-m)`` (constant hazard in the year).
"""

from __future__ import annotations

import numpy as np

AGE_MIN = 60  # the model's population: everyone aged 60 and over
AGE_MAX = 110  # oldest single age tracked; older agents are pooled into it
AGES = np.arange(AGE_MIN, AGE_MAX + 1)
N_AGES = AGES.size
SEXES = ("male", "female")

# Share of an open-ended top age group (e.g. 100+) living at each further single year is assumed to fall
# geometrically by this ratio per year of age. Assumption: a one-year survival of about 0.6 matches the
# WPP2024 death rates at 100+ (m = 0.55-0.82, so exp(-m) = 0.44-0.58) plus the shrinking cohort size.
OPEN_GROUP_RATIO = 0.6


def parse_age_group(label: str) -> tuple[int, int | None]:
    """'60-64' -> (60, 65); '100+' -> (100, None); '0' -> (0, 1)."""
    label = label.strip()
    if label.endswith("+"):
        return int(label[:-1]), None
    if "-" in label:
        lo, hi = label.split("-")
        return int(lo), int(hi) + 1
    return int(label), int(label) + 1


def split_age_groups(groups: list[tuple[int, int | None, float]], top: int = AGE_MAX) -> np.ndarray:
    """Split grouped counts into single years from the first group's lower bound to ``top`` inclusive.

    Closed groups are split by a monotone (PCHIP) interpolation of the cumulative count at the group
    boundaries, which keeps every group total exact and avoids steps at the boundaries. An open top
    group is spread over its ages up to ``top`` with geometrically falling counts (``OPEN_GROUP_RATIO``).
    """
    groups = sorted(groups)
    start = groups[0][0]
    out = np.zeros(top - start + 1)
    closed = [(lo, hi, n) for lo, hi, n in groups if hi is not None]
    bounds = [closed[0][0]] + [hi for _, hi, _ in closed]
    cumulative = np.concatenate([[0.0], np.cumsum([n for _, _, n in closed])])
    if len(closed) >= 2:
        edges = np.arange(bounds[0], bounds[-1] + 1)
        out[: edges.size - 1] = np.diff(pchip(np.asarray(bounds, dtype=float), cumulative, edges.astype(float)))
    else:
        lo, hi, n = closed[0]
        out[: hi - lo] = n / (hi - lo)
    for lo, hi, n in groups:
        if hi is None:
            weights = OPEN_GROUP_RATIO ** np.arange(top - lo + 1)
            out[lo - start :] += n * weights / weights.sum()
    return out


def pchip(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The monotone piecewise cubic (PCHIP, Fritsch and Carlson) through points ``(x, y)`` at ``at``,
    computed as scipy.interpolate.PchipInterpolator computes it (its derivatives, its polynomial
    coefficients and their evaluation), so that results do not change; written out here because
    importing scipy.interpolate costs a third of a second of every run's start."""
    h = np.diff(x)
    m = np.diff(y) / h
    d = np.zeros_like(y)
    if y.size == 2:
        d[:] = m[0]
    else:
        sign = np.sign(m)
        flat = (sign[1:] != sign[:-1]) | (m[1:] == 0) | (m[:-1] == 0)
        w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            harmonic = (w1 / m[:-1] + w2 / m[1:]) / (w1 + w2)
        d[1:-1][~flat] = 1.0 / harmonic[~flat]
        d[0] = _pchip_edge(h[0], h[1], m[0], m[1])
        d[-1] = _pchip_edge(h[-1], h[-2], m[-1], m[-2])
    t = (d[:-1] + d[1:] - 2 * m) / h
    coefficients = (t / h, (m - d[:-1]) / h - t, d[:-1], y[:-1])  # of s**3, s**2, s, 1 on each interval
    i = np.clip(np.searchsorted(x, at, side="right") - 1, 0, h.size - 1)
    s = at - x[i]
    out = np.zeros_like(s)
    power = np.ones_like(s)
    for c in reversed(coefficients):  # the sum from the constant up, as scipy's PPoly evaluates it
        out = out + c[i] * power
        power = power * s
    return out


def _pchip_edge(h0: float, h1: float, m0: float, m1: float) -> float:
    """One-sided three-point derivative at an end, kept monotone (as scipy's PCHIP does)."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > 3 * abs(m0):
        return 3 * m0
    return d


class MortalityTable:
    """Central death rates by sex, 5-year age group and 5-year period, as published by UN WPP.

    The rate of a 5-year age group applies to every single age in it, the open group's rate to all ages
    above it. Between period midpoints (2017.5, 2022.5, ...) rates are interpolated linearly in time and
    held constant before the first and after the last midpoint.
    """

    def __init__(self, age_starts: np.ndarray, period_mids: np.ndarray, mx: np.ndarray):
        # mx has shape (2 sexes, age groups, periods)
        self.age_starts = np.asarray(age_starts)
        self.period_mids = np.asarray(period_mids, dtype=float)
        self.mx = np.asarray(mx, dtype=float)

    def rates(self, time: float, ages: np.ndarray, multiplier: float = 1.0) -> np.ndarray:
        """Central death rates m(sex, age) at calendar ``time`` for the given single ages."""
        t = np.clip(time, self.period_mids[0], self.period_mids[-1])
        j = min(np.searchsorted(self.period_mids, t, side="right") - 1, self.period_mids.size - 2)
        w = (t - self.period_mids[j]) / (self.period_mids[j + 1] - self.period_mids[j])
        by_group = (1 - w) * self.mx[:, :, j] + w * self.mx[:, :, j + 1]
        group = np.searchsorted(self.age_starts, ages, side="right") - 1
        if (group < 0).any():
            raise ValueError(f"no death rates below age {self.age_starts[0]}")
        return by_group[:, group] * multiplier

    def death_probability(self, time: float, ages: np.ndarray, multiplier: float = 1.0) -> np.ndarray:
        """One-year death probability q(sex, age) = 1 - exp(-m)."""
        return 1.0 - np.exp(-self.rates(time, ages, multiplier))


def life_expectancy(q: np.ndarray) -> np.ndarray:
    """Life expectancy at the first age of ``q`` (last axis: consecutive single ages).

    Deaths fall mid-year on average; the last age is open-ended with constant ``q``, so its remaining
    person-years are ``(1 - q/2) / q`` per survivor. Works on any leading shape (e.g. sexes).
    """
    q = np.clip(np.asarray(q, dtype=float), 1e-12, 1.0)
    survivors = np.concatenate([np.ones(q.shape[:-1] + (1,)), np.cumprod(1.0 - q[..., :-1], axis=-1)], axis=-1)
    years = survivors[..., :-1] * (1.0 - q[..., :-1] / 2.0)
    open_years = survivors[..., -1] * (1.0 - q[..., -1] / 2.0) / q[..., -1]
    return years.sum(axis=-1) + open_years
