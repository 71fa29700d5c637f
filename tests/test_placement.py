"""Placement: rationing places at home, giving up places a shrinking lever takes away, the order of priority,
admission to care homes with the waiting list, and settling at home those not admitted."""

import numpy as np
import pytest
from submodel_helpers import elders_with, model

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.model.elders import DESTITUTE, FAMILY_BED, HIGH, INSTITUTION, LOW, MIDDLE, MINIMUM_INCOME, NO_NEED
from sim.model.homes import GENERAL, NURSING, PRIVATE, PUBLIC, Homes
from sim.model.options import N_OPTIONS, O_BED, O_DAY, O_FAMILY, O_HOME, O_PRIVATE, O_PUBLIC, OPTION_SETTING
from sim.model.placement import admit_to_homes, by_priority, keep_within, ration, settle_at_home

# the residents per worker these cases were worked out with (one grade, so the grade does not matter)
P = Parameters({"residents_per_worker": {"grade_1": [10, 8, 5, 3, 2.5]}, "staffing_grade": 1})


# --- rationing -----------------------------------------------------------------------------------------
def test_the_more_dependent_keep_the_places_and_the_others_choose_again():
    elders = elders_with([TOTAL, SEVERE, MODERATE, MODERATE, MILD, MILD])
    choosers = np.arange(6)
    choice = np.full(6, O_BED)
    utility = np.zeros((6, N_OPTIONS))
    ration(elders, choosers, choice, utility, np.ones(6, bool), {O_BED: 2, O_DAY: 3}, np.random.default_rng(1))
    assert choice[:2].tolist() == [O_BED, O_BED]
    assert (choice[2:] != O_BED).all() and (choice == O_DAY).sum() <= 3
    assert np.isinf(utility[2:, O_BED]).all() and np.isfinite(utility[:2]).all()


def test_a_refused_chooser_never_ends_in_a_full_option():
    # two want the one family bed; the one turned away prefers day care, whose one place is taken
    elders = elders_with([TOTAL, MILD, MODERATE])
    choice = np.array([O_BED, O_BED, O_DAY])
    utility = np.full((3, N_OPTIONS), -np.inf)
    utility[:, [O_FAMILY, O_DAY, O_BED]] = [0.0, 30.0, 30.0]
    ration(elders, np.arange(3), choice, utility, np.ones(3, bool), {O_BED: 1, O_DAY: 1}, np.random.default_rng(2))
    assert choice.tolist() == [O_BED, O_FAMILY, O_DAY]  # the day-care place stays with the more dependent


def test_a_more_dependent_chooser_turned_away_elsewhere_takes_a_place_from_a_less_dependent_one():
    elders = elders_with([TOTAL, SEVERE, MILD])
    choice = np.array([O_BED, O_BED, O_DAY])
    utility = np.full((3, N_OPTIONS), -np.inf)
    utility[:, [O_FAMILY, O_HOME, O_DAY, O_BED]] = [0.0, -30.0, 30.0, 30.0]
    ration(elders, np.arange(3), choice, utility, np.ones(3, bool), {O_BED: 1, O_DAY: 1}, np.random.default_rng(3))
    assert choice.tolist() == [O_BED, O_DAY, O_FAMILY]


def test_those_not_rationed_keep_their_choice():
    elders = elders_with([MILD, MILD, MILD, MILD])
    choice = np.array([O_BED, O_BED, O_BED, O_HOME])
    eligible = np.array([False, True, True, True])  # the first was admitted to a home: not rationed
    ration(
        elders, np.arange(4), choice, np.zeros((4, N_OPTIONS)), eligible, {O_BED: 2, O_DAY: 0}, np.random.default_rng(4)
    )
    assert choice.tolist() == [O_BED, O_BED, O_BED, O_HOME]


