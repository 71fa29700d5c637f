"""The totals of a region made of regions (China by its provinces): each indicator of the parts' results tables
totalled as the indicator catalogue declares (``across_regions``): counts, money and hours summed; shares and
rates weighted by the indicator the catalogue names, in the same replicate and year.

The parts' table has the results table's columns and a ``region`` column; the totals come back in the same
form, ``region`` set to the whole's key.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.catalogues.indicators import BREAKDOWN, Indicator, catalogue

ROW = ["run", "replicate", "year", "indicator", *BREAKDOWN, "unit"]  # a row of a results table, but its value


def national_totals(parts: pd.DataFrame, region: str) -> pd.DataFrame:
    """The whole's rows from its parts' (``parts.region`` names the part): sums, then weighted means."""
    indicators = catalogue().indicators
    sums = [name for name, ind in indicators.items() if ind.across_regions.weighted_by is None]
    summed = parts[parts.indicator.isin(sums)].groupby(ROW, sort=False, dropna=False)["value"].sum().reset_index()
    tables = [summed]
    for name, ind in indicators.items():
        if ind.across_regions.weighted_by is not None:
            tables.append(_weighted(parts[parts.indicator == name], parts, ind))
    totals = pd.concat(tables, ignore_index=True)
    totals.insert(0, "region", region)
    return totals


def _weighted(rows: pd.DataFrame, parts: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """The weighted mean of an indicator's values across the parts: sum(value x weight) / sum(weight) over the
    parts that have a value (a part without one, e.g. no one on a waiting list, counts for nothing)."""
    rule = ind.across_regions
    weight_ind = catalogue()[rule.weighted_by]
    weights = parts[parts.indicator == weight_ind.name]
    at = {}  # the weight's breakdown each row is weighted at
    for b in BREAKDOWN:
        own = {v: v if v in weight_ind.values[b] else weight_ind.default(b) for v in ind.values[b]}
        if b == "group":
            own |= {mine: theirs for mine, theirs in rule.groups}
        at[b] = rows[b].map(own)
    keyed = rows.assign(**{f"w_{b}": at[b] for b in BREAKDOWN})
    weight_keys = ["region", "replicate", "year", *BREAKDOWN]
    weights = weights[weight_keys + ["value"]].rename(columns={b: f"w_{b}" for b in BREAKDOWN} | {"value": "weight"})
    merged = keyed.merge(weights, on=["region", "replicate", "year", *(f"w_{b}" for b in BREAKDOWN)], how="left")
    has_value = merged["value"].notna() & merged["weight"].notna()
    merged["weighted"] = np.where(has_value, merged["value"] * merged["weight"], 0.0)
    merged["weight"] = np.where(has_value, merged["weight"], 0.0)
    grouped = merged.groupby(ROW, sort=False, dropna=False)[["weighted", "weight"]].sum().reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        grouped["value"] = np.where(grouped["weight"] > 0, grouped["weighted"] / grouped["weight"], np.nan)
    return grouped[[*ROW, "value"]]
