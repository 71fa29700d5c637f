"""Persons and agents: at ``scale`` persons per agent, every count the scenario gives in persons (beds,
places, trainees, new 60-year-olds) becomes a whole number of agents with the right expectation."""

from __future__ import annotations

import numpy as np


def stochastic_round(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers of agents with the right expectation: floor, plus one with the fractional chance."""
    floor = np.floor(expected)
    return (floor + (rng.random(expected.shape) < expected - floor)).astype(np.int64)


def round_stochastic(expected: float, rng: np.random.Generator) -> int:
    """One whole number with the right expectation."""
    return int(stochastic_round(np.array([expected]), rng)[0])


def agents(persons: float, scale: float, rng: np.random.Generator) -> int:
    """One count of persons as agents, rounded stochastically."""
    return round_stochastic(persons / scale, rng)
