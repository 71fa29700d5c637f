"""Families: marriages and spouse links, the nearest child, the hours a family can give, strain, training
carers, and spouses outside the model."""

import numpy as np
import pytest
from submodel_helpers import census_of, elders_with, many_elders, sd_bound

from sim.data.demography import AGE_MIN, N_AGES
from sim.data.levels import INTACT, MILD, MODERATE, N_LEVELS, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.data.regions import load_region
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, Elders
from sim.model.families import (
    CORESIDENT,
    COUNTY,
    FARTHER,
    NEIGHBOURHOOD,
    NONE,
    SPOUSE_OUTSIDE,
    accumulate_strain,
    coresident_share,
    family_hours,
    form_families,
    married_by_age,
    married_probability,
    top,
    train_carers,
    update_outside_spouses,
)

P = Parameters()


def population(per_cell: int = 600, ages=range(60, 101)) -> Elders:
    counts = np.zeros((2, 2, N_AGES, N_LEVELS), dtype=np.int64)
    for age in ages:
        counts[0, :, age - AGE_MIN, [INTACT, MODERATE]] = per_cell // 2
    elders = Elders()
    elders.add(counts)
    return elders


# --- forming families ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def families():
    elders = population()
    rows = slice(0, len(elders))
    form_families(elders, rows, 2020, 2020, P, np.random.default_rng(1))
    return elders


def test_spouse_links_are_symmetric_and_join_a_man_and_a_woman(families):
    e = families
    linked = np.flatnonzero(e.spouse >= 0)
    assert linked.size > 0
    assert np.array_equal(e.spouse[e.spouse[linked]], linked)
    assert (e.sex[linked] != e.sex[e.spouse[linked]]).all()
    assert set(np.unique(e.spouse[e.spouse < 0])) <= {-1, SPOUSE_OUTSIDE}


def test_married_shares_by_sex_are_the_married_probabilities(families):
    e = families
    married = e.spouse != -1
    chance = married_probability(e.sex, e.age, P)
    for sex in (0, 1):
        mine = e.sex == sex
        expected = chance[mine].mean()
        sd = np.sqrt((chance[mine] * (1 - chance[mine])).sum()) / mine.sum()
        assert married[mine].mean() == pytest.approx(expected, abs=5 * sd)
    # as many couples as the fewer of married men and married women; the others' spouses are under 60
    men, women = married & (e.sex == 0), married & (e.sex == 1)
    assert (e.spouse >= 0).sum() == 2 * min(men.sum(), women.sum())


def test_couples_are_matched_by_age_rank(families):
    e = families
    men = np.flatnonzero((e.spouse >= 0) & (e.sex == 0))
    assert np.corrcoef(e.age[men], e.age[e.spouse[men]])[0, 1] > 0.95


def test_the_nearest_child_and_working_children_follow_the_shares(families):
    e = families
    n = len(e)
    loc = P.children_location
    shares = np.array([loc["none"], loc["farther"], loc["county"], loc["neighbourhood"], loc["coresident"]])
    shares /= shares.sum()
    got = np.bincount(e.children, minlength=5) / n
    for place in (NONE, FARTHER, COUNTY, NEIGHBOURHOOD, CORESIDENT):
        assert got[place] == pytest.approx(shares[place], abs=sd_bound(shares[place], n))
    assert e.child_working.mean() == pytest.approx(0.7, abs=sd_bound(0.7, n))


def test_new_elders_live_with_a_child_less_often_each_year():
    assert coresident_share(2030, 2020, P) == pytest.approx(0.41 * (1 - 0.0167) ** 10)
    elders = population()
    form_families(elders, slice(0, len(elders)), 2060, 2020, P, np.random.default_rng(2))
    loc = P.children_location
    later = coresident_share(2060, 2020, P)
    share = later / (later + loc["none"] + loc["farther"] + loc["county"] + loc["neighbourhood"])
    assert (elders.children == CORESIDENT).mean() == pytest.approx(share, abs=sd_bound(share, len(elders)))


def test_only_the_new_rows_get_families():
    elders = population(per_cell=10)
    first = len(elders)
    elders.spouse[:] = 77
    elders.add(np.ones((2, 2, N_AGES, N_LEVELS), dtype=np.int64))
    form_families(elders, slice(first, len(elders)), 2021, 2020, P, np.random.default_rng(3))
    assert (elders.spouse[:first] == 77).all()
    new = elders.spouse[first:]
    assert (new[new >= 0] >= first).all()


def test_married_shares_average_the_census_share_at_60_64_and_fall_with_age():
    table = married_by_age(P)
    for sex, name in enumerate(("male", "female")):
        persons = load_region("china").base_population()[sex, :5]
        assert (table[sex, :5] * persons).sum() / persons.sum() == pytest.approx(P.married_share_60_64[name], abs=0.003)
        assert (np.diff(table[sex]) <= 1e-12).all() and table[sex].min() >= 0.02


@pytest.mark.parametrize("sex, name", [(0, "male"), (1, "female")])
def test_the_married_share_over_65_averages_the_census_share_over_chinas_age_structure(sex, name):
    persons = load_region("china").base_population()[sex, 5:]
    share = (married_by_age(P)[sex, 5:] * persons).sum() / persons.sum()
    assert share == pytest.approx(P.married_share_65plus[name], abs=0.001)


def test_married_shares_fall_gradually_and_reach_the_floor_only_at_great_ages():
    table = married_by_age(P)
    assert (table[:, : 85 - 60] > 0.02).all()
    assert (-np.diff(table) < 0.05).all()


