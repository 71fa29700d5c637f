"""Care homes: building, converting and closing beds, sharing a change out over homes, first-fit admission,
the base-year homes, and the bed targets the levers set."""

from fractions import Fraction

import numpy as np
import pytest
from conftest import make_scenario
from submodel_helpers import elders_with, levers_of, model

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters, care_baselines
from sim.model.elders import INSTITUTION
from sim.model.homes import (
    DEMENTIA,
    GENERAL,
    NURSING,
    PBPO,
    PRIVATE,
    PUBLIC,
    BedTargets,
    Homes,
    admit,
    affordable_grade,
    bed_targets,
    initial_homes,
    needed_bed,
    occupancy,
    resident_load,
    residents_per_worker,
    share_out,
)

# the residents per worker these cases were worked out with (one grade, so the grade does not matter)
P = Parameters({"residents_per_worker": {"grade_1": [10, 8, 5, 3, 2.5]}, "staffing_grade": 1})


def homes_of(*specs) -> Homes:
    """Homes from (ownership, [general, nursing, dementia]) pairs."""
    homes = Homes()
    m = model()
    for ownership, beds in specs:
        homes.add(m, ownership, np.array(beds), P)
    return homes


def build(homes: Homes, total: int, nursing: int = 0, dementia: int = 0, occupied=None, share=0.2, size=100, seed=0):
    occupied = np.zeros((len(homes), 3), dtype=np.int64) if occupied is None else np.asarray(occupied)
    homes.build(model(), BedTargets(total, nursing, dementia), occupied, share, size, P, np.random.default_rng(seed))


def public_beds(homes: Homes) -> int:
    return int(homes.beds()[homes.ownership() == PUBLIC].sum())


# --- building ------------------------------------------------------------------------------------------
def test_beds_reach_the_total_and_the_public_share_holds_over_all_beds_added_in_uneven_steps():
    homes = homes_of((PUBLIC, [100, 0, 0]), (PRIVATE, [100, 0, 0]))
    total, added = 200, 0
    for step in (7, 300, 13, 180, 500):  # 1,000 beds in all
        total += step
        added += step
        build(homes, total, share=0.2)
        assert homes.beds().sum() == total
        # the public share holds over everything added so far (to a bed), not step by step
        assert public_beds(homes) - 100 == round(0.2 * added)
    assert public_beds(homes) - 100 == 200
    assert homes.added_beds == 1000 and homes.added_public == 200


@pytest.mark.parametrize("share", [0.0, 0.35, 1.0])
def test_the_public_share_of_new_beds_is_whatever_the_lever_says(share):
    homes = homes_of((PUBLIC, [50, 0, 0]), (PRIVATE, [50, 0, 0]))
    for total in (133, 250, 251, 600):
        build(homes, total, share=share)
    assert public_beds(homes) - 50 == round(share * 500)


def test_new_beds_go_into_new_homes_of_the_mean_size_and_a_small_rest_into_an_existing_home_of_its_kind():
    homes = homes_of((PUBLIC, [80, 0, 0]), (PRIVATE, [80, 0, 0]), (PBPO, [80, 0, 0]))
    build(homes, 240 + 230, share=0.0, size=100)  # 230 private beds: two new homes of 100, 30 to an old one
    beds = homes.beds().sum(axis=1)
    assert len(homes) == 5
    assert beds[3:].tolist() == [100, 100] and (homes.ownership()[3:] == PRIVATE).all()
    assert beds[0] == 80  # the public home got nothing
    assert sorted(beds[1:3].tolist()) == [80, 110]  # the rest went to a home not public

    build(homes, 470 + 60, share=1.0, size=100)  # 60 public beds: at least half a home's size, a new home
    assert len(homes) == 6 and homes.ownership()[5] == PUBLIC and homes.beds()[5].sum() == 60

    build(homes, 530 + 20, share=1.0, size=100)  # 20 public beds: to the existing public homes
    assert len(homes) == 6
    assert public_beds(homes) == 80 + 60 + 20


def test_new_beds_are_general_beds():
    homes = homes_of((PUBLIC, [10, 5, 0]), (PRIVATE, [10, 5, 0]))
    build(homes, 300)
    assert homes.beds()[:, NURSING].sum() == 10 and homes.beds()[:, DEMENTIA].sum() == 0


