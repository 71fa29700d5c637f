"""Who each elder is: insurance scheme and income group drawn at the shares the parameters give for their
residence, dementia by level, and dementia kept at its prevalence by level."""

import numpy as np
import pytest
from submodel_helpers import census_of, many_elders, sd_bound

from sim.data.demography import AGE_MIN, N_AGES
from sim.data.levels import N_LEVELS
from sim.data.parameters import Parameters
from sim.model.characteristics import align_dementia, assign, dementia_by_level, monthly_income
from sim.model.elders import (
    DESTITUTE,
    EMPLOYEE,
    HIGH,
    LOW,
    MIDDLE,
    MINIMUM_INCOME,
    RURAL_RESIDENT,
    URBAN_RESIDENT,
    Elders,
)

P = Parameters()
DEMENTIA = np.array([0.01, 0.05, 0.10, 0.20, 0.30])


@pytest.fixture(scope="module")
def drawn():
    elders = Elders()
    for urban in (False, True):
        elders.add(many_elders([20_000] * N_LEVELS, urban=urban).counts())
    assign(elders, slice(0, len(elders)), 0.05, DEMENTIA, P, np.random.default_rng(1))
    return elders


def near(share: float, expected: float, n: int) -> bool:
    return abs(share - expected) <= sd_bound(expected, n)


def test_insurance_schemes_follow_their_shares_by_residence(drawn):
    e = drawn
    urban = e.urban
    assert urban.mean() == 0.5
    assert near((e.scheme[urban] == EMPLOYEE).mean(), 0.65, urban.sum())
    assert set(np.unique(e.scheme[urban])) == {EMPLOYEE, URBAN_RESIDENT}
    assert (e.scheme[~urban] == RURAL_RESIDENT).all()


def test_income_groups_follow_their_shares_by_residence(drawn):
    e = drawn
    assert near((e.income == DESTITUTE).mean(), 0.05, len(e))
    for urban, poor in ((True, 0.03), (False, 0.06)):
        mine = e.urban == urban
        assert near((e.income[mine] == MINIMUM_INCOME).mean(), poor, mine.sum())
    rest = e.income >= LOW
    for group, share in zip((LOW, MIDDLE, HIGH), P.income_group_split, strict=True):
        assert near((e.income[rest] == group).mean(), share, rest.sum())
    assert e.income.max() <= HIGH


def test_dementia_follows_its_prevalence_by_level(drawn):
    e = drawn
    for level in range(N_LEVELS):
        mine = e.level == level
        assert near(e.dementia[mine].mean(), DEMENTIA[level], mine.sum())


def test_only_the_new_rows_are_described():
    elders = many_elders([100] * N_LEVELS)
    first = len(elders)
    elders.add(np.ones((2, 2, N_AGES, N_LEVELS), dtype=np.int64))
    assign(elders, slice(first, len(elders)), 0.0, np.ones(N_LEVELS), P, np.random.default_rng(2))
    assert (elders.scheme[:first] == EMPLOYEE).all() and not elders.dementia[:first].any()
    assert (elders.scheme[first:][~elders.urban[first:]] == RURAL_RESIDENT).all() and elders.dementia[first:].all()
    assert (elders.income[first:] != DESTITUTE).all()


def test_dementia_prevalence_by_level_averages_the_overall_prevalence():
    counts = np.array([50_000, 20_000, 8_000, 5_000, 3_000])
    prevalence = dementia_by_level(counts, P)
    assert (prevalence * counts).sum() / counts.sum() == pytest.approx(0.06)
    assert prevalence / prevalence[0] == pytest.approx([1, 3, 6, 10, 14])
    assert dementia_by_level(np.array([1, 0, 0, 0, 1000]), P).max() <= 0.95


# --- aligning dementia ---------------------------------------------------------------------------------
def mixed(counts, batches=4) -> Elders:
    """Elders whose levels are interleaved in row order: ``batches`` blocks each holding every level."""
    elders = Elders()
    for _ in range(batches):
        block = np.zeros((2, 2, N_AGES, N_LEVELS), dtype=np.int64)
        block[0, 0, 70 - AGE_MIN] = counts
        elders.add(block)
    return elders


def test_dementia_is_aligned_to_the_prevalence_of_each_level_and_never_removed():
    elders = mixed([250, 125, 75, 50, 25])  # 1,000, 500, 300, 200, 100 by level
    rng = np.random.default_rng(3)
    at_2 = np.flatnonzero(elders.level == 2)
    elders.dementia[rng.choice(at_2, 100, replace=False)] = True  # more than its prevalence: kept
    elders.dementia[np.flatnonzero(elders.level == 3)[:5]] = True
    before = elders.dementia.copy()
    align_dementia(elders, census_of(elders).demented_by_level, DEMENTIA, rng)
    by_level = np.bincount(elders.level, weights=elders.dementia, minlength=N_LEVELS)
    assert by_level.tolist() == [10, 25, 100, 40, 30]  # round(prevalence x persons), or more
    assert elders.dementia[before].all()  # no case removed


def test_new_dementia_cases_are_picked_at_random_among_the_non_demented_of_their_level():
    picked = np.zeros(0)
    for seed in range(300):
        elders = mixed([0, 25, 0, 0, 0])  # 100 at mild loss, in four blocks
        elders.dementia[::2] = True  # half of them already: 50 free
        align_dementia(
            elders, census_of(elders).demented_by_level, np.array([0, 0.6, 0, 0, 0]), np.random.default_rng(seed)
        )  # 10 new cases
        new = np.flatnonzero(elders.dementia[1::2])
        assert new.size == 10
        picked = np.concatenate([picked, new])
    frequency = np.bincount(picked.astype(int), minlength=50) / 300  # each row's chance: 10 of 50
    assert np.abs(frequency - 0.2).max() < 5 * np.sqrt(0.2 * 0.8 / 300)


def test_monthly_income_by_residence_and_group():
    urban = np.array([True, True, False, False])
    group = np.array([DESTITUTE, HIGH, MINIMUM_INCOME, MIDDLE])
    assert monthly_income(urban, group, P).tolist() == [1500, 7500, 700, 1300]
