"""Out-of-sample checks: published figures that were not inputs to the model."""

import pytest
from conftest import make_scenario

from sim.results.query import value
from sim.results.runs import run_replicate

# NBS year-end population aged 60+ (national ageing bulletins 2021-2024, FACTS.md sections 1.3 and 4.2).
# The model's year is the census date (1 November), two months before the bulletins' year end.
NATIONAL_60PLUS = {2021: 267.36e6, 2022: 280.04e6, 2023: 296.97e6, 2024: 310.31e6}


def test_national_60plus_tracks_the_published_year_end_counts():
    df = run_replicate(make_scenario(region="china", scale=1000, seed=4, horizon=2024), 0)
    pop = value(df, "population", sex="all", age_group="60+")
    for year, published in NATIONAL_60PLUS.items():
        assert pop[year] == pytest.approx(published, rel=0.03), year