def test_closures_take_free_general_beds_first_spread_in_proportion_over_homes():
    homes = homes_of((PUBLIC, [300, 50, 0]), (PRIVATE, [100, 50, 0]))
    build(homes, 500 - 200, nursing=100)  # close 200 of the 400 general beds
    assert homes.beds().tolist() == [[150, 50, 0], [50, 50, 0]]


def test_closures_never_go_below_occupied_beds():
    homes = homes_of((PUBLIC, [300, 50, 20]), (PRIVATE, [100, 60, 0]))
    occupied = np.array([[290, 40, 20], [10, 60, 0]])
    build(homes, 0, occupied=occupied)  # close everything that can be closed
    assert (homes.beds() == occupied).all()

    homes = homes_of((PUBLIC, [300, 50, 20]), (PRIVATE, [100, 60, 0]))
    build(homes, 530 - 110, nursing=0, occupied=occupied)  # 100 free general beds, then 10 nursing beds
    beds = homes.beds()
    assert beds.sum() == 420 and (beds >= occupied).all()
    assert beds[:, GENERAL].tolist() == [290, 10] and beds[:, NURSING].sum() == 100


def test_conversions_reach_the_dementia_and_nursing_targets_from_free_general_beds():
    homes = homes_of((PUBLIC, [300, 0, 0]), (PRIVATE, [100, 0, 0]), (PRIVATE, [100, 0, 0]))
    occupied = np.array([[100, 0, 0], [50, 0, 0], [0, 0, 0]])  # free general beds 200, 50, 100
    build(homes, 500, nursing=210, dementia=35, occupied=occupied)
    beds = homes.beds()
    assert beds.sum() == 500
    assert beds[:, DEMENTIA].sum() == 35
    assert beds[:, NURSING].sum() + beds[:, DEMENTIA].sum() == 210  # dementia beds are nursing-type too
    assert (beds[:, GENERAL] >= occupied[:, GENERAL]).all()
    # each home converts the same share of its free general beds: 35 dementia beds as 20, 5, 10
    assert beds[:, DEMENTIA].tolist() == [20, 5, 10]
    assert beds[:, NURSING].tolist() == [100, 25, 50]


def test_conversions_stop_at_the_free_general_beds():
    homes = homes_of((PUBLIC, [100, 0, 0]))
    build(homes, 100, nursing=100, dementia=10, occupied=[[70, 0, 0]])
    assert homes.beds().tolist() == [[70, 20, 10]]


def test_targets_already_met_convert_nothing_back():
    homes = homes_of((PUBLIC, [10, 80, 10]))
    build(homes, 100, nursing=20, dementia=0)
    assert homes.beds().tolist() == [[10, 80, 10]]


