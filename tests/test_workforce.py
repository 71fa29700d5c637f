"""Care workers: leaving and retiring, training and promotion, the split of new workers over vacancies, the
vacancies themselves, the base-year workforce and one year of the labour market."""

from fractions import Fraction

import numpy as np
import pytest
from conftest import make_scenario
from submodel_helpers import levers_of, sd_bound

from sim.data.parameters import Parameters, care_baselines
from sim.model.homes import resident_load
from sim.model.workforce import (
    HOME_CARE_PROVIDERS,
    WEEKS_PER_YEAR,
    Workforce,
    allocate,
    labour_market,
    start,
    vacancies,
)

# the residents per worker these cases were worked out with (one grade, so the grade does not matter)
P = Parameters({"residents_per_worker": {"grade_1": [10, 8, 5, 3, 2.5]}, "staffing_grade": 1})
BASELINE = care_baselines()["shengzhou"]


def workforce(employers, levels=0, ages=40, p=P) -> Workforce:
    wf = Workforce()
    rng = np.random.default_rng(0)
    wf.hire(np.asarray(employers), levels, p, rng)
    wf.age[:] = ages
    return wf


# --- leaving and ageing --------------------------------------------------------------------------------
def test_workers_retire_at_the_retirement_age_and_the_rest_age_a_year():
    p = Parameters({"attrition_rate": 0.0})
    wf = workforce([0, 0, 1, 1], ages=[58, 59, 60, 65], p=p)
    wf.tenure[:] = [0, 3, 2, 1]
    wf.leave_and_age(1.0, 1.0, p, np.random.default_rng(1))
    assert wf.age.tolist() == [59, 60] and wf.tenure.tolist() == [1, 4]
    assert wf.left == 2 and wf.joined == 0
    wf.leave_and_age(1.0, 1.0, p, np.random.default_rng(1))
    assert wf.age.tolist() == [60] and wf.left == 1


@pytest.mark.parametrize("pay_ratio, multiplier", [(1.0, 1.0), (2.0, 1.0), (1.0, 2.0), (0.5, 1.5)])
def test_the_leaving_rate_falls_with_pay_and_follows_the_multiplier(pay_ratio, multiplier):
    n = 40_000
    wf = workforce(np.zeros(n, dtype=int), ages=40)
    wf.leave_and_age(pay_ratio, multiplier, P, np.random.default_rng(2))
    rate = min(0.95, 0.25 * multiplier / pay_ratio)  # attrition 25% a year, pay elasticity 1
    assert wf.left / n == pytest.approx(rate, abs=sd_bound(rate, n))
    assert len(wf) == n - wf.left


def test_workers_keep_their_level_and_employer_when_others_leave():
    wf = workforce(np.arange(1000) % 7, levels=np.arange(1000) % 4, ages=40)
    wf.tenure[:] = np.arange(1000)  # an identity
    wf.leave_and_age(1.0, 1.0, P, np.random.default_rng(3))
    who = wf.tenure - 1
    assert (np.diff(who) > 0).all()
    assert np.array_equal(wf.employer, who % 7) and np.array_equal(wf.level, who % 4)


# --- training and promotion ----------------------------------------------------------------------------
def test_trainees_are_newcomers_by_the_entry_share_and_upgrades_of_uncertified_workers_for_the_rest():
    p = Parameters({"promotion_rate": [0.0, 0.0]})
    wf = workforce(np.zeros(100, dtype=int), levels=np.repeat([0, 1, 2], [60, 30, 10]))
    newcomers = wf.train_and_promote(50, 0.4, p, np.random.default_rng(4))
    assert newcomers == 20  # 50 x 0.4
    assert np.bincount(wf.level, minlength=4).tolist() == [30, 60, 10, 0]
    assert wf.trained_total == 50


def test_upgrades_stop_at_those_who_can_move_up():
    p = Parameters({"promotion_rate": [0.0, 0.0]})
    wf = workforce(np.zeros(12, dtype=int), levels=np.repeat([0, 3], [5, 7]))
    newcomers = wf.train_and_promote(40, 0.5, p, np.random.default_rng(5))
    assert newcomers == 20 and (wf.level > 0).all()
    assert wf.trained_total == 25  # 20 newcomers and the 5 who could be upgraded (the advanced cannot)


def test_trainees_beyond_the_uncertified_raise_certified_workers_a_level_juniors_first():
    """The plans' training includes skill levels: once every uncertified worker is certified, trainees move
    juniors to intermediate, then intermediates to advanced, one level a year at most."""
    p = Parameters({"promotion_rate": [0.0, 0.0]})
    wf = workforce(np.zeros(30, dtype=int), levels=np.repeat([0, 1, 2], [5, 10, 15]))
    wf.train_and_promote(25, 0.0, p, np.random.default_rng(9))
    assert np.bincount(wf.level, minlength=4).tolist() == [0, 5, 15, 10]  # 5 + 10 + 10 trained
    assert wf.trained_total == 25


