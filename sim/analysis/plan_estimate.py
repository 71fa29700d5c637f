"""A plan's estimates from its runs: each objective as the mean (or the quantile) over the runs, and P(met) for
each target with its exact (Clopper-Pearson) interval, at the problem's confidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analysis.problem import Problem


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The exact two-sided interval of a probability from k successes in n trials."""
    from scipy.stats import beta

    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


@dataclass
class Estimate:
    """A plan's estimates from its first ``runs`` replicates."""

    runs: int
    objectives: np.ndarray  # as stated (not negated for max)
    met: np.ndarray  # per target: runs meeting it
    probability: np.ndarray  # per target
    low: np.ndarray
    high: np.ndarray


def estimate(problem: Problem, outcomes: np.ndarray) -> Estimate:
    """Objectives and P(met) per target from a plan's runs (rows in replicate order)."""
    from sim.results.targets import is_met

    k = len(problem.objectives)
    values = []
    for j, objective in enumerate(problem.objectives):
        column = outcomes[:, j]
        values.append(column.mean() if objective.statistic == "mean" else np.quantile(column, objective.quantile))
    met = np.array([int(np.sum(is_met(outcomes[:, k + t], target))) for t, target in enumerate(problem.targets)])
    n = len(outcomes)
    intervals = [clopper_pearson(int(m), n, problem.spec.constraints.confidence) for m in met]
    return Estimate(
        n,
        np.array(values, dtype=float),
        met,
        met / n,
        np.array([i[0] for i in intervals]),
        np.array([i[1] for i in intervals]),
    )
