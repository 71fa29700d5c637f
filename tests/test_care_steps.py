"""The care step's own pieces: who is counted and who reconsiders, the places left for them, the hours at
home cut to what home-care workers can deliver, and the care residents get from their home's staff."""

import numpy as np
import pytest
from submodel_helpers import census_of, elders_with, model

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.model.care import Capacity, care_in_homes, hours_at_home, places_left, reviewing
from sim.model.elders import (
    DAY_CARE,
    DESTITUTE,
    FAMILY,
    FAMILY_BED,
    HOME_CARE,
    INSTITUTION,
    LOW,
    MINIMUM_INCOME,
    NO_NEED,
)
from sim.model.homes import NURSING, PUBLIC, Homes
from sim.model.need import hours_given, hours_terms
from sim.model.options import O_BED, O_DAY

# the residents per worker these cases were worked out with (one grade, so the grade does not matter)
P = Parameters({"residents_per_worker": {"grade_1": [10, 8, 5, 3, 2.5]}, "staffing_grade": 1})


def test_the_census_finds_those_at_home_with_a_need_or_waiting_and_everyone_entitled():
    elders = elders_with(
        [INTACT, MILD, TOTAL, INTACT, MODERATE, INTACT],
        ages=[85, 70, 90, 64, 79, 60],
        setting=[HOME_CARE, NO_NEED, INSTITUTION, NO_NEED, FAMILY, DAY_CARE],
        waiting_since=[0, 0, 0, 2021, 0, 0],
        income=[LOW, LOW, MINIMUM_INCOME, LOW, DESTITUTE, LOW],
        applies=[0.5, 0.5, 0.3, 0.5, 0.7, 0.5],
    )
    before = elders.setting.copy()
    census = census_of(elders, take_up=1.0)
    assert census.candidates.tolist() == [1, 3, 4]  # in need at home, or waiting; not the resident
    assert census.residents.tolist() == [2]
    assert census.entitled == (2, 2)  # poor at moderate loss or worse (the resident too); 80 and over
    assert census_of(elders, take_up=0.6).entitled[0] == 1  # at 0.6 only the one whose propensity is 0.3 applies
    # those at home who need nothing and wait for nothing lose any arrangement they had (the care step applies it)
    assert census.lost.tolist() == [0, 5]
    assert np.array_equal(elders.setting, before)  # the census itself changes nothing


def test_who_reconsiders():
    p = Parameters({"review_rate": 0.0})
    elders = elders_with(
        [MILD, MILD, SEVERE, MILD, MILD, MILD, MILD],
        setting=[NO_NEED, HOME_CARE, HOME_CARE, HOME_CARE, FAMILY, FAMILY, FAMILY],
        last_level=[-1, MILD, MODERATE, MILD, MILD, MILD, MILD],
        waiting_since=[0, 0, 0, 2020, 0, 0, 0],
        burden=[0, 0, 0, 0, 1.7, 1.5, 0],
    )
    rows = np.arange(7)
    # newly in need, level changed, waiting, family past its limit; not the settled ones
    review = reviewing(elders, rows, p, np.random.default_rng(1))
    assert review.tolist() == [True, False, True, True, True, False, False]
    n = 20_000
    settled = elders_with([MILD], setting=HOME_CARE, last_level=MILD)
    share = reviewing(settled, np.zeros(n, dtype=int), P, np.random.default_rng(2)).mean()
    assert share == pytest.approx(0.2, abs=5 * np.sqrt(0.2 * 0.8 / n))


def test_places_left_are_what_the_keepers_do_not_hold_and_a_shrinking_lever_sends_the_last_to_reconsider():
    elders = elders_with(
        [TOTAL, SEVERE, MILD, MODERATE, MILD, SEVERE],
        setting=[FAMILY_BED, FAMILY_BED, FAMILY_BED, DAY_CARE, DAY_CARE, HOME_CARE],
    )
    candidates = np.arange(6)
    review = np.array([False, False, False, False, True, False])
    capacity = Capacity(family_beds=2, day_care_places=5, home_care_hours_per_week=0.0)
    given = review.copy()
    review, places = places_left(elders, candidates, given, capacity, np.random.default_rng(3))
    assert places == {O_BED: 0, O_DAY: 4}  # day care: one keeper; family beds: two of three keep theirs
    assert review.tolist() == [False, False, True, False, True, False]  # the least dependent gives it up
    assert given.tolist() == [False, False, False, False, True, False]  # what it was given is left as it was


def test_hours_at_home_are_each_arrangements_hours_while_home_care_workers_can_deliver_them():
    terms = hours_terms(P)
    need = np.array([42.0, 63.0, 21.0, 7.0])
    family = np.array([28.0, 10.0, 0.0, 5.0])
    setting = np.array([HOME_CARE, FAMILY_BED, DAY_CARE, FAMILY], dtype=np.int8)
    formal, informal, _ = hours_at_home(need, family, setting, 1e9, terms)
    for i in range(4):
        assert (formal[i], informal[i]) == hours_given(need[i], family[i], setting[i], terms)


def test_hours_at_home_are_cut_pro_rata_when_home_care_workers_cannot_deliver_them_all():
    terms = hours_terms(P)
    need = np.array([42.0, 63.0, 21.0])
    family = np.array([28.0, 10.0, 0.0])
    setting = np.array([HOME_CARE, FAMILY_BED, DAY_CARE], dtype=np.int8)
    formal, informal, asked = hours_at_home(need, family, setting, 21.0, terms)  # 14 + 28 = 42 wanted
    assert asked == pytest.approx(42.0)  # what was asked, before the cut
    assert formal.tolist() == [7.0, 14.0, 21.0]  # day care is not delivered by home-care workers
    assert informal[0] == pytest.approx(28 - 0.473 * 7)  # the family makes up part of the cut
    assert informal[1] == pytest.approx(10 - 0.473 * 14)
    assert (informal + formal <= need + 1e-12).all()


def test_residents_get_their_need_where_staff_suffices_and_a_share_where_it_does_not():
    elders = elders_with(
        [SEVERE, SEVERE, MODERATE, TOTAL], setting=INSTITUTION, home=[0, 0, 1, 1], bed=NURSING, dementia=False
    )
    homes = Homes()
    homes.add(model(), PUBLIC, np.array([0, 2, 0]), P)
    homes.add(model(), PUBLIC, np.array([0, 2, 0]), P)
    staff = np.array([1.0, 0.3])  # home 0 needs 2/3 of a worker, home 1 needs 0.2 + 0.4
    need, formal = care_in_homes(elders, np.arange(4), homes, staff, P)
    assert need.tolist() == [42, 42, 21, 63]
    assert formal == pytest.approx([42, 42, 21 * 0.5, 63 * 0.5])
