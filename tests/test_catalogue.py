"""The indicator catalogue against the model's results table, and reading the table with `value`."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario
from matplotlib.ft2font import FT2Font

from sim.catalogues.indicators import BREAKDOWN, LANGS, CatalogueError, catalogue
from sim.model.model import AgeingModel
from sim.results.query import QueryError, value
from sim.results.record import COLUMNS, care_rows, population_rows
from sim.results.record import table as record_table

BASE = 2020


@pytest.fixture(scope="module")
def model():
    """Shengzhou at 100 persons per agent, three years: every indicator, in the base year and after."""
    m = AgeingModel(make_scenario(region="shengzhou", scale=100.0, horizon=BASE + 2, seed=3))
    m.run()
    return m


@pytest.fixture(scope="module")
def table(model):
    return record_table(model.record)


def test_every_row_is_a_declared_indicator_and_breakdown_and_every_one_is_produced(model, table):
    cat = catalogue()
    assert list(table.columns) == COLUMNS
    assert set(table.indicator) == set(cat.indicators), "record.py and indicators.yaml list other indicators"
    assert not table.duplicated(["year", "indicator", *BREAKDOWN]).any()
    for name, ind in cat.indicators.items():
        mine = table[table.indicator == name]
        assert set(mine.unit) == {ind.unit}, name
        assert mine.year.min() == ind.first_year(BASE), name
        for year, rows in mine.groupby("year"):
            produced = set(rows[list(BREAKDOWN)].itertuples(index=False, name=None))
            assert produced == ind.keys(), (name, year, produced ^ ind.keys())
    # which part of the model makes each indicator: the population's rows or the care system's
    made_by = {}
    for year in model.record:
        for source, rows in (("population", population_rows(year.population)), ("care", care_rows(year))):
            for row in rows:
                made_by.setdefault(row[1], set()).add(source)
    assert made_by == {name: {ind.source} for name, ind in cat.indicators.items()}


def test_targets_name_declared_rows():
    cat = catalogue()
    for t in cat.targets.values():
        assert t.group in cat[t.indicator].values["group"]


def test_every_label_in_both_languages_and_the_chinese_ones_can_be_drawn():
    from sim.outputs.fonts import chinese_font_path

    cat = catalogue()
    charmap = FT2Font(str(chinese_font_path())).get_charmap()
    texts = []
    for ind in cat.indicators.values():
        texts.append(ind.labels["zh"])
        texts.append(cat.unit_label(ind.unit, "zh"))
        for b in BREAKDOWN:
            for v in ind.values[b]:
                for lang in LANGS:
                    texts.append(cat.value_label(ind.name, b, v, lang))
    texts += [t.labels["zh"] for t in cat.targets.values()]
    assert all(texts)
    missing = {c for s in texts for c in s if ord(c) > 127 and ord(c) not in charmap}
    assert not missing


def test_describe_leaves_out_totals():
    cat = catalogue()
    assert cat.describe("population", "en", age_group="80+") == "Population aged 80+"
    assert cat.describe("population", "zh", age_group="80+", sex="female") == "女性80岁及以上人口"
    assert cat.describe("population", "en", age_group="80+", sex="female") == "Population aged 80+, women"
    assert cat.describe("beds", "en") == "Care-home beds"
    assert cat.describe("occupancy", "en", group="public") == "Occupancy: Public"
    assert cat.describe("life_expectancy_60", "zh") == "60岁预期寿命（模拟）"
    assert cat.describe("elders_by_setting", "zh", group="institution", capacity="severe") == (
        "按照护方式分的老年人：重度失能，养老机构"
    )


def test_unknown_names_and_breakdowns_are_refused_naming_what_is_allowed():
    cat = catalogue()
    with pytest.raises(CatalogueError, match=r"^indicator = 'happiness': unknown indicator \(allowed: admissions, "):
        cat["happiness"]
    with pytest.raises(CatalogueError) as e:
        cat["care_hours"].resolve(group="unmt")
    assert str(e.value) == "group = 'unmt': not a breakdown of care_hours (allowed: formal, informal, need, unmet)"
    with pytest.raises(CatalogueError) as e:
        cat["care_hours"].resolve()
    assert str(e.value) == "group = None: care_hours needs one (allowed: formal, informal, need, unmet)"
    assert cat["entrants"].resolve() == {
        "sex": "all",
        "age_group": "60",
        "capacity": "all",
        "residence": "all",
        "group": "all",
    }
    assert cat["beds"].resolve()["group"] == "all/all"


# --- value ---------------------------------------------------------------------------------------------
def test_value_reads_one_row_a_year_or_a_series(table):
    pop = table[(table.indicator == "population") & (table.sex == "all") & (table.age_group == "60+")]
    pop = pop[pop.residence == "all"]
    expected = pop.set_index("year").value
    got = value(table, "population")
    pd.testing.assert_series_equal(got, expected.sort_index())
    assert value(table, "population", 2021) == expected[2021]
    assert isinstance(value(table, "population", 2021), float)
    women80 = table[(table.indicator == "population") & (table.sex == "female") & (table.age_group == "80+")]
    women80 = women80[women80.residence == "all"]
    assert value(table, "population", 2022, sex="female", age_group="80+") == women80.set_index("year").value[2022]
    # the default age group is the indicator's only one; deaths start the year after the base year
    assert list(value(table, "life_expectancy_60").index) == [2021, 2022]
    assert list(value(table, "deaths").index) == [2021, 2022]
    severe = value(table, "persons_with_unmet_need", 2021, capacity="severe")
    assert severe <= value(table, "persons_with_unmet_need", 2021)
    both = value(table, "beds", column=["value", "value"])
    assert isinstance(both, pd.DataFrame) and list(both.index) == [2020, 2021, 2022]


def test_value_refuses_more_or_fewer_than_one_row_a_year(table):
    twice = pd.concat([table, table[table.year == 2021]])
    with pytest.raises(QueryError) as e:
        value(twice, "waiting_list")
    assert str(e.value) == (
        "waiting_list at sex=all, age_group=60+, capacity=all, residence=all, group=all: "
        "2 rows in 2021 (need exactly one)"
    )
    with pytest.raises(QueryError, match="2 rows in 2021"):
        value(twice, "waiting_list", 2021)
    gap = table[~((table.indicator == "waiting_list") & (table.year == 2021))]
    with pytest.raises(QueryError, match=r"waiting_list at .*: no row in 2021"):
        value(gap, "waiting_list")
    with pytest.raises(QueryError, match="0 rows in 2020"):
        value(table, "deaths", 2020)
    with pytest.raises(CatalogueError, match="not a breakdown of occupancy"):
        value(table, "occupancy", group="all/all")
    assert np.isfinite(value(table, "occupancy", 2020, group="all"))


def test_a_catalogue_missing_a_label_or_naming_an_unknown_unit_is_refused():
    import copy

    import yaml

    from sim.catalogues.indicators import parse

    raw = yaml.safe_load((Path(__file__).parents[1] / "sim" / "catalogues" / "indicators.yaml").read_text("utf-8"))
    parse(raw)
    broken = copy.deepcopy(raw)
    del broken["indicators"]["care_hours"]["groups"]["unmet"]["zh"]
    with pytest.raises(ValueError, match=r"indicators.care_hours.groups.unmet: no label in zh"):
        parse(broken)
    broken = copy.deepcopy(raw)
    broken["indicators"]["beds"]["unit"] = "rooms"
    with pytest.raises(ValueError, match=r"indicators.beds.unit = 'rooms': not in units"):
        parse(broken)
    broken = copy.deepcopy(raw)
    broken["indicators"]["population"]["age_group"].append("85+")
    with pytest.raises(ValueError, match=r"indicators.population.age_group: no labels for \['85\+'\]"):
        parse(broken)
