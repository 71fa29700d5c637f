"""Money: the insurance fund, who the insurance pays, the year's benefits from the levers, and the year's
accounts against each row's bill."""

import numpy as np
import pytest
from conftest import make_scenario
from submodel_helpers import census_of, elders_with, levers_of

from sim.data.levels import INTACT, MILD, MODERATE, SEVERE, TOTAL
from sim.data.parameters import Parameters, care_baselines
from sim.model.elders import (
    DAY_CARE,
    DESTITUTE,
    EMPLOYEE,
    FAMILY,
    FAMILY_BED,
    HIGH,
    HOME_CARE,
    INSTITUTION,
    LOW,
    MIDDLE,
    MINIMUM_INCOME,
    RURAL_RESIDENT,
    URBAN_RESIDENT,
)
from sim.model.homes import GENERAL, NURSING
from sim.model.money import Benefits, Fund, accounts, assess, benefits_of_year
from sim.model.prices import DAYS_PER_MONTH, bill, gross_price, price_terms
from sim.scenario import Insurance

P = Parameters()


# --- the fund ------------------------------------------------------------------------------------------
CARRY = Insurance(start_year=2021)
REVISE = Insurance(start_year=2021, fund_rule="revise_premium", reserve_months=6)


def test_the_fund_keeps_its_balance_and_is_topped_up_only_when_it_would_go_negative():
    fund = Fund()
    fund.settle(10.0, 10.0, spending=30.0, insurance=CARRY)
    assert fund.balance == 70.0
    assert fund.flows == {"income": 100.0, "spending": 30.0, "public_top_up": 0.0, "balance": 70.0, "premium": 10.0}
    fund.settle(1.0, 10.0, spending=80.0, insurance=CARRY)  # exactly to zero: no top-up
    assert fund.balance == 0.0 and fund.flows["public_top_up"] == 0.0
    fund.settle(5.0, 10.0, spending=200.0, insurance=CARRY)
    assert fund.balance == 0.0
    assert fund.flows == {"income": 50.0, "spending": 200.0, "public_top_up": 150.0, "balance": 0.0, "premium": 10.0}
    fund.settle(4.0, 10.0, spending=0.0, insurance=CARRY)  # a top-up is not carried as a debt
    assert fund.balance == 40.0


def test_revising_the_premium_brings_a_surplus_down_to_the_reserve_and_a_deficit_up():
    """Next year's premium pays this year's spending and a third of the gap to six months' reserve: a fund
    that took in 1,000 and spent 400 charges less next year; one that ran dry charges more."""
    fund = Fund()
    fund.settle(10.0, 100.0, spending=400.0, insurance=REVISE)  # balance 600, reserve 200
    assert fund.premium == pytest.approx((400.0 + (200.0 - 600.0) / 3) / 10.0)
    fund.settle(10.0, 100.0, spending=400.0, insurance=REVISE)  # the revised premium, not the scenario's
    assert fund.flows["premium"] == pytest.approx((400.0 - 400.0 / 3) / 10.0)
    dry = Fund()
    dry.settle(10.0, 10.0, spending=400.0, insurance=REVISE)  # deficit topped up, balance 0
    assert dry.premium == pytest.approx((400.0 + 200.0 / 3) / 10.0) and dry.premium > 10.0
    kept = Fund()
    kept.settle(10.0, 100.0, spending=400.0, insurance=CARRY)
    assert kept.premium is None  # carry-over keeps the scenario's premium


def test_a_year_without_insurance_has_no_flows_and_keeps_the_balance():
    fund = Fund(balance=123.0)
    fund.settle(1.0, 5.0, 1.0, CARRY)
    fund.idle()
    assert fund.balance == 127.0
    assert fund.flows == {"income": 0.0, "spending": 0.0, "public_top_up": 0.0, "balance": 127.0, "premium": 0.0}


