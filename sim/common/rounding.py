"""Whole numbers from expected or proportional amounts: persons to agents, beds and workers shared out."""

from __future__ import annotations

import numpy as np


def stochastic_round(expected, rng: np.random.Generator):
    """Whole numbers with the right expectation: floor, plus one with the fractional chance. An int for
    one number, an int64 array for an array."""
    floor = np.floor(expected)
    whole = (floor + (rng.random(np.shape(expected)) < expected - floor)).astype(np.int64)
    return int(whole) if whole.ndim == 0 else whole


def round_to_total(exact: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers near ``exact`` adding up to ``total`` (at most the sum of their ceilings): each the
    floor, and one more for the largest remainders (ties in order of position)."""
    whole = np.floor(exact).astype(np.int64)
    short = total - int(whole.sum())
    if short > 0:
        whole[np.argsort(-(exact - whole), kind="stable")[:short]] += 1
    return whole
