"""Random streams: each replicate has its own streams of the scenario's seed, whichever worker runs it, and
draws its own member of the calibration's ensemble."""

from __future__ import annotations

import numpy as np


def replicate_rng(seed: int, replicate: int, stream: int = 0) -> np.random.Generator:
    """Replicate r always gets the same streams of the seed, whichever worker runs it. Stream 0 drives
    the population (deaths, capacity, entrants), stream 1 the care system, so that two scenarios that
    differ only in policy share the same population trajectories (common random numbers)."""
    key = (replicate,) if stream == 0 else (replicate, stream)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def ensemble_member(seed: int, replicate: int, members: int) -> int:
    """The member of a calibration's ensemble that replicate r uses: a permutation of the members drawn from
    the seed alone (so every scenario with this seed pairs replicate r with the same member: common random
    numbers across parameter sets too), taken in order, so replicates use distinct members until all are used."""
    order = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**32 - 1,))).permutation(members)
    return int(order[replicate % members])