def test_only_applicants_assessed_are_paid_and_those_no_longer_eligible_stop():
    """Half the eligible apply each year (ltci_application_rate); a beneficiary who recovers below the
    threshold loses the benefit; no one ineligible becomes a beneficiary."""
    n = 40_000
    elders = elders_with([SEVERE] * n + [MILD] * n, scheme=EMPLOYEE, urban=True)
    b = Benefits(Insurance(start_year=2021, coverage="urban_employees", eligible_from="severe"), True, 0, 0, 0)
    eligible, applicants = assess(elders, census_of(elders, b), b, 2021, P, np.random.default_rng(1))
    assert eligible == n and abs(applicants - n * P.ltci_application_rate) < 5 * np.sqrt(n * 0.25)
    assert (elders.ltci_from[n:] == 0).all() and set(np.unique(elders.ltci_from[:n])) == {0, 2021}
    paid = b.pays(elders, np.arange(2 * n))
    assert paid.sum() == applicants and not paid[n:].any()
    _, more = assess(
        elders, census_of(elders, b), b, 2022, P, np.random.default_rng(2)
    )  # the rest apply at the same rate
    assert abs(more - (n - applicants) * P.ltci_application_rate) < 5 * np.sqrt(n * 0.25)
    assert (elders.ltci_from[:n] == 2021).sum() == applicants  # earlier beneficiaries keep their year
    off = Benefits(b.insurance, False, 0, 0, 0)
    assess(elders, census_of(elders, off), off, 2023, P, np.random.default_rng(3))
    assert (elders.ltci_from == 0).all()  # no insurance in force: no one is a beneficiary


# --- who the insurance pays ----------------------------------------------------------------------------
SCHEMES = [EMPLOYEE, URBAN_RESIDENT, RURAL_RESIDENT]


def everyone():
    """Every combination of scheme, residence and level."""
    combos = [(s, u, lvl) for s in SCHEMES for u in (False, True) for lvl in range(5)]
    scheme, urban, level = (np.array(x) for x in zip(*combos, strict=True))
    return elders_with(level, scheme=scheme, urban=urban), scheme, urban, level


@pytest.mark.parametrize("coverage", ["urban_employees", "urban", "all"])
@pytest.mark.parametrize("eligible_from, lowest", [("moderate", MODERATE), ("severe", SEVERE), ("total", TOTAL)])
def test_the_insurance_pays_the_covered_at_or_above_the_eligible_level(coverage, eligible_from, lowest):
    elders, scheme, urban, level = everyone()
    benefits = Benefits(Insurance(start_year=2021, coverage=coverage, eligible_from=eligible_from), True, 0, 0, 0)
    covered = {"urban_employees": scheme == EMPLOYEE, "urban": urban, "all": np.ones(scheme.size, bool)}[coverage]
    rows = np.arange(len(elders))
    assert np.array_equal(benefits.eligible(elders, rows), covered & (level >= lowest))
    some = rows[::3][::-1]  # any rows, in any order
    assert np.array_equal(benefits.eligible(elders, some), (covered & (level >= lowest))[some])


def test_the_insurance_pays_no_one_in_a_year_it_is_not_in_force():
    elders, *_ = everyone()
    benefits = Benefits(Insurance(start_year=2030, coverage="all", eligible_from="moderate"), False, 0, 0, 0)
    assert not benefits.eligible(elders, np.arange(len(elders))).any()


def test_public_cash_and_vouchers_go_to_whom_the_rules_say():
    elders = elders_with(
        [MODERATE, MILD, SEVERE, TOTAL, INTACT],
        ages=[70, 85, 80, 79, 90],
        income=[MINIMUM_INCOME, DESTITUTE, LOW, DESTITUTE, HIGH],
        applies=[0.2, 0.2, 0.2, 0.9, 0.2],  # the fourth would not apply at a take-up below 0.9
    )
    benefits = Benefits(Insurance(), False, 300.0, 100.0, 200.0)
    rows = np.arange(5)
    assert benefits.cash_income(elders, rows, 1.0).tolist() == [300.0, 100.0, 100.0, 300.0, 100.0]
    assert benefits.cash_income(elders, rows, 0.5).tolist() == [300.0, 100.0, 100.0, 0.0, 100.0]
    assert benefits.service_voucher(elders, rows).tolist() == [200.0, 200.0, 0.0, 200.0, 0.0]


