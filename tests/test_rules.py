"""Policy rules, each on arrays and (where compiled) on single elders: the two must agree."""

import numpy as np
import pytest

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.model import rules
from sim.model.elders import (
    DAY_CARE,
    DESTITUTE,
    EMPLOYEE,
    FAMILY,
    FAMILY_BED,
    HIGH,
    HOME_CARE,
    INCOME_GROUPS,
    INSTITUTION,
    LOW,
    MIDDLE,
    MINIMUM_INCOME,
    NO_NEED,
    RURAL_RESIDENT,
    SCHEMES,
    SETTINGS,
    URBAN_RESIDENT,
)

INCOMES = np.arange(len(INCOME_GROUPS), dtype=np.int8)
LEVELS = np.arange(5, dtype=np.int8)


def test_destitute_and_poor():
    assert rules.destitute(INCOMES).tolist() == [True, False, False, False, False]
    assert rules.poor(INCOMES).tolist() == [True, True, False, False, False]
    assert [bool(rules.destitute(int(i))) for i in INCOMES] == rules.destitute(INCOMES).tolist()
    assert [bool(rules.poor(int(i))) for i in INCOMES] == rules.poor(INCOMES).tolist()
    assert (DESTITUTE, MINIMUM_INCOME, LOW, MIDDLE, HIGH) == (0, 1, 2, 3, 4)


def test_unable_to_care_for_oneself_is_moderate_loss_or_worse():
    assert rules.unable_to_care_for_self(LEVELS).tolist() == [False, False, True, True, True]
    assert [bool(rules.unable_to_care_for_self(int(lvl))) for lvl in LEVELS] == [False, False, True, True, True]


def test_poor_and_disabled_needs_both():
    income, level = np.meshgrid(INCOMES, LEVELS, indexing="ij")
    expected = (income <= MINIMUM_INCOME) & (level >= MODERATE)
    assert np.array_equal(rules.poor_and_disabled(income.ravel(), level.ravel()), expected.ravel())
    for i, lvl, e in zip(income.ravel(), level.ravel(), expected.ravel(), strict=True):
        assert bool(rules.poor_and_disabled(int(i), int(lvl))) == e


def test_the_old_age_allowance_is_due_from_80():
    ages = np.array([60, 79, 80, 95], dtype=np.int16)
    assert rules.old_age_allowance_due(ages).tolist() == [False, False, True, True]
    assert [bool(rules.old_age_allowance_due(int(a))) for a in ages] == [False, False, True, True]


def test_public_priority_is_destitute_then_poor_and_disabled_then_everyone_else():
    income = np.array([DESTITUTE, DESTITUTE, MINIMUM_INCOME, MINIMUM_INCOME, LOW, HIGH])
    level = np.array([INTACT, TOTAL, MILD, MODERATE, TOTAL, SEVERE])
    assert rules.public_priority(income, level).tolist() == [0, 0, 2, 1, 2, 2]


@pytest.mark.parametrize("coverage", range(len(rules.COVERAGE)))
def test_who_the_insurance_covers(coverage):
    for scheme in range(len(SCHEMES)):
        for urban in (False, True):
            expected = {
                rules.URBAN_EMPLOYEES: scheme == EMPLOYEE,
                rules.URBAN: urban,
                rules.EVERYONE: True,
            }[coverage]
            assert rules.covered(coverage, scheme, urban) == expected
    assert rules.COVERAGE[coverage] in ("urban_employees", "urban", "all")


def test_the_insurance_pays_when_in_force_covered_and_at_or_above_the_eligible_level():
    for eligible_from in (MODERATE, SEVERE, TOTAL):
        for level in range(5):
            for scheme in (EMPLOYEE, URBAN_RESIDENT, RURAL_RESIDENT):
                urban = scheme != RURAL_RESIDENT
                for active in (False, True):
                    expected = active and scheme == EMPLOYEE and level >= eligible_from
                    got = rules.eligible(active, rules.URBAN_EMPLOYEES, eligible_from, scheme, urban, level)
                    assert got == expected
    assert rules.ELIGIBLE_FROM == {"moderate": MODERATE, "severe": SEVERE, "total": TOTAL}


def test_contributors_are_the_covered_population_of_all_ages():
    assert rules.contributors("urban_employees", 1_000_000, 0.7, 0.269) == pytest.approx(269_000)
    assert rules.contributors("urban", 1_000_000, 0.7, 0.269) == pytest.approx(700_000)
    assert rules.contributors("all", 1_000_000, 0.7, 0.269) == pytest.approx(1_000_000)


def test_home_care_workers_visit_home_care_and_family_beds_only():
    settings = np.arange(len(SETTINGS))
    assert settings[rules.visited(settings)].tolist() == [HOME_CARE, FAMILY_BED]
    assert not rules.visited(np.array([NO_NEED, FAMILY, DAY_CARE, INSTITUTION])).any()


def test_respite_goes_to_families_of_elders_at_severe_loss_or_worse():
    assert rules.RESPITE_FROM == SEVERE
