"""Outcomes of a sweep: the few numbers each run is reduced to, read from the model's yearly record
without building the results table (the table costs about a sixth of a run at 100 persons per agent).

An outcome is one indicator of the results table with its breakdown (sex, age group, capacity level,
group; a list of groups is summed, e.g. the kinds of public spending), either in one year or
aggregated over every year of the run: ``max`` (e.g. the peak waiting list), ``min``, ``mean``,
``sum`` or ``last`` (the value in the horizon year). Aggregates leave out missing values (e.g. the
occupancy of a bed type there are none of) and are missing only if every year's value is.

The values are taken from the same rows the results table is made of (the rows of the years and kinds
needed, made on demand), so they equal the table's exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.catalogues.indicators import CatalogueError, catalogue
from sim.common.errors import show
from sim.model.record import YearRecord
from sim.results.record import care_rows, population_rows

AGGREGATES = ("max", "min", "mean", "sum", "last")


class OutcomeError(ValueError):
    """An outcome that names no value of the results table: which field, its value, what is allowed."""

    def __init__(self, field: str, value, allowed: str):
        super().__init__(f"{field} = {show(value)}: {allowed}")
        self.field, self.value, self.allowed = field, value, allowed


@dataclass(frozen=True)
class Reader:
    """How one outcome is read from a run: the rows (breakdowns) summed, in a year or over all years."""

    name: str
    indicator: str
    keys: tuple[tuple[str, ...], ...]  # (sex, age_group, capacity, residence, group) of each row summed
    population: bool  # from the population's rows (made on demand) rather than the care rows
    year: int | None
    aggregate: str | None


def compile_outcome(
    name: str,
    indicator: str,
    breakdown: dict,
    year: int | None,
    aggregate: str | None,
    base_year: int,
    horizon: int,
) -> Reader:
    """Check an outcome (``year`` or else ``aggregate``) against the indicator catalogue; raise
    OutcomeError naming the field. ``breakdown`` gives sex, age_group, capacity, residence and group (a list of
    groups is summed); an age group of None is the indicator's total (60+, or its only age group)."""
    try:
        found = catalogue()[indicator]
        groups = breakdown["group"] if isinstance(breakdown["group"], list) else [breakdown["group"]]
        keys = tuple(tuple(found.resolve(**{**breakdown, "group": g}).values()) for g in groups)
    except CatalogueError as e:
        raise OutcomeError(e.field, e.value, e.allowed) from None
    if year is not None:
        first = found.first_year(base_year)
        if not first <= year <= horizon:
            raise OutcomeError("year", year, f"must be from {first} to {horizon} for {indicator}")
    elif aggregate not in AGGREGATES:
        raise OutcomeError("aggregate", aggregate, f"must be one of {', '.join(AGGREGATES)}")
    return Reader(name, indicator, keys, found.source == "population", year, aggregate)


def read_outcomes(record: list[YearRecord], readers: tuple[Reader, ...]) -> list[float]:
    """Every outcome of one finished run, in the order of ``readers``."""
    first_year = record[0].year
    index: dict[tuple[int, bool], dict] = {}

    def rows_of(i: int, population: bool) -> dict:
        if (i, population) not in index:
            rows = population_rows(record[i].population) if population else care_rows(record[i])
            index[i, population] = {row[1:7]: row[8] for row in rows}
        return index[i, population]

    def value(reader: Reader, i: int) -> float:
        rows = rows_of(i, reader.population)
        missing = object()
        found = [rows.get((reader.indicator, *key), missing) for key in reader.keys]
        if any(v is missing for v in found):  # e.g. deaths in the base year
            return math.nan
        return float(sum(found)) if len(found) > 1 else float(found[0])

    out = []
    for reader in readers:
        if reader.year is not None:
            out.append(value(reader, reader.year - first_year))
            continue
        series = [value(reader, i) for i in range(len(record))]
        out.append(aggregate(series, reader.aggregate))
    return out


def aggregate(series: list[float], how: str) -> float:
    """``how`` over a run's yearly values; missing values are left out (``last`` is the horizon's)."""
    if how == "last":
        return series[-1]
    present = [v for v in series if not math.isnan(v)]
    if not present:
        return math.nan
    if how == "max":
        return max(present)
    if how == "min":
        return min(present)
    if how == "sum":
        return math.fsum(present)
    return math.fsum(present) / len(present)