def test_rationing_holds_every_capacity_and_the_more_dependent_first():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        levels = rng.integers(MILD, TOTAL + 1, n)
        elders = elders_with(levels)
        utility = rng.normal(size=(n, N_OPTIONS)) * 2
        utility[rng.random(utility.shape) < 0.3] = -np.inf
        first = rng.integers(0, N_OPTIONS, n)
        choice = first.copy()
        eligible = rng.random(n) < 0.9
        places = {O_BED: int(rng.integers(0, 6)), O_DAY: int(rng.integers(0, 6))}
        ration(elders, np.arange(n), choice, utility, eligible, places, rng)
        for option, k in places.items():
            holders = eligible & (choice == option)
            assert holders.sum() <= k
            turned_away = eligible & (first == option) & (choice != option)
            if turned_away.any():  # the option filled up, and with the more dependent
                assert holders.sum() == k
                assert k == 0 or levels[holders].min() >= levels[turned_away].max()
        assert np.array_equal(choice[~eligible], first[~eligible])


# --- priority and places taken away --------------------------------------------------------------------
def test_priority_is_the_more_dependent_first_then_at_random():
    level = np.array([MILD, SEVERE, SEVERE, INTACT, TOTAL])
    firsts = []
    for seed in range(2000):
        order = by_priority(level, np.random.default_rng(seed))
        assert order[0] == 4 and set(order[1:3]) == {1, 2} and order[3:].tolist() == [0, 3]
        firsts.append(order[1])
    assert np.mean(np.array(firsts) == 1) == pytest.approx(0.5, abs=5 * 0.5 / np.sqrt(2000))


def test_places_taken_away_are_given_up_by_the_last_in_priority():
    elders = elders_with([MILD, TOTAL, SEVERE, MODERATE, MILD, SEVERE], setting=[FAMILY_BED] * 5 + [NO_NEED])
    keepers = np.arange(6)
    rng = np.random.default_rng(6)
    assert sorted(keep_within(elders, keepers, FAMILY_BED, 2, rng).tolist()) == [0, 3, 4]
    assert sorted(keep_within(elders, keepers, FAMILY_BED, 0, rng).tolist()) == [0, 1, 2, 3, 4]
    assert sorted(keep_within(elders, keepers, FAMILY_BED, -3, rng).tolist()) == [0, 1, 2, 3, 4]
    assert keep_within(elders, keepers, FAMILY_BED, 5, rng).size == 0
    assert keep_within(elders, keepers[:2], FAMILY_BED, 1, rng).tolist() == [0]


# --- admission to care homes ---------------------------------------------------------------------------
def homes_of(*specs) -> Homes:
    homes = Homes()
    for ownership, beds in specs:
        homes.add(model(), ownership, np.array(beds), P)
    return homes


def test_public_homes_admit_by_priority_class_then_level_then_waiting_time_and_the_rest_wait():
    elders = elders_with(
        [MODERATE, SEVERE, MODERATE, MODERATE, MODERATE, MODERATE, MILD, MILD, MILD, MILD],
        income=[MIDDLE, MIDDLE, MINIMUM_INCOME, DESTITUTE, LOW, LOW, HIGH, HIGH, HIGH, HIGH],
        waiting_since=[2019, 0, 0, 0, 2020, 2018, 0, 0, 0, 0],
    )
    homes = homes_of((PUBLIC, [0, 3, 0]), (PRIVATE, [2, 0, 0]))
    choosers = np.arange(10)
    choice = np.array([O_PUBLIC] * 6 + [O_PRIVATE] * 3 + [O_HOME])
    bed = np.array([NURSING] * 6 + [GENERAL] * 4)
    empty = np.array([], dtype=np.int64)
    before = {c: getattr(elders, c).copy() for c in ("setting", "home", "bed", "waiting_since")}
    home, bed_type, waiting_since, adm = admit_to_homes(
        elders, choosers, choice, bed, 2022, homes, empty, np.array([10.0, 10.0]), P, np.random.default_rng(7)
    )
    placed = home >= 0
    # destitute, then poor and disabled, then the more dependent; the rest wait, longest first
    assert adm.public.tolist() == [3, 2, 1] and adm.public_joined.tolist() == [2022] * 3
    assert placed[:6].tolist() == [False, True, True, True, False, False]
    assert sorted(adm.waiting.tolist()) == [0, 4, 5]
    assert waiting_since.tolist() == [2019, 0, 0, 0, 2020, 2018, 0, 0, 0, 0]
    # private homes: two of the three who chose one, at random; no waiting list
    assert placed[6:9].sum() == 2 and not placed[9]
    assert sorted(adm.rows.tolist()) == sorted(np.flatnonzero(placed).tolist())
    inside = np.flatnonzero(placed)
    assert home[inside].tolist() == [0, 0, 0, 1, 1] and bed_type[inside].tolist() == [NURSING] * 3 + [GENERAL] * 2
    assert (home[~placed] == -1).all() and (bed_type[~placed] == -1).all()
    for column, values in before.items():  # the elders' columns are the care step's to change
        assert np.array_equal(getattr(elders, column), values), column