def test_newcomers_are_rounded_stochastically_with_the_right_mean():
    counts = [
        workforce([0]).train_and_promote(3, 0.5, P, np.random.default_rng(seed)) for seed in range(2000)
    ]  # 1.5 newcomers expected
    assert set(counts) == {1, 2} and np.mean(counts) == pytest.approx(1.5, abs=5 * 0.5 / np.sqrt(2000))


def test_junior_workers_are_promoted_to_intermediate_at_the_first_rate():
    p = Parameters({"promotion_rate": [0.3, 0.0]})
    n = 20_000
    wf = workforce(np.zeros(2 * n, dtype=int), levels=np.repeat([1, 3], n))  # juniors and advanced
    wf.train_and_promote(0, 0.0, p, np.random.default_rng(6))
    counts = np.bincount(wf.level, minlength=4)
    assert counts[0] == 0 and counts[1] + counts[2] == n and counts[3] == n
    assert counts[2] / n == pytest.approx(0.3, abs=sd_bound(0.3, n))


def test_intermediate_workers_are_promoted_to_advanced_at_the_second_rate():
    p = Parameters({"promotion_rate": [0.0, 0.1]})
    n = 20_000
    wf = workforce(np.zeros(n, dtype=int), levels=2)
    wf.train_and_promote(0, 0.0, p, np.random.default_rng(7))
    assert (wf.level == 3).mean() == pytest.approx(0.1, abs=sd_bound(0.1, n))


def test_no_worker_moves_up_more_than_one_level_a_year():
    p = Parameters({"promotion_rate": [1.0, 1.0]})
    wf = workforce(np.zeros(3, dtype=int), levels=[1, 2, 3])
    wf.train_and_promote(0, 0.0, p, np.random.default_rng(8))
    assert wf.level.tolist() == [2, 3, 3]


