"""Observations: figures published since the base year (indicator, year, value, tolerance, source), read
from a CSV file that a scenario names (``observed:``) or ``sim evaluate --observed`` gives, and checked
against the indicator catalogue: each refused in one line naming the file, the row and the column."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from sim.catalogues.indicators import CatalogueError, catalogue
from sim.common.errors import ScenarioError, Strict, parse_mapping, show
from sim.common.user_files import read_csv_rows, read_user_text


class ObservedFigure(Strict):
    """One observed value of an indicator at a breakdown in a year, with its uncertainty and source."""

    indicator: str
    year: int
    value: float = Field(allow_inf_nan=False)
    tolerance: float = Field(gt=0, allow_inf_nan=False, description="Two standard deviations of its error.")
    group: str = "all"
    capacity: str = "all"
    residence: str = "all"
    age_group: str = "60+"
    sex: str = "all"
    source: str = Field(min_length=1, description="Publication, table, year.")
    label: str = ""

    def key(self) -> tuple:
        return (self.indicator, self.group, self.capacity, self.residence, self.age_group, self.sex)


NON_NEGATIVE_UNITS = {
    "persons",
    "persons (cumulative)",
    "share",
    "beds",
    "places",
    "hours per year",
    "beds per 1,000 aged 60+",
    "beds per 10,000 aged 60+",
    "workers per 10,000 aged 60+",
}


def load_observations(path: Path, base_year: int, horizon: int) -> list[ObservedFigure]:
    """The observations of a CSV file (columns: indicator, year, value, tolerance, source, and optionally
    group, capacity, residence, age_group, sex, label). ScenarioError, one line naming the row and column,
    for anything wrong: an unknown indicator or breakdown, a year outside the run, a value that is not a
    finite number, a negative count or share, a duplicate."""
    where = str(path)
    rows = read_csv_rows(read_user_text(path).removeprefix("\ufeff"), where)
    if not rows:
        raise ScenarioError(f"{where}: no observations (columns: indicator, year, value, tolerance, source)")
    missing = [c for c in ("indicator", "year", "value", "tolerance", "source") if c not in rows[0]]
    if missing:
        raise ScenarioError(f"{where}: no column {missing[0]} (needed: indicator, year, value, tolerance, source)")
    out, seen = [], {}
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        at = f"{where}: row {i}"
        raw = {k: v.strip() for k, v in row.items() if k is not None and v is not None and v.strip() != ""}
        unknown = sorted(set(raw) - set(ObservedFigure.model_fields))
        if unknown:
            raise ScenarioError(
                f"{at}: unknown column {show(unknown[0])} (allowed: {', '.join(ObservedFigure.model_fields)})"
            )
        for number in ("year", "value", "tolerance"):
            if number in raw:
                try:
                    raw[number] = float(raw[number]) if number != "year" else int(raw[number])
                except ValueError:
                    raise ScenarioError(f"{at}: {number} = {show(raw[number])}: must be a number") from None
        o = parse_mapping(ObservedFigure, raw, at)
        try:
            found = catalogue()[o.indicator]
            found.resolve(sex=o.sex, age_group=o.age_group, capacity=o.capacity, residence=o.residence, group=o.group)
        except CatalogueError as e:
            raise ScenarioError(f"{at}: {e.field} = {show(e.value)}: {e.allowed}") from None
        first = found.first_year(base_year)
        if not first <= o.year <= horizon:
            raise ScenarioError(f"{at}: year = {o.year}: {o.indicator} has values from {first} to {horizon}")
        if o.value < 0 and found.unit in NON_NEGATIVE_UNITS:
            raise ScenarioError(f"{at}: value = {o.value:g}: {o.indicator} is in {found.unit}, never negative")
        if found.unit == "share" and o.value > 1:
            raise ScenarioError(f"{at}: value = {o.value:g}: {o.indicator} is a share, at most 1")
        key = (*o.key(), o.year)
        if key in seen:
            raise ScenarioError(f"{at}: repeats row {seen[key]} (the same indicator, breakdown and year)")
        seen[key] = i
        out.append(o)
    return out
