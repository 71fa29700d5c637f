"""Persons and agents: at ``scale`` persons per agent, every count the scenario gives in persons (beds,
places, trainees, new 60-year-olds) becomes a whole number of agents with the right expectation."""

from __future__ import annotations

import numpy as np


def stochastic_round(expected: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers of agents with the right expectation: floor, plus one with the fractional chance."""
    floor = np.floor(expected)
    return (floor + (rng.random(expected.shape) < expected - floor)).astype(np.int64)


def agents(persons: float, scale: float, rng: np.random.Generator) -> int:
    """One count of persons as agents, rounded stochastically."""
    return int(stochastic_round(np.array([persons / scale]), rng)[0])
