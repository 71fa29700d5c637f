"""The design of a sweep: the points SALib chooses and the factor values each point applies.

Morris: ``trajectories`` random one-at-a-time trajectories on a grid of ``num_levels`` levels (optionally
the ``optimal_trajectories`` most spread out of them, Campolongo et al. 2007), each of G + 1 points for G
groups (factors without a group are groups of their own). Sobol: Saltelli's scheme on a scrambled Sobol'
sequence of ``base_samples`` (N) points, N (G + 2) points without second-order indices and N (2G + 2)
with them.

Both lay out their points in blocks, one trajectory or one base sample at a time (SALib puts the block of
base sample i at rows i (G + 2) ... (i + 1)(G + 2) - 1), so the first k blocks are a design of their own:
this is what the convergence of the indices is computed on. For Sobol, k is a power of two, so the
prefix is itself a balanced Sobol' sequence.

Seeds: the design draws from stream ``DESIGN_STREAM`` of the experiment's seed, the bootstrap of the
analysis from ``ANALYSIS_STREAM``, and with ``seeds: independent`` point i's runs use the seed drawn
from ``POINT_STREAM`` and i. The model's replicate streams are spawn keys (r,) and (r, 1) of the run's
seed, with r < 1000, so none of these can coincide with them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.experiment import Experiment, Factor

DESIGN_STREAM = (2**32, 0)
ANALYSIS_STREAM = (2**32, 1)
POINT_STREAM = (2**32, 2)
SALIB_DISTS = {"uniform": "unif", "triangular": "triang", "normal": "truncnorm"}


def stream(seed: int, key: tuple[int, ...]) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def stream_int(seed: int, key: tuple[int, ...]) -> int:
    """A positive integer seed for libraries that take one (SALib's Sobol analysis treats 0 as 'none')."""
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint32)[0]) | 1


def point_seed(seed: int, policy: str, point: int) -> int:
    """The model seed of a point's runs: the experiment's (common random numbers) or the point's own."""
    if policy == "common":
        return seed
    return int(np.random.SeedSequence(seed, spawn_key=(*POINT_STREAM, point)).generate_state(1, np.uint64)[0] >> 1)


def problem(exp: Experiment) -> dict:
    """The SALib problem. Integer and level factors are a uniform u on [0, 1], mapped by ``value``."""
    names, bounds, dists = [], [], []
    for f in exp.factors:
        names.append(f.name)
        if f.levels is not None or f.type == "int":
            bounds.append([0.0, 1.0])
            dists.append("unif")
            continue
        low, high = f.range
        bounds.append(
            {
                "uniform": [low, high],
                "triangular": [low, high, (f.mode - low) / (high - low) if f.mode is not None else 0.5],
                "normal": [low, high, f.mean, f.sd],
            }[f.dist]
        )
        dists.append(SALIB_DISTS[f.dist])
    out = {"num_vars": len(names), "names": names, "bounds": bounds, "dists": dists}
    if any(f.group is not None for f in exp.factors):
        out["groups"] = [f.group or f.name for f in exp.factors]
    return out


def groups(exp: Experiment) -> list[str]:
    """The names that are ranked: groups in order of first appearance, or the factors."""
    return list(dict.fromkeys(f.group or f.name for f in exp.factors))


def value(f: Factor, x: float) -> Any:
    """The value a factor applies to the scenario for SALib's sample ``x``."""
    if f.levels is None and f.type != "int":
        return float(x)
    n = len(f.levels) if f.levels is not None else int(f.range[1] - f.range[0]) + 1
    k = min(int(math.floor(x * n)), n - 1)
    return f.levels[k] if f.levels is not None else int(f.range[0]) + k


@dataclass(frozen=True)
class Design:
    sample: np.ndarray  # SALib's matrix, one row per point (u on [0, 1] for integer and level factors)
    values: list[tuple]  # per point, the factor values applied
    block: int  # points per trajectory (Morris) or per base sample (Sobol)
    blocks: int  # trajectories or base samples

    @property
    def points(self) -> int:
        return len(self.values)

    def frame(self, exp: Experiment) -> pd.DataFrame:
        """One row per point: the factor values applied."""
        columns = {"point": np.arange(self.points)}
        for j, f in enumerate(exp.factors):
            columns[f.name] = [v[j] for v in self.values]
        return pd.DataFrame(columns)


def make_design(exp: Experiment) -> Design:
    """The sweep's points, a pure function of the experiment (the same on every run and resume)."""
    m = exp.spec.method
    prob = problem(exp)
    g = len(groups(exp))
    rng = stream(exp.spec.seed, DESIGN_STREAM)
    if m.name == "morris":
        from SALib.sample import morris

        sample = morris.sample(
            prob, m.trajectories, num_levels=m.num_levels, optimal_trajectories=m.optimal_trajectories, seed=rng
        )
        block = g + 1
    else:
        from SALib.sample import sobol

        sample = sobol.sample(prob, m.base_samples, calc_second_order=m.second_order, scramble=True, seed=rng)
        block = 2 * g + 2 if m.second_order else g + 2
    values = [tuple(value(f, x) for f, x in zip(exp.factors, row, strict=True)) for row in sample]
    return Design(sample, values, block, len(values) // block)
