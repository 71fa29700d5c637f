"""Functions with known sensitivity indices that an experiment can run in place of the model
(``model: ishigami``), to check the sweep machinery (design, executors, store, analysis) against
analytic values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import sin

# Ishigami & Homma (1990) with the constants of Sobol' & Levitan (1999), used across the literature
ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1


def ishigami(x1: float, x2: float, x3: float) -> dict[str, float]:
    """y = sin x1 + a sin^2 x2 + b x3^4 sin x1, for x1, x2, x3 uniform on [-pi, pi]."""
    return {"y": sin(x1) + ISHIGAMI_A * sin(x2) ** 2 + ISHIGAMI_B * x3**4 * sin(x1)}


@dataclass(frozen=True)
class Function:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    evaluate: Callable[..., dict[str, float]]


FUNCTIONS = {"ishigami": Function(("x1", "x2", "x3"), ("y",), ishigami)}