# --- family hours --------------------------------------------------------------------------------------
def test_family_hours_come_from_an_able_spouse_and_the_nearest_child():
    # spouse alive and mild, moderate, widowed, under 60; two spouses at severe loss; each place of the child
    elders = elders_with(
        [SEVERE, SEVERE, SEVERE, SEVERE, MILD, MODERATE, SEVERE, SEVERE, SEVERE, SEVERE, SEVERE, SEVERE],
        spouse=[4, 5, -1, SPOUSE_OUTSIDE, 0, 1, -1, -1, -1, -1, -1, -1],
        children=[NONE, NONE, NONE, NONE, NONE, NONE, CORESIDENT, CORESIDENT, NEIGHBOURHOOD, COUNTY, FARTHER, NONE],
        child_working=[True, True, True, True, True, True, True, False, True, True, True, True],
    )
    hours = family_hours(elders, np.arange(12), P)
    assert hours.tolist() == [28, 0, 0, 28, 0, 0, 14, 28, 10, 3, 0, 0]


def test_a_spouse_at_intact_capacity_can_care_but_not_one_at_severe_loss():
    elders = elders_with([TOTAL, INTACT, TOTAL, SEVERE], spouse=[1, 0, 3, 2])
    assert family_hours(elders, np.array([0, 2]), P).tolist() == [28, 0]


def test_trained_carers_sustain_more_hours():
    elders = elders_with([SEVERE, SEVERE], spouse=SPOUSE_OUTSIDE, children=CORESIDENT, child_working=False)
    elders.carer_trained[1] = True
    assert family_hours(elders, np.array([0, 1]), P) == pytest.approx([56.0, 56.0 * 1.2])


# --- strain --------------------------------------------------------------------------------------------
def test_strain_carries_last_years_forward_and_adds_this_years_less_respite():
    burden = np.array([1.0, 1.0, 1.0, 0.4], dtype=np.float32)
    given = np.array([10.0, 10.0, 10.0, 5.0])
    capacity = np.array([20.0, 20.0, 0.0, 5.0])
    respite = np.array([0.0, 365 / 2, 0.0, 400.0])
    strain = accumulate_strain(burden, given, capacity, respite, P)
    assert strain.tolist() == pytest.approx([0.5 + 0.5, 0.5 + 0.25, 0.5, 0.2])
    assert strain.dtype == np.float32 and burden.tolist() == pytest.approx([1.0, 1.0, 1.0, 0.4])  # a new array


def test_steady_strain_converges_to_strain_over_one_minus_decay():
    burden = np.zeros(1, dtype=np.float32)
    for _ in range(40):
        burden = accumulate_strain(burden, np.array([8.0]), np.array([10.0]), np.zeros(1), P)
    assert burden[0] == pytest.approx(0.8 / (1 - 0.5), rel=1e-5)


# --- training carers -----------------------------------------------------------------------------------
def test_carers_are_trained_in_the_most_strained_families_still_caring_at_home():
    elders = elders_with(
        [SEVERE, SEVERE, MILD, SEVERE, INTACT, SEVERE, SEVERE, MODERATE],
        setting=[FAMILY, INSTITUTION, HOME_CARE, FAMILY_BED, NO_NEED, FAMILY, DAY_CARE, FAMILY],
        burden=[1.0, 9.0, 1.5, 0.2, 5.0, 3.0, 0.9, 2.0],
        carer_trained=[False, False, False, False, False, True, False, False],
    )
    assert train_carers(elders, census_of(elders).caring, 3) == 3
    assert np.flatnonzero(elders.carer_trained).tolist() == [0, 2, 5, 7]  # 7 (2.0), 2 (1.5), 0 (1.0)
    assert train_carers(elders, census_of(elders).caring, 10) == 2  # the rest: the family bed and day care
    assert np.flatnonzero(elders.carer_trained).tolist() == [0, 2, 3, 5, 6, 7]
    assert train_carers(elders, census_of(elders).caring, 5) == 0


def test_top_is_the_head_of_a_full_stable_sort():
    rng = np.random.default_rng(4)
    for _ in range(500):
        values = rng.integers(0, 6, size=int(rng.integers(0, 30))).astype(np.float32)  # many ties
        n = int(rng.integers(-1, 35))
        expected = np.argsort(-values, kind="stable")[: max(n, 0)]
        assert np.array_equal(top(values, n), expected)


# --- spouses outside the model -------------------------------------------------------------------------
def test_spouses_outside_the_model_die_at_the_other_sexs_rate_some_years_younger():
    elders = elders_with(
        [MILD] * 6, ages=[70, 70, 62, 70, 70, 110], sexes=[0, 1, 0, 0, 0, 1], spouse=[-2, -2, -2, -1, 3, -2]
    )
    q = np.zeros((2, N_AGES))
    q[1, 70 - 3 - 60] = 1.0  # women aged 67 die
    q[0, 0] = 1.0  # men aged 60 (the rate of any man under 60)
    update_outside_spouses(elders, census_of(elders).outside_spouses, q, P, np.random.default_rng(5))
    # the man of 70 is widowed; the woman of 70 (her husband 67) is not; the man of 62 (wife 59, age 60's rate)
    # is not; links among elders are untouched; the woman of 110 (husband 107: men at 47 of the table) is not
    assert elders.spouse.tolist() == [-1, -2, -2, -1, 3, -2]


def test_spouses_outside_the_model_die_at_the_rate_given():
    n = 20_000
    elders = many_elders([0, n, 0, 0, 0], age=75, sex=1)
    elders.spouse[:] = SPOUSE_OUTSIDE
    q = np.full((2, N_AGES), 0.3)
    q[0] = 0.1  # husbands
    update_outside_spouses(elders, census_of(elders).outside_spouses, q, P, np.random.default_rng(6))
    assert (elders.spouse == -1).mean() == pytest.approx(0.1, abs=sd_bound(0.1, n))