# --- share_out -----------------------------------------------------------------------------------------
def is_largest_remainders(k: np.ndarray, available: np.ndarray, n: int) -> bool:
    """Whether ``k`` is a largest-remainder apportionment of ``n`` in proportion to ``available``, in exact
    arithmetic: each gets its quota's floor or one more, and those with one more have remainders at least as
    large as any of the others' (exact ties may go either way)."""
    free = [max(int(a), 0) for a in available]
    quota = [Fraction(a * n, sum(free)) for a in free]
    floor = [q.numerator // q.denominator for q in quota]
    up = [int(k[i]) - floor[i] for i in range(len(free))]
    if not set(up) <= {0, 1}:
        return False
    got = [quota[i] - floor[i] for i in range(len(free)) if up[i]]
    missed = [quota[i] - floor[i] for i in range(len(free)) if not up[i]]
    return not got or not missed or min(got) >= max(missed)


def test_share_out_sums_to_n_caps_at_what_is_available_and_is_proportional():
    rng = np.random.default_rng(3)
    for _ in range(300):
        available = rng.integers(-3, 40, size=rng.integers(1, 12))
        n = int(rng.integers(0, max(available.clip(min=0).sum(), 1) + 5))
        k = share_out(available, n)
        free = available.clip(min=0)
        assert k.sum() == min(n, free.sum())
        assert (k >= 0).all() and (k <= free).all()
        if n < free.sum():
            assert (np.abs(k - free * n / free.sum()) < 1).all()
            assert is_largest_remainders(k, available, n)


def test_share_out_gives_the_remainder_to_the_largest_fractions():
    assert share_out(np.array([10, 20, 30]), 7).tolist() == [1, 2, 4]  # quotas 1.17, 2.33, 3.5
    assert share_out(np.array([5, 3, 2]), 5).tolist() == [3, 1, 1]  # 2.5, 1.5, 1.0: the tie to the first
    assert share_out(np.array([1, 1, 1]), 2).tolist() == [1, 1, 0]


def test_share_out_of_at_least_all_that_is_available_takes_all_of_it():
    assert share_out(np.array([4, 0, 6]), 10).tolist() == [4, 0, 6]
    assert share_out(np.array([4, -2, 6]), 25).tolist() == [4, 0, 6]
    assert share_out(np.array([0, 0]), 3).tolist() == [0, 0]
    assert share_out(np.array([4, 6]), 0).tolist() == [0, 0]


# --- admission -----------------------------------------------------------------------------------------
def first_fit(homes, wanted, load, free_beds, free_staff):
    """The admission rule written plainly: candidate by candidate, homes in turn."""
    free_beds, free_staff = free_beds.copy(), free_staff.copy()
    home = np.full(wanted.size, -1)
    bed = np.full(wanted.size, -1)
    for i, want in enumerate(wanted):
        for b in [want, NURSING] if want == DEMENTIA else [want]:
            for h in homes:
                if free_beds[h, b] > 0 and load[i] <= free_staff[h] + 1e-9:
                    free_beds[h, b] -= 1
                    free_staff[h] -= load[i]
                    home[i], bed[i] = h, b
                    break
            if home[i] >= 0:
                break
    return home, bed, free_beds, free_staff


def test_admission_matches_first_fit_written_plainly():
    rng = np.random.default_rng(8)
    for _ in range(200):
        n_homes = int(rng.integers(1, 6))
        free_beds = rng.integers(0, 4, size=(n_homes, 3))
        free_staff = rng.random(n_homes) * 2
        wanted = rng.integers(0, 3, size=int(rng.integers(0, 15)))
        load = resident_load(rng.integers(0, 5, size=wanted.size), P)
        homes = rng.permutation(n_homes)[: rng.integers(1, n_homes + 1)]
        expected = first_fit(homes, wanted, load, free_beds, free_staff)
        beds_now, staff_now = free_beds.copy(), free_staff.copy()
        home, bed = admit(homes, wanted, load, beds_now, staff_now)
        assert np.array_equal(home, expected[0]) and np.array_equal(bed, expected[1])
        assert np.array_equal(beds_now, expected[2]) and np.allclose(staff_now, expected[3])
        assert (beds_now >= 0).all() and (staff_now >= -1e-9).all()
        admitted = home >= 0
        assert (beds_now.sum() == free_beds.sum() - admitted.sum()) and set(home[admitted]) <= set(homes)


def test_admission_keeps_the_order_of_priority():
    wanted = np.array([GENERAL, GENERAL, GENERAL])
    home, _ = admit(np.array([0]), wanted, np.full(3, 0.1), np.array([[2, 0, 0]]), np.ones(1))
    assert home.tolist() == [0, 0, -1]


def test_a_heavy_candidate_who_fits_nowhere_does_not_block_a_lighter_one_behind():
    free_beds = np.array([[0, 2, 0]])
    free_staff = np.array([0.3])
    load = resident_load(np.array([TOTAL, MODERATE]), P)  # 0.4 and 0.2 of a worker
    home, bed = admit(np.array([0]), np.array([NURSING, NURSING]), load, free_beds, free_staff)
    assert home.tolist() == [-1, 0] and bed.tolist() == [-1, NURSING]
    assert free_beds.tolist() == [[0, 1, 0]] and free_staff[0] == pytest.approx(0.1)


def test_homes_are_tried_in_the_order_given():
    free_beds = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]])
    home, _ = admit(np.array([2, 0, 1]), np.array([GENERAL, GENERAL]), np.full(2, 0.1), free_beds, np.ones(3))
    assert home.tolist() == [2, 0]


