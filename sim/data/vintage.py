"""The editions of the data a run uses, gathered in one place from the packaged data's own source lines, so that
every result, chart, report and download can say them and a figure pasted into a plan can be traced.

``data_vintage`` returns, for a scenario's region, base year and calibration: the census the population starts
from (and the one before it, for migration and single years of age), the statistical bulletins whose published
deaths set the region's mortality level (the region's own, else China's, to which its intercensal survival is
relative) and whose urbanisation sets the residence trend, the death-rate and disability-transition sources,
and the calibration's name, the date it was fitted, when it was last re-checked, and the observations it was
fitted to (what, for which year).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from sim.data.fits import DEFAULT, NONE, read_fit, resolve, shipped_path
from sim.data.regions import DATA

CENSUS = 2020  # every packaged population table starts from the 7th national census (sim/data/SOURCES.md)
EARLIER_CENSUS = 2010  # intercensal survival and migration, and the single-year shape of ages
DEATH_RATES = "UN World Population Prospects 2024 (medium variant)"
TRANSITIONS = "CLHLS 1998-2014 (Fu, Sherris & Xu 2021; Hanewald, Li & Shao 2019)"
PUBLISHED_FOR = re.compile(r"published for ((?:\d{4}(?:, )?)+)")
YEAR_SPAN = re.compile(r"(\d{4})-(\d{4})")


@cache
def _demography_rows() -> dict[tuple[str, str], dict]:
    with DATA.joinpath("region_demography.csv").open(encoding="utf-8") as f:
        return {(row["region"], row["quantity"]): row for row in csv.DictReader(f)}


def bulletin_years(region: str) -> dict[str, list[int]]:
    """The years of the statistical bulletins the region's demography rests on: ``deaths`` (the published deaths
    that set its mortality level: its own, else China's, on which its intercensal survival is a multiplier) and
    ``urbanisation`` (the national urban shares the residence trend runs between)."""
    rows = _demography_rows()
    found = PUBLISHED_FOR.search(rows[region, "mortality_multiplier"]["method"])
    if found is None:  # intercensal survival relative to China, on China's level from China's published deaths
        found = PUBLISHED_FOR.search(rows["china", "mortality_multiplier"]["method"])
    deaths = [int(y) for y in re.findall(r"\d{4}", found.group(1))] if found else []
    span = YEAR_SPAN.search(rows[region, "rural_share_change_per_year"]["method"])
    urbanisation = [int(span.group(1)), int(span.group(2))] if span else []
    return {"deaths": deaths, "urbanisation": urbanisation}


def calibration_vintage(name: str, region: str, base_year: int, region_file: dict | None = None) -> dict | None:
    """The calibration's name, the date it was fitted, the date it was last re-checked on changed data (None if
    never), and the observations it was fitted to: ``[{"label", "year"}]``. None without a calibration."""
    if name == NONE:
        return None
    found = resolve(name, region, base_year, region_file)
    if found is None:
        return None
    path = shipped_path(found["name"]) if found["file"].startswith("sim/data/") else Path(found["file"])
    fit, _ = read_fit(path)
    rechecks = fit.get("rechecked") or []
    targets = ((fit.get("spec") or {}).get("targets")) or []
    return {
        "name": found["name"],
        "fitted": str((fit.get("fit") or {}).get("created_utc", ""))[:10] or None,
        "rechecked": str(rechecks[-1].get("utc", ""))[:10] if rechecks else None,
        "observations": [{"label": t["label"], "year": int(t["year"])} for t in targets if t.get("fitted", True)],
    }


def data_vintage(region: str, base_year: int, calibration: str = DEFAULT, region_file: dict | None = None) -> dict:
    """The editions of the data a run of this region, base year and calibration uses (see the module's text)."""
    packaged = region_file["province"] if region_file is not None else region
    return {
        "census": CENSUS,
        "earlier_census": EARLIER_CENSUS,
        "region_data": packaged if region_file is None else f"{region} (own census totals; {packaged}'s structure)",
        "bulletins": bulletin_years(packaged),
        "death_rates": DEATH_RATES,
        "transitions": TRANSITIONS,
        "calibration": calibration_vintage(calibration, region, base_year, region_file),
        "sources": "sim/data/SOURCES.md",
    }