# --- allocation ----------------------------------------------------------------------------------------
def is_largest_remainders(whole: np.ndarray, weights: np.ndarray, n: int) -> bool:
    quota = [Fraction(w) * n / sum(Fraction(x) for x in weights) for w in weights]
    floor = [q.numerator // q.denominator for q in quota]
    up = [int(whole[i]) - floor[i] for i in range(len(weights))]
    got = [quota[i] - floor[i] for i in range(len(weights)) if up[i] == 1]
    missed = [quota[i] - floor[i] for i in range(len(weights)) if up[i] == 0]
    return set(up) <= {0, 1} and (not got or not missed or min(got) >= max(missed))


def test_allocation_is_proportional_to_vacancies_by_largest_remainders():
    rng = np.random.default_rng(9)
    for _ in range(300):
        vac = rng.integers(-3, 12, size=rng.integers(1, 9)).astype(float)
        n = int(rng.integers(0, 40))
        slots = allocate(vac, n, rng)
        hires = np.bincount(slots, minlength=vac.size)
        open_posts = vac.clip(min=0)
        assert hires.sum() == min(n, open_posts.sum())
        assert (hires <= open_posts).all()  # whole vacancies: never more than each one's
        if 0 < n < open_posts.sum():
            assert is_largest_remainders(hires, open_posts, n)
        assert (np.diff(slots) >= 0).all()


def test_allocation_examples():
    rng = np.random.default_rng(0)
    assert allocate(np.array([3.0, 1.0, 0.0, -2.0]), 2, rng).tolist() == [0, 0]  # quotas 1.5, 0.5: tie to first
    assert allocate(np.array([3.0, 1.0, 0.0, -2.0]), 10, rng).tolist() == [0, 0, 0, 1]
    assert allocate(np.array([6.0, 2.0, 2.0]), 5, rng).tolist() == [0, 0, 0, 1, 2]


def test_no_allocation_without_vacancies_or_workers():
    rng = np.random.default_rng(0)
    assert allocate(np.array([0.0, -1.0]), 5, rng).size == 0
    assert allocate(np.array([]), 5, rng).size == 0
    assert allocate(np.array([2.0, 3.0]), 0, rng).size == 0


def test_a_fraction_of_a_vacancy_is_worth_a_fraction_of_a_hire():
    hires = [allocate(np.array([0.2, 0.1]), 5, np.random.default_rng(seed)).size for seed in range(4000)]
    assert set(hires) == {0, 1}
    assert np.mean(hires) == pytest.approx(0.3, abs=sd_bound(0.3, 4000))


# --- vacancies -----------------------------------------------------------------------------------------
def test_vacancies_are_residents_load_and_free_beds_at_a_moderate_load_beyond_the_staff_and_home_care_hours():
    wf = workforce([0, HOME_CARE_PROVIDERS, HOME_CARE_PROVIDERS, 1, 1, 1])
    wf.home_care_demand = 3 * P.home_care_hours_per_worker / WEEKS_PER_YEAR  # three workers' hours
    beds = np.array([[10, 0, 0], [0, 5, 0], [2, 0, 0]])
    occupied = np.array([[4, 0, 0], [0, 5, 0], [0, 0, 0]])
    load = np.array([0.5, 1.0, 0.0])
    moderate = resident_load(np.array([2]), P)[0]
    expected = [0.5 + 6 * moderate - 1, 1.0 - 3, 2 * moderate - 0, 3 - 2]
    assert vacancies(wf, beds, occupied, load, P) == pytest.approx(expected)


# --- the base-year workforce ---------------------------------------------------------------------------
def test_the_base_year_workforce_has_the_workers_per_bed_a_home_care_share_and_the_rest_by_beds():
    beds = np.array([1000, 3000, 0, 6000])
    wf = start(beds, P, np.random.default_rng(10))
    total = 0.117 * beds.sum()  # 1,170
    assert abs(len(wf) - total) < 1
    staff, home_care = wf.staff_by_employer(beds.size)
    assert home_care == pytest.approx(0.2 * total, abs=1)
    assert staff[2] == 0
    assert staff == pytest.approx(beds / beds.sum() * (len(wf) - home_care), abs=1)
    assert wf.base_size == len(wf) and wf.joined == len(wf)
    assert wf.home_care_demand == pytest.approx(home_care * 1500 / 52)
    assert wf.tenure.min() >= 0 and wf.tenure.max() <= 5 and wf.tenure.max() > 0
    assert wf.age.min() >= 35 and wf.age.max() <= 55


def test_the_base_year_workforce_is_certified_at_the_base_year_shares():
    wf = start(np.array([100_000, 100_000]), P, np.random.default_rng(11))
    n = len(wf)
    shares = np.bincount(wf.level, minlength=4) / n
    for share, expected in zip(shares, [0.7, 0.3 * 0.7, 0.3 * 0.25, 0.3 * 0.05], strict=True):
        assert share == pytest.approx(expected, abs=sd_bound(expected, n))


# --- the labour market ---------------------------------------------------------------------------------
def market_year(policy: dict, staffed: int, base_size: int, beds: int = 1000, seed: int = 12) -> Workforce:
    """One labour-market year for one home of ``beds`` free beds and ``staffed`` workers."""
    scenario = make_scenario(horizon=2025, policy={"workforce": policy})
    wf = workforce(np.zeros(staffed, dtype=int), ages=40)
    wf.base_size = base_size
    empty = np.zeros((1, 3), dtype=np.int64)
    levers = levers_of(scenario, 2021, BASELINE).workforce
    labour_market(wf, levers, np.array([[beds, 0, 0]]), empty, np.zeros(1), P, np.random.default_rng(seed))
    return wf


def test_recruitment_from_the_open_market_is_capped_by_the_market():
    wf = market_year({"trained_per_year": 0, "migrants_per_year": 0}, staffed=100, base_size=100)
    assert wf.joined == 25  # 25% of the base workforce, at the base pay; the home wants 200


def test_the_market_answers_pay():
    wf = market_year({"trained_per_year": 0, "pay_uplift": 1.0}, staffed=100, base_size=100)
    assert wf.joined == 50  # twice the pay, twice the recruits (elasticity 1)


def test_recruits_only_fill_what_is_open():
    wf = market_year({"trained_per_year": 0}, staffed=0, base_size=10_000, beds=50)
    assert wf.joined == 10  # 50 free beds at a moderate resident's load: 10 workers wanted


@pytest.mark.parametrize("lever", [{"trained_per_year": 60, "entry_share": 1.0}, {"migrants_per_year": 60}])
def test_where_homes_lack_staff_more_trainees_or_migrants_mean_more_workers(lever):
    without = market_year({"trained_per_year": 0}, staffed=20, base_size=20)
    more = market_year({"trained_per_year": 0} | lever, staffed=20, base_size=20)
    assert len(more) - len(without) == 60  # the market gives 5 either way; the rest is the lever's
    assert (more.level == 1).sum() == (60 if "trained_per_year" in lever else 0)


def test_where_homes_have_their_staff_trainees_replace_recruits_and_no_one_is_hired_beyond_the_posts():
    wf = market_year({"trained_per_year": 30, "entry_share": 1.0, "migrants_per_year": 30}, staffed=0, base_size=0)
    assert wf.joined == 60  # 1,000 free beds want 200 workers: the 60 trainees and migrants, the market none
    wf = market_year({"trained_per_year": 300, "entry_share": 1.0}, staffed=0, base_size=10_000)
    assert wf.joined == 200
    assert (wf.level == 1).sum() == 200  # trainees first, no room left for recruits