def test_the_waiting_list_is_first_come_first_served_within_a_class_over_the_years():
    elders = elders_with([MODERATE] * 3, income=MIDDLE)
    homes = homes_of((PUBLIC, [0, 0, 0]))
    empty = np.array([], dtype=np.int64)

    def year(y, rows, seed):
        return admit_to_homes(
            elders,
            rows,
            np.full(rows.size, O_PUBLIC),
            np.full(rows.size, NURSING),
            y,
            homes,
            empty,
            np.ones(1),
            P,
            np.random.default_rng(seed),
        )

    _, _, waiting_since, _ = year(2021, np.array([1, 2]), 8)  # no beds: both join the list
    assert waiting_since.tolist() == [2021, 2021]
    elders.waiting_since[[1, 2]] = waiting_since
    homes.homes[0].beds = np.array([0, 2, 0])
    home, _, waiting_since, adm = year(2022, np.array([0, 1, 2]), 9)  # the earliest row joins a year later: it waits
    assert (home >= 0).tolist() == [False, True, True] and adm.public_joined.tolist() == [2021, 2021]
    assert waiting_since.tolist() == [2022, 0, 0] and adm.waiting.tolist() == [0]


def test_admission_counts_residents_and_staff_already_there():
    elders = elders_with([MODERATE, TOTAL, MODERATE], income=MIDDLE, setting=[INSTITUTION, NO_NEED, NO_NEED])
    elders.home[0], elders.bed[0] = 0, NURSING
    homes = homes_of((PUBLIC, [0, 3, 0]))
    staff = np.array([0.2 + 0.3])  # the resident takes 0.2 of a worker; 0.3 left
    home, _, _, _ = admit_to_homes(
        elders,
        np.array([1, 2]),
        np.full(2, O_PUBLIC),
        np.full(2, NURSING),
        2022,
        homes,
        np.array([0]),
        staff,
        P,
        np.random.default_rng(10),
    )
    assert (home >= 0).tolist() == [False, True]  # total loss takes 0.4 of a worker: only the moderate one fits


# --- settling at home ----------------------------------------------------------------------------------
def test_those_not_admitted_choose_again_at_home_within_the_places():
    n = 200
    elders = elders_with(np.full(n, SEVERE))
    choosers = np.arange(n)
    choice = np.full(n, O_PUBLIC)
    choice[10 : n // 2] = O_BED
    placed = np.zeros(n, dtype=bool)
    placed[:10] = True
    elders.setting[:10] = INSTITUTION
    elders.home[:10] = 0
    utility = np.zeros((n, N_OPTIONS))
    chosen = choice.copy()
    at_home = settle_at_home(
        elders, choosers, choice, utility, placed, {O_BED: 20, O_DAY: 5}, np.random.default_rng(11)
    )
    home = ~placed
    assert not np.isin(at_home[home], [O_PUBLIC, O_PRIVATE]).any()
    assert (OPTION_SETTING[at_home[home]] == FAMILY_BED).sum() == 20 and (at_home[home] == O_DAY).sum() <= 5
    assert (at_home[placed] == O_PUBLIC).all()  # the admitted keep their choice
    assert np.array_equal(choice, chosen) and (utility == 0).all()  # what it was given is left as it was
    # those who chose a home and were not admitted spread over the options at home
    again = at_home[n // 2 :]
    assert (again == O_FAMILY).sum() > 0 and (again == O_HOME).sum() > 0
