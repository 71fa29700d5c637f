"""Outcomes of a sweep: the few numbers each run is reduced to, read from the model's yearly record
without building the results table (the table costs about a sixth of a run at 100 persons per agent).

An outcome is one indicator of the results table with its breakdown (sex, age group, capacity level,
group; a list of groups is summed, e.g. the kinds of public spending), either in one year or
aggregated over every year of the run: ``max`` (e.g. the peak waiting list), ``min``, ``mean``,
``sum`` or ``last`` (the value in the horizon year). Aggregates leave out missing values (e.g. the
occupancy of a bed type there are none of) and are missing only if every year's value is.

The values are taken from the same rows the results table is made of (``care_rows`` as each year
ends, the population's rows on demand for the years needed), so they equal the table's exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from sim.results.record import YearlyRecord

AGGREGATES = ("max", "min", "mean", "sum", "last")
BREAKDOWN = ("sex", "age_group", "capacity", "group")
DEFAULT_AGE_GROUP = "60+"


class OutcomeError(ValueError):
    """An outcome that names no value of the results table: which field, its value, what is allowed."""

    def __init__(self, field: str, value, allowed: str):
        super().__init__(f"{field} = {value!r}: {allowed}")
        self.field, self.value, self.allowed = field, value, allowed


@dataclass(frozen=True)
class Reader:
    """How one outcome is read from a run: the rows (breakdowns) summed, in a year or over all years."""

    name: str
    indicator: str
    keys: tuple[tuple[str, str, str, str], ...]  # (sex, age_group, capacity, group) of each row summed
    population: bool  # from the population's rows (made on demand) rather than the care rows
    year: int | None
    aggregate: str | None


@dataclass(frozen=True)
class Catalogue:
    """What the results table holds: every indicator's breakdowns, and when it has values."""

    keys: dict[str, frozenset[tuple[str, str, str, str]]]
    in_base_year: frozenset[str]  # the others (deaths, entrants, life expectancy) start a year later
    population: frozenset[str]


@cache
def catalogue(region: str) -> Catalogue:
    """Read off the rows of a two-year run of the region at the coarsest scale (a few hundred agents):
    the table's rows are the same whatever the scenario."""
    from sim.data.regions import load_region
    from sim.model.model import AgeingModel
    from sim.scenario import parse_scenario

    base = load_region(region).base_year
    model = AgeingModel(parse_scenario({"region": region, "scale": 10000.0, "horizon": base + 1}, "catalogue"))
    model.run()
    keys: dict[str, set] = {}
    population, in_base_year = set(), set()
    for i, year in enumerate(model.record.years):
        for rows, is_population in ((model.record.population_rows(i), True), (model.record.care_rows[i], False)):
            for row in rows:
                keys.setdefault(row[1], set()).add(tuple(row[2:6]))
                if is_population:
                    population.add(row[1])
                if year == base:
                    in_base_year.add(row[1])
    return Catalogue({k: frozenset(v) for k, v in keys.items()}, frozenset(in_base_year), frozenset(population))


def compile_outcome(
    name: str,
    indicator: str,
    breakdown: dict,
    year: int | None,
    aggregate: str | None,
    region: str,
    base_year: int,
    horizon: int,
) -> Reader:
    """Check an outcome (``year`` or else ``aggregate``) against the results table of ``region``;
    raise OutcomeError naming the field."""
    known = catalogue(region)
    if indicator not in known.keys:
        raise OutcomeError("indicator", indicator, f"unknown indicator (allowed: {', '.join(sorted(known.keys))})")
    candidates = known.keys[indicator]
    if breakdown.get("age_group") is None:
        ages = {k[1] for k in candidates}
        breakdown = breakdown | {"age_group": DEFAULT_AGE_GROUP if DEFAULT_AGE_GROUP in ages else min(ages)}
    chosen = []
    for i, field in enumerate(BREAKDOWN):
        allowed = sorted({k[i] for k in candidates})
        values = breakdown[field] if isinstance(breakdown[field], list) else [breakdown[field]]
        for v in values:
            if v not in allowed:
                raise OutcomeError(field, v, f"not a breakdown of {indicator} (allowed: {', '.join(allowed)})")
        chosen.append(values)
        candidates = frozenset(k for k in candidates if k[i] in values)
    sex, age_group, capacity, groups = chosen
    keys = tuple((sex[0], age_group[0], capacity[0], g) for g in groups)
    if year is not None:
        first = base_year if indicator in known.in_base_year else base_year + 1
        if not first <= year <= horizon:
            raise OutcomeError("year", year, f"must be from {first} to {horizon} for {indicator}")
    elif aggregate not in AGGREGATES:
        raise OutcomeError("aggregate", aggregate, f"must be one of {', '.join(AGGREGATES)}")
    return Reader(name, indicator, keys, indicator in known.population, year, aggregate)


def read_outcomes(record: YearlyRecord, readers: tuple[Reader, ...]) -> list[float]:
    """Every outcome of one finished run, in the order of ``readers``."""
    first_year = record.years[0]
    index: dict[tuple[int, bool], dict] = {}

    def rows_of(i: int, population: bool) -> dict:
        if (i, population) not in index:
            rows = record.population_rows(i) if population else record.care_rows[i]
            index[i, population] = {row[1:6]: row[7] for row in rows}
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
        series = [value(reader, i) for i in range(len(record.years))]
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
