"""Need, the hours each arrangement gives, prices and who pays them (the compiled scalar functions called
from Python with scalars)."""

import numpy as np
import pytest

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, SETTINGS
from sim.model.money import Benefits
from sim.model.need import family_given, hours_given, hours_terms, need_hours
from sim.model.prices import DAYS_PER_MONTH, WEEKS_PER_MONTH, PriceTerms, bill, gross_price, price_terms
from sim.scenario import Insurance

P = Parameters()
HOURS = hours_terms(P)
TERMS = PriceTerms(
    home_care_hourly=60.0,
    day_care_monthly=600.0,
    family_bed_monthly=2000.0,
    institution_benefit=1470.0,
    home_cap=2100.0,
    home_share=0.75,
    family_cash=300.0,
)


# --- need ----------------------------------------------------------------------------------------------
def test_need_grows_with_the_level_and_with_dementia_from_moderate_loss():
    level = np.array([INTACT, MILD, MODERATE, SEVERE, TOTAL] * 2)
    dementia = np.repeat([False, True], 5)
    assert need_hours(level, dementia, P).tolist() == [0, 7, 21, 42, 63, 0, 7, 35, 56, 77]


def test_hours_terms_cap_paid_hours_by_setting():
    cap = HOURS.cap
    assert cap[NO_NEED] == 0 and cap[FAMILY] == 0
    assert (cap[HOME_CARE], cap[DAY_CARE], cap[FAMILY_BED]) == (14, 30, 28)
    assert cap[INSTITUTION] == np.inf and HOURS.substitution == pytest.approx(0.473)


# --- hours given ---------------------------------------------------------------------------------------
def test_a_care_home_gives_all_of_the_need_and_the_family_nothing():
    assert hours_given(63.0, 40.0, INSTITUTION, HOURS) == (63.0, 0.0)


def test_family_care_alone_gives_what_the_family_can_up_to_the_need():
    assert hours_given(21.0, 28.0, FAMILY, HOURS) == (0.0, 21.0)
    assert hours_given(42.0, 28.0, FAMILY, HOURS) == (0.0, 28.0)
    assert hours_given(42.0, 28.0, NO_NEED, HOURS) == (0.0, 28.0)


def test_paid_hours_are_capped_and_replace_family_hours_in_part():
    formal, informal = hours_given(42.0, 28.0, HOME_CARE, HOURS)
    assert formal == 14.0 and informal == pytest.approx(28.0 - 0.473 * 14)
    formal, informal = hours_given(21.0, 28.0, HOME_CARE, HOURS)  # the family could cover it: only what is left
    assert formal == 14.0 and informal == pytest.approx(7.0)
    formal, informal = hours_given(7.0, 0.0, DAY_CARE, HOURS)
    assert (formal, informal) == (7.0, 0.0)


def test_family_hours_are_never_negative_nor_more_than_the_need_paid_care_leaves():
    rng = np.random.default_rng(1)
    for _ in range(2000):
        need, family, formal = rng.uniform(0, 80), rng.uniform(0, 60), rng.uniform(0, 1)
        formal *= need
        substitution = rng.uniform(0, 1)
        given = family_given(need, family, formal, substitution)
        assert 0.0 <= given <= need - formal + 1e-12
        assert given <= family + 1e-12
        assert given == pytest.approx(min(max(min(family, need) - substitution * formal, 0), need - formal))


def test_without_paid_care_the_family_gives_all_it_can_up_to_the_need():
    assert family_given(30.0, 20.0, 0.0, 0.473) == 20.0
    assert family_given(10.0, 20.0, 0.0, 0.473) == 10.0


# --- prices --------------------------------------------------------------------------------------------
def test_gross_price_by_setting():
    assert gross_price(HOME_CARE, 10.0, 9999.0, TERMS) == pytest.approx(10 * WEEKS_PER_MONTH * 60)
    assert gross_price(DAY_CARE, 30.0, 9999.0, TERMS) == 600.0
    assert gross_price(FAMILY_BED, 28.0, 9999.0, TERMS) == 2000.0
    assert gross_price(INSTITUTION, 63.0, 2800.0, TERMS) == 2800.0
    assert gross_price(FAMILY, 0.0, 2800.0, TERMS) == 0.0
    assert gross_price(NO_NEED, 0.0, 2800.0, TERMS) == 0.0