# --- benefits of a year --------------------------------------------------------------------------------
def test_benefits_of_a_year_follow_the_levers_from_the_base_year_values():
    scenario = make_scenario(
        horizon=2030,
        policy={
            "insurance": {"start_year": 2023},
            "subsidies": {"service_voucher_monthly": {2025: 200}, "old_age_allowance_monthly": 50},
        },
    )
    baseline = care_baselines()["shengzhou"]  # nursing subsidy 300
    before = benefits_of_year(levers_of(scenario, 2022, baseline), 2022)
    assert not before.active
    assert before.nursing_subsidy == 300.0 and before.old_age_allowance == 50.0
    assert before.voucher == pytest.approx(80.0)  # 0 in 2020 to 200 in 2025
    after = benefits_of_year(levers_of(scenario, 2023, baseline), 2023)
    assert after.active and after.voucher == pytest.approx(120.0)
    assert benefits_of_year(levers_of(scenario, 2030, baseline), 2030).voucher == 200.0
    assert not benefits_of_year(
        levers_of(make_scenario(horizon=2030), 2030, baseline), 2030
    ).active  # no insurance at all


def test_benefit_terms_code_the_rules_as_the_compiled_passes_read_them():
    benefits = Benefits(Insurance(start_year=2021, coverage="urban", eligible_from="total"), True, 1.0, 2.0, 3.0)
    t = benefits.terms
    assert (t.active, t.coverage, t.eligible_from) == (True, 1, TOTAL)
    assert (t.nursing_subsidy, t.old_age_allowance, t.voucher) == (1.0, 2.0, 3.0)


# --- the year's accounts -------------------------------------------------------------------------------
HOME_PRICES = np.array([[1800.0, 2800.0, 3500.0], [2160.0, 3360.0, 4200.0]])
CASE = {  # one elder a row; the last is not among the rows accounted for
    "level": [SEVERE, TOTAL, MODERATE, SEVERE, MILD, TOTAL, TOTAL, SEVERE],
    "setting": [HOME_CARE, INSTITUTION, INSTITUTION, FAMILY, DAY_CARE, FAMILY_BED, INSTITUTION, FAMILY],
    "income": [MIDDLE, DESTITUTE, LOW, MINIMUM_INCOME, MINIMUM_INCOME, HIGH, MINIMUM_INCOME, LOW],
    "scheme": [EMPLOYEE, RURAL_RESIDENT, EMPLOYEE, EMPLOYEE, URBAN_RESIDENT, EMPLOYEE, EMPLOYEE, EMPLOYEE],
    "urban": [True, False, True, True, True, True, True, True],
    "home": [-1, 0, 1, -1, -1, -1, 1, -1],
    "bed": [-1, NURSING, GENERAL, -1, -1, -1, NURSING, -1],
    "formal": [14.0, 63.0, 21.0, 0.0, 7.0, 28.0, 63.0, 0.0],
}
ROWS = np.arange(7)


YEAR = 2022  # everyone assessed in 2021: a full year's benefits


def case():
    columns = {k: v for k, v in CASE.items() if k not in ("level", "formal", "urban")}
    elders = elders_with(CASE["level"], urban=CASE["urban"], ltci_from=2021, **columns)
    return elders, np.array(CASE["formal"])


def benefits(active=True):
    ins = Insurance(start_year=2021, coverage="urban_employees", eligible_from="severe", family_cash_monthly=300.0)
    return Benefits(ins, active, 300.0, 100.0, 200.0)


def expected_bills(elders, formal, b):
    """Each row's bill by prices.bill, with the eligibility and voucher rules written out."""
    terms = price_terms(P, b)
    out = []
    for i in ROWS:
        setting = int(elders.setting[i])
        price = HOME_PRICES[elders.home[i], elders.bed[i]] if setting == INSTITUTION else 0.0
        gross = gross_price(setting, formal[i], price, terms)
        pays = b.active and elders.scheme[i] == EMPLOYEE and elders.level[i] >= SEVERE
        voucher = 200.0 if elders.income[i] <= MINIMUM_INCOME else 0.0
        out.append((gross, *bill(setting, gross, pays, voucher, elders.income[i] == DESTITUTE, terms)))
    return np.array(out)  # gross, insurance, cash, voucher, support