def test_dementia_candidates_take_a_dementia_bed_else_a_nursing_bed_and_no_one_else_changes_type():
    free_beds = np.array([[1, 1, 1], [0, 1, 0]])
    wanted = np.array([DEMENTIA, DEMENTIA, DEMENTIA, DEMENTIA, GENERAL, GENERAL])
    home, bed = admit(np.array([0, 1]), wanted, np.full(6, 0.01), free_beds, np.ones(2))
    assert bed.tolist() == [DEMENTIA, NURSING, NURSING, -1, GENERAL, -1]
    assert home.tolist() == [0, 0, 1, -1, 0, -1]
    assert (free_beds == 0).all()
    # a nursing candidate never takes a dementia or a general bed
    home, bed = admit(np.array([0]), np.array([NURSING]), np.array([0.01]), np.array([[5, 0, 5]]), np.ones(1))
    assert home.tolist() == [-1]


def test_admission_without_homes_or_candidates_admits_no_one():
    home, bed = admit(np.array([], dtype=int), np.array([GENERAL]), np.array([0.1]), np.zeros((0, 3)), np.zeros(0))
    assert home.tolist() == [-1] and bed.tolist() == [-1]
    home, _ = admit(np.array([0]), np.array([], dtype=int), np.array([]), np.ones((1, 3), dtype=int), np.ones(1))
    assert home.size == 0


# --- base-year homes -----------------------------------------------------------------------------------
def base(region: str = "shengzhou", **changes) -> dict:
    return {k: v["value"] for k, v in care_baselines()[region].items()} | changes


def test_base_year_homes_have_the_counts_and_beds_of_each_ownership():
    b = base()  # 28 homes, 3,700 beds, 20% of homes and 25% of beds public, a quarter of the rest PBPO
    homes = initial_homes(model(), b, 1, P, np.random.default_rng(1))
    own, beds = homes.ownership(), homes.beds()
    assert len(homes) == 28
    assert (own == PUBLIC).sum() == round(28 * 0.2)
    assert (own == PBPO).sum() == round(0.25 * (28 - round(28 * 0.2)))
    assert beds.sum() == 3700 and beds[own == PUBLIC].sum() == round(0.25 * 3700)
    assert beds[:, NURSING].sum() == round(0.5 * 3700) and beds[:, DEMENTIA].sum() == 0
    assert (beds >= 0).all() and (beds.sum(axis=1) > 0).all()
    assert beds.sum(axis=1).std() > 0  # sizes vary around the mean


def test_base_year_homes_at_a_coarse_scale_keep_one_home_of_each_kind_that_has_beds():
    homes = initial_homes(model(), base(), 1000, P, np.random.default_rng(1))  # 4 agents' beds
    own, beds = homes.ownership(), homes.beds()
    assert beds.sum() == 4
    assert (own == PUBLIC).sum() == 1 and beds[own == PUBLIC].sum() == 1
    assert (own != PUBLIC).sum() == 1 and beds[own != PUBLIC].sum() == 3


def test_base_year_homes_of_a_region_without_public_homes_are_all_other_homes():
    homes = initial_homes(model(), base(public_share_of_homes=0.0), 1, P, np.random.default_rng(1))
    assert (homes.ownership() != PUBLIC).all() and homes.beds().sum() == 3700


def test_base_year_dementia_beds_are_placed():
    homes = initial_homes(model(), base(dementia_beds=40), 1, P, np.random.default_rng(1))
    beds = homes.beds()
    assert beds[:, DEMENTIA].sum() == 40 and beds.sum() == 3700 and (beds >= 0).all()


def test_base_year_nursing_type_beds_dementia_included_are_the_nursing_share():
    homes = initial_homes(model(), base(dementia_beds=200), 1, P, np.random.default_rng(1))
    beds = homes.beds()
    assert beds[:, NURSING].sum() + beds[:, DEMENTIA].sum() == round(0.5 * 3700)


# --- small rules ---------------------------------------------------------------------------------------
def test_needed_bed_is_nursing_from_moderate_and_dementia_only_where_there_are_dementia_beds():
    level = np.array([INTACT, MILD, MODERATE, SEVERE, TOTAL] * 2)
    dementia = np.repeat([False, True], 5)
    assert needed_bed(level, dementia, False).tolist() == [GENERAL, GENERAL, NURSING, NURSING, NURSING] * 2
    assert needed_bed(level, dementia, True).tolist() == [GENERAL, GENERAL, NURSING, NURSING, NURSING] + [
        GENERAL,
        GENERAL,
        DEMENTIA,
        DEMENTIA,
        DEMENTIA,
    ]