def test_price_terms_take_the_insurance_rules_of_the_year():
    benefits = Benefits(Insurance(start_year=2021, family_cash_monthly=250.0), True, 300.0, 0.0, 100.0)
    t = price_terms(P, benefits)
    assert t.institution_benefit == pytest.approx(70 * 0.7 * DAYS_PER_MONTH)
    assert (t.home_cap, t.home_share, t.family_cash) == (2100.0, 0.75, 250.0)
    assert (t.home_care_hourly, t.day_care_monthly, t.family_bed_monthly) == (60.0, 600.0, 2000.0)


# --- who pays ------------------------------------------------------------------------------------------
def test_insurance_pays_only_the_eligible():
    for setting in range(len(SETTINGS)):
        gross = gross_price(setting, 14.0, 2800.0, TERMS)
        insurance, cash, voucher, support = bill(setting, gross, False, 0.0, False, TERMS)
        assert (insurance, cash, voucher, support) == (0.0, 0.0, 0.0, 0.0)


def test_the_institution_benefit_is_capped_at_the_price():
    assert bill(INSTITUTION, 2800.0, True, 0.0, False, TERMS)[0] == 1470.0
    assert bill(INSTITUTION, 1000.0, True, 0.0, False, TERMS)[0] == 1000.0


def test_care_at_home_gets_a_share_of_spending_up_to_the_cap():
    assert bill(HOME_CARE, 1000.0, True, 0.0, False, TERMS)[0] == 750.0
    assert bill(HOME_CARE, 3640.0, True, 0.0, False, TERMS)[0] == 2100.0 * 0.75
    assert bill(FAMILY_BED, 2000.0, True, 0.0, False, TERMS)[0] == 1500.0
    assert bill(DAY_CARE, 600.0, True, 0.0, False, TERMS)[0] == 0.0  # day care is not insured


def test_family_cash_goes_only_to_family_care_of_the_eligible():
    assert bill(FAMILY, 0.0, True, 0.0, False, TERMS) == (0.0, 300.0, 0.0, 0.0)
    assert bill(FAMILY, 0.0, False, 0.0, False, TERMS) == (0.0, 0.0, 0.0, 0.0)
    for setting in (HOME_CARE, DAY_CARE, FAMILY_BED, INSTITUTION, NO_NEED):
        assert bill(setting, 1000.0, True, 0.0, False, TERMS)[1] == 0.0


def test_the_voucher_pays_at_most_what_the_insurance_leaves():
    assert bill(HOME_CARE, 1000.0, True, 500.0, False, TERMS)[2] == 250.0  # insurance 750, voucher the rest
    assert bill(HOME_CARE, 1000.0, False, 500.0, False, TERMS)[2] == 500.0
    assert bill(DAY_CARE, 600.0, False, 800.0, False, TERMS)[2] == 600.0
    assert bill(FAMILY, 0.0, True, 500.0, False, TERMS)[2] == 0.0  # no voucher for family care
    rng = np.random.default_rng(2)
    for _ in range(500):
        setting = int(rng.integers(0, len(SETTINGS)))
        gross = gross_price(setting, rng.uniform(0, 30), rng.uniform(0, 5000), TERMS)
        insurance, cash, voucher, support = bill(
            setting, gross, bool(rng.integers(2)), rng.uniform(0, 3000), bool(rng.integers(2)), TERMS
        )
        assert 0.0 <= voucher <= gross - insurance + 1e-9
        assert insurance >= 0 and cash >= 0 and support >= 0
        assert gross - insurance - voucher - support >= -1e-9  # the elder never gets money back


def test_destitute_support_pays_the_rest_in_a_care_home_only():
    insurance, _, voucher, support = bill(INSTITUTION, 2800.0, True, 200.0, True, TERMS)
    assert (insurance, voucher, support) == (1470.0, 200.0, 2800.0 - 1470.0 - 200.0)
    assert bill(INSTITUTION, 2800.0, False, 0.0, True, TERMS)[3] == 2800.0
    for setting in (HOME_CARE, DAY_CARE, FAMILY_BED, FAMILY, NO_NEED):
        assert bill(setting, 1000.0, False, 0.0, True, TERMS)[3] == 0.0
