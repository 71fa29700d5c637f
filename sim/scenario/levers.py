"""Levers that change over the years: a value per year from a few given points.

A lever is written in a scenario either as one number (constant) or as a mapping from year to value.
A mapping with one year is a *target to reach by that year*; with several years it is a *schedule*.
Between given years the value moves linearly; before the first given year it moves linearly from the
base-year value; after the last it stays. So ``{2025: 100000}`` from a base of 76,000 beds in 2020
means 80,800 in 2021, ... 100,000 in 2025 and after.
"""

from __future__ import annotations

import numpy as np


def path_value(spec: float | dict[int, float] | None, year: int, base_year: int, base_value: float) -> float:
    """The lever's value in ``year``; ``None`` keeps the base value."""
    if spec is None:
        return base_value
    if not isinstance(spec, dict):
        return float(spec)
    years = [base_year] + sorted(spec)
    values = [base_value] + [float(spec[y]) for y in sorted(spec)]
    if base_year in spec:  # an explicit base-year value replaces the data's
        years, values = years[1:], values[1:]
    return float(np.interp(year, years, values))