def test_resident_load_is_one_over_residents_per_worker_at_the_staffing_grade():
    """Grade 1 and grade 5 are the national standard's ratios; grade 3 lies half-way on the log scale."""
    grade = {g: Parameters({"staffing_grade": g}) for g in (1, 3, 5)}  # the packaged standard
    assert resident_load(np.arange(5), grade[1]) == pytest.approx([1 / 25, 1 / 25, 1 / 25, 1 / 10, 1 / 10])
    assert resident_load(np.arange(5), grade[5]) == pytest.approx([1 / 15, 1 / 10, 1 / 5, 1 / 4, 1 / 4])
    middle = resident_load(np.arange(5), grade[3])
    assert middle == pytest.approx(
        np.sqrt(resident_load(np.arange(5), grade[1]) * resident_load(np.arange(5), grade[5]))
    )


def test_occupancy_counts_residents_by_home_and_bed_type_and_sums_their_load():
    elders = elders_with(
        [MILD, SEVERE, TOTAL, MODERATE, SEVERE],
        setting=INSTITUTION,
        home=[0, 2, 2, 2, 0],
        bed=[GENERAL, NURSING, NURSING, DEMENTIA, NURSING],
    )
    occupied, load = occupancy(elders, np.array([0, 1, 2, 3]), 3, P)  # the last is not counted
    assert occupied.tolist() == [[1, 0, 0], [0, 0, 0], [0, 2, 1]]
    per_worker = residents_per_worker(P)
    assert load == pytest.approx([1 / per_worker[1], 0, 1 / per_worker[3] + 1 / per_worker[4] + 1 / per_worker[2]])
    occupied, load = occupancy(elders, np.array([], dtype=int), 2, P)
    assert occupied.shape == (2, 3) and not occupied.any() and load.dtype == float


# --- bed targets ---------------------------------------------------------------------------------------
def test_bed_targets_follow_the_levers_in_agents_and_reach_the_nursing_share():
    scenario = make_scenario(
        scale=10,
        horizon=2026,
        policy={"beds": {"total": {2025: 4700}, "nursing_share": {2025: 0.6}, "dementia_per_10k": {2025: 17}}},
    )
    baseline = care_baselines()["shengzhou"]  # 3,700 beds, nursing share 0.5, no dementia beds
    start = bed_targets(levers_of(scenario, 2020, baseline, 195_000).beds, 10, 19_500)
    assert (start.total, start.nursing, start.dementia) == (370, 185, 0)
    mid = bed_targets(
        levers_of(scenario, 2022, baseline, 195_000).beds, 10, 20_000
    )  # 4,100 beds, share 0.54, 6.8 per 10,000
    assert mid.total == 410
    assert mid.nursing == 222  # 221.4 rounded up: the share reached, not just missed
    assert mid.dementia == 14  # 6.8 x 20,000 agents / 10,000 = 13.6, rounded up
    end = bed_targets(levers_of(scenario, 2026, baseline, 195_000).beds, 10, 20_000)
    assert (end.total, end.nursing, end.dementia) == (470, 282, 34)


def test_bed_targets_keep_a_base_year_dementia_rate_per_older_person():
    scenario = make_scenario(horizon=2025)
    baseline = care_baselines()["shengzhou"] | {"dementia_beds": {"value": 100}}
    targets = bed_targets(
        levers_of(scenario, 2024, baseline, 200_000).beds, 1, 220_000
    )  # 5 per 10,000, 10% more older people
    assert targets.dementia == 110


def test_the_affordable_grade_is_the_one_whose_standard_the_staff_meets():
    """Grade 3 asks exactly the staff that grade 3's ratios give these residents and empty beds; less staff
    than grade 1 asks is grade 1, more than grade 5 asks is grade 5."""
    packaged = Parameters()
    residents = np.array([0.0, 100.0, 200.0, 150.0, 50.0])
    per_worker = residents_per_worker(packaged, 3.0)
    staff = (residents / per_worker).sum() + 80.0 / per_worker[int(packaged.empty_bed_level)]
    assert affordable_grade(staff, residents, 80.0, packaged) == pytest.approx(3.0, abs=1e-9)
    assert affordable_grade(1.0, residents, 80.0, packaged) == 1.0
    assert affordable_grade(1e6, residents, 80.0, packaged) == 5.0
