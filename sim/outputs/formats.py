"""Numbers and indicator names as tables show them (terminal, reports, fit reports).

An indicator's value is shown by its unit (from the catalogue): shares as percentages, years with two
decimals, rates per 1,000 or 10,000 with one, yuan in millions, counts as whole numbers.
"""

from __future__ import annotations

import math

from sim.catalogues.indicators import catalogue

MILLIONS = {
    "yuan": "million yuan",
    "yuan (cumulative)": "million yuan (cumulative)",
}  # units shown in millions, and the unit they are then shown in


def missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def number(v: float | None, if_missing: str = "-", small: str = ".3g") -> str:
    """A number in a table: thousands separated from 100 up, else ``small`` (three significant digits)."""
    if missing(v):
        return if_missing
    return f"{v:,.0f}" if abs(v) >= 100 else format(v, small)


def shown(v: float | None, unit: str) -> str:
    """A value of an indicator in ``unit`` as tables show it ('-' if missing)."""
    if missing(v):
        return "-"
    if unit == "share":
        return f"{v:.1%}"
    if unit == "years":
        return f"{v:.2f}"
    if unit.startswith(("beds per", "workers per")):
        return f"{v:,.1f}"
    if unit in MILLIONS:
        return f"{v / 1e6:,.0f}"
    return f"{v:,.0f}"


def shown_label(indicator: str, lang: str = "en", **breakdown: str | None) -> str:
    """The indicator at a breakdown in words, with the unit its values are shown in if they are scaled,
    e.g. 'Insurance fund balance (million yuan)'."""
    cat = catalogue()
    text = cat.describe(indicator, lang, **breakdown)
    unit = cat[indicator].unit
    if unit not in MILLIONS:
        return text
    scaled = cat.unit_label(MILLIONS[unit], lang)
    return f"{text}（{scaled}）" if lang == "zh" else f"{text} ({scaled})"
