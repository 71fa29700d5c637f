"""Reading a results table: the value of an indicator at a breakdown, in a year or year by year.

Works on any table with the results' key columns (``year``, ``indicator``, ``sex``, ``age_group``,
``capacity``, ``residence``, ``group``): a run's results (one replicate), its summary (``column="mean"``, ``"p05"``,
...), or a comparison table. The indicator and breakdown are checked against the catalogue first, and a
breakdown not given is the indicator's total (sex ``all``, ages ``60+`` or the only age group, capacity
``all``, residence ``all``, group ``all`` or ``all/all``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sim.catalogues.indicators import BREAKDOWN, catalogue


class QueryError(ValueError):
    """The table has more or fewer than one row for a year of the indicator and breakdown asked for."""


def rows(
    table: pd.DataFrame,
    indicator: str,
    *,
    sex: str | None = None,
    age_group: str | None = None,
    capacity: str | None = None,
    residence: str | None = None,
    group: str | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The rows of ``indicator`` at one breakdown (every year), and the breakdown with totals filled in.
    CatalogueError if the indicator or a breakdown value is not in the catalogue."""
    key = catalogue()[indicator].resolve(
        sex=sex, age_group=age_group, capacity=capacity, residence=residence, group=group
    )
    mask = table["indicator"] == indicator
    for b in BREAKDOWN:
        mask &= table[b] == key[b]
    return table[mask], key


def value(
    table: pd.DataFrame,
    indicator: str,
    year: int | None = None,
    *,
    sex: str | None = None,
    age_group: str | None = None,
    capacity: str | None = None,
    residence: str | None = None,
    group: str | None = None,
    column: str | Sequence[str] = "value",
) -> float | pd.Series | pd.DataFrame:
    """The value of ``indicator`` at a breakdown: a float for ``year``, or a Series by year (sorted)
    when ``year`` is None, from the indicator's first year in the table (its base year, or the year
    after for deaths, entrants and life expectancy) to the table's last. With several columns: a Series
    by column for a year, a DataFrame by year otherwise.

    QueryError, naming the indicator and breakdown, if the year (or any year) has more or fewer than one
    row: a table of several runs or replicates must be narrowed to one first."""
    found, key = rows(
        table, indicator, sex=sex, age_group=age_group, capacity=capacity, residence=residence, group=group
    )
    columns = column if isinstance(column, str) else list(column)
    if year is not None:
        at = found[found["year"] == year]
        if len(at) != 1:
            raise QueryError(f"{_where(indicator, key)}: {len(at)} rows in {year} (need exactly one)")
        picked = at[columns].iloc[0]
        return float(picked) if isinstance(columns, str) else picked.astype(float)
    counts = found["year"].value_counts()
    if (counts > 1).any():
        year = int(counts[counts > 1].index.min())
        raise QueryError(f"{_where(indicator, key)}: {counts[year]} rows in {year} (need exactly one)")
    if len(table):
        first = int(table["year"].min()) + catalogue()[indicator].first_year_offset
        expected = {int(y) for y in table["year"].unique() if y >= first}
        missing = sorted(expected - {int(y) for y in counts.index})
        if missing:
            raise QueryError(f"{_where(indicator, key)}: no row in {missing[0]} (need exactly one)")
    return found.set_index("year")[columns].sort_index()


def _where(indicator: str, key: dict[str, str]) -> str:
    return f"{indicator} at " + ", ".join(f"{b}={key[b]}" for b in BREAKDOWN)
