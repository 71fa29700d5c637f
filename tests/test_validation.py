"""Out-of-sample checks: published figures that were not inputs to the model
(sim/data/validation/published_figures.csv, written out by `sim validate-published` to docs/validation.md).
The checks that pass there are held here."""

import pytest
from conftest import ROOT

from sim.analysis import published as pv

# The checks docs/validation.md reports as passing, held at two replicates (a failure here is a change
# that made the population disagree with a published figure it used to agree with).
HELD = [
    "China 60+, end 2021",
    "China 60+, end 2023",
    "China 60+, end 2025",
    "China 65+, end 2024",
    "China 60+, growth in 2022",
    "China 60+, growth in 2023",
    "China 60+, growth in 2024",
    "China 65+, growth in 2024",
    "China 65+, growth in 2025",
    "China 60+, 1 Jan 2035 (WPP2024)",
    "China 60+ passes 400 M around 2035 (NHC)",
    "China deaths at all ages, 2024",
    "Tianjin deaths at all ages, 2023",
    "Zhejiang 60+, end 2024",
    "Henan 65+, end 2022",
    "Beijing 80+, end 2024",
    "China disabled older people, 2035 (State Council projection) (central)",
    "China disabled 2030 / 2020 (central) vs Li et al. 2022",
    "China ADL-disabled share of 65+, 2025 (central) vs Zhang et al. 2025",
    "Tianjin 60+, end 2024",
    "Tianjin 60+, 2025 (the plan's forecast)",
]


@pytest.fixture(scope="module")
def checks():
    held = [c for c in pv.published_checks() if c.check in HELD]
    assert {c.check for c in held} == set(HELD)  # every held check is still in the packaged table
    return held


def test_the_held_checks_pass(checks, monkeypatch):
    monkeypatch.setattr(pv, "published_checks", lambda: checks)
    result, _ = pv.validate(replicates=2, workers=1)
    result = result.set_index("check")
    failed = result[~result.passed]
    assert failed.empty, failed[["published", "simulated", "lower", "upper"]].to_string()


def test_the_famine_and_the_boom_show_in_the_yearly_growth(checks, monkeypatch):
    """The real swings (+3.3, +12.7, +16.9, +13.3 M in 2021-24) need single-year cohorts: 2023 grows more
    than 2022 and 2024, and the 65+ barely grow in 2024 while the 60+ grow by twelve million."""
    growth = [c for c in checks if "growth" in c.check]
    monkeypatch.setattr(pv, "published_checks", lambda: growth)
    sim = pv.validate(replicates=1, workers=1)[0].set_index("check").simulated
    assert sim["China 60+, growth in 2023"] > sim["China 60+, growth in 2022"] + 3e6
    assert sim["China 60+, growth in 2023"] > sim["China 60+, growth in 2024"] + 2e6
    assert sim["China 65+, growth in 2024"] < 0.3 * sim["China 60+, growth in 2024"]


def test_every_check_that_fails_in_the_shipped_validation_says_why():
    """docs/validation.md (written by `sim validate-published`) gives every failing check the reason the
    published figure and the model's quantity differ; a failure without one is a defect to look into."""
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    unexplained = [line.split("|")[1].strip() for line in text.splitlines() if "**FAIL** (no known reason)" in line]
    assert not unexplained, unexplained
    assert "| held out |" in text and "| fitted |" in text  # every row says what it is


def test_the_oldest_old_follow_the_census_under_the_life_table():
    """China's 80+ in 2030 and 2035 (all of whom were 70+ in 2020) equal an independent cohort projection of
    the census under the same death rates: the model's alignment, capacity and residence effects move who
    dies, not how many."""
    import numpy as np

    from sim.data.regions import load_region, mortality_table
    from sim.model.model import AgeingModel
    from sim.results.query import value
    from sim.results.record import table
    from sim.scenario.files import parse_scenario

    china = load_region("china")
    population = china.base_population().astype(float)
    ages = np.arange(60, 60 + population.shape[1])
    projected = {}
    for year in range(2020, 2035):
        q = 1 - np.exp(-china.mortality_level * mortality_table().rates(year + 0.5, ages))
        survivors = population * (1 - q)
        population = np.concatenate([np.zeros((2, 1)), survivors[:, :-2], survivors[:, -2:].sum(1, keepdims=True)], 1)
        projected[year + 1] = population[:, 20:].sum()
    model = AgeingModel(parse_scenario({"region": "china", "scale": 100, "horizon": 2035}, "test"), care=False)
    model.run()
    aged_80 = value(table(model.record), "population", age_group="80+")
    for year in (2030, 2035):
        assert aged_80[year] == pytest.approx(projected[year], rel=0.005)