@pytest.mark.parametrize("active", [True, False])
def test_the_accounts_add_up_each_rows_bill(active):
    elders, formal = case()
    b = benefits(active)
    acc = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (7, 4), b, 10.0, YEAR, P)
    gross, insurance, cash, voucher, support = expected_bills(elders, formal, b).T
    assert acc.ltci_spending == pytest.approx(12 * (insurance + cash).sum())
    assert acc.voucher_spending == pytest.approx(12 * voucher.sum())
    assert acc.destitute_support == pytest.approx(12 * support.sum())
    assert acc.out_of_pocket == pytest.approx(12 * (gross - insurance - voucher - support).sum())
    assert acc.ltci_paid == pytest.approx(insurance + cash)
    assert acc.beneficiaries == int((insurance + cash > 0).sum())
    assert acc.nursing_and_allowance == pytest.approx(12 * (7 * 300.0 + 4 * 100.0))
    if active:  # the employees at severe loss or worse: home care, family care (cash), family bed, care home
        assert acc.beneficiaries == 4 and acc.ltci_paid[[0, 3, 5, 6]].min() > 0
    else:
        assert acc.ltci_spending == 0 and acc.beneficiaries == 0


def test_in_the_year_of_assessment_the_benefit_starts_after_the_wait():
    elders, formal = case()
    full = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (0, 0), benefits(), 0.0, YEAR, P)
    elders.ltci_from[[0, 3]] = YEAR  # two of the four beneficiaries were assessed this year
    first = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (0, 0), benefits(), 0.0, YEAR, P)
    share = 1 - P.ltci_assessment_wait_months / 12
    assert first.ltci_paid[[0, 3]] == pytest.approx(full.ltci_paid[[0, 3]] * share)
    assert first.ltci_paid[[5, 6]] == pytest.approx(full.ltci_paid[[5, 6]])
    assert first.out_of_pocket > full.out_of_pocket  # the months before the benefit are paid by the elder
    elders.ltci_from[:] = 0  # not assessed: eligible but not paid
    none = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (0, 0), benefits(), 0.0, YEAR, P)
    assert none.ltci_spending == 0 and none.beneficiaries == 0


def test_a_destitute_resident_pays_nothing_and_the_government_pays_the_rest():
    elders, formal = case()
    acc = accounts(
        elders, np.array([1]), elders.setting[[1]], formal[[1]], HOME_PRICES, (0, 0), benefits(), 0.0, YEAR, P
    )
    assert acc.out_of_pocket == 0.0 and acc.ltci_spending == 0.0  # a rural resident: not covered
    assert acc.voucher_spending == pytest.approx(12 * 200.0)
    assert acc.destitute_support == pytest.approx(12 * (2800.0 - 200.0))


def test_respite_is_paid_for_those_at_home_at_severe_loss_or_worse_at_the_nursing_bed_price():
    elders, formal = case()
    acc = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (0, 0), benefits(), 14.0, YEAR, P)
    assert acc.respite_spending == pytest.approx(3 * 14.0 * 2800.0 / DAYS_PER_MONTH)  # rows 0, 3 and 5
    acc = accounts(elders, ROWS, elders.setting[ROWS], formal[ROWS], HOME_PRICES, (0, 0), benefits(), 0.0, YEAR, P)
    assert acc.respite_spending == 0.0


def test_accounts_of_no_one_are_zero():
    elders, _ = case()
    empty = np.array([], dtype=np.int64)
    acc = accounts(elders, empty, empty.astype(np.int8), np.zeros(0), HOME_PRICES, (0, 0), benefits(), 14.0, YEAR, P)
    assert acc.ltci_spending == acc.out_of_pocket == acc.respite_spending == 0.0 and acc.beneficiaries == 0
