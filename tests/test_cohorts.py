"""Single-year cohorts: the 1959-61 famine births and the 1962-63 births boom reach 60 in the years they
should, in every region (each takes the national single-year shape within its own census groups)."""

import csv
from collections import Counter

import pytest

from sim.data.demography import parse_age_group
from sim.data.regions import DATA, load_region, region_keys


@pytest.mark.parametrize("key", region_keys())
def test_the_famine_trough_and_the_boom_reach_60_when_they_should(key):
    region = load_region(key)
    entrants = {year: region.entrants(year).sum() for year in range(2021, 2027)}
    # born Nov 1960 - Oct 1961 (the trough) turn 60 in 2021; born 1962-63 (the boom) in 2022-2023
    assert entrants[2021] < 0.6 * entrants[2023], entrants
    assert entrants[2022] > 1.5 * entrants[2021]
    base = region.base_population().sum(axis=0)  # aged 60, 61 in 2020: born 1959-60, famine years
    assert base[0] < base[3] and base[1] < base[3]


def test_single_years_keep_every_census_group_total():
    """The packaged single years add up to the census 5-year groups (whole persons, no rounding drift):
    the 60-64 group of Tianjin's men is the census figure."""
    groups = Counter()
    with DATA.joinpath("population_2020.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            lo, hi = parse_age_group(r["age_group"])
            assert hi is None or hi == lo + 1, r["age_group"]
            groups[(r["region"], r["sex"], lo // 5 * 5)] += int(r["persons"])
    assert groups[("tianjin", "male", 60)] == 474335
    assert groups[("china", "female", 60)] == 36511813
    assert load_region("china").base_population().sum() == 264018218  # the transcribed groups' sum
