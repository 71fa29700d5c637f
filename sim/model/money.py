"""Money: long-term-care insurance, public subsidies and what older people pay themselves.

Monthly amounts in yuan. The insurance pays covered people at or above the eligible level, from its start
year, once they have applied and been assessed: each year a share ``ltci_application_rate`` of the eligible
who are not yet beneficiaries apply, and their benefits start ``ltci_assessment_wait_months`` later; a
beneficiary whose level falls below the threshold stops and must apply again. It pays a share of a
standard daily amount in institutions, a share of home-care spending up to a monthly cap (home care and
family beds), and optionally cash to family carers. Its fund collects a yearly premium per covered person
of any age; a year's deficit is topped up from public money so the fund never goes below zero, and a
surplus is carried over or, with ``fund_rule: revise_premium``, brings next year's premium down (a deficit
brings it up) towards a reserve of ``reserve_months`` of spending. Subsidies: the nursing subsidy for the
poor and disabled, the old-age allowance from 80, and service vouchers for the poor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numba
import numpy as np

from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.elders import INSTITUTION, Elders
from sim.model.prices import DAYS_PER_MONTH, bill, gross_price, price_terms


class BenefitTerms(NamedTuple):
    """The year's insurance and subsidies as compiled passes read them."""

    active: bool  # the insurance pays this year
    coverage: int  # position in rules.COVERAGE
    eligible_from: int  # lowest capacity level it pays
    nursing_subsidy: float  # yuan a month, poor and disabled elders
    old_age_allowance: float  # yuan a month, from age 80
    voucher: float  # yuan a month, poor elders using formal care


@dataclass
class Benefits:
    """The insurance and subsidies in force in a year (``insurance``: the year's insurance levers)."""

    insurance: Any
    active: bool
    nursing_subsidy: float
    old_age_allowance: float
    voucher: float

    @property
    def terms(self) -> BenefitTerms:
        ins = self.insurance
        return BenefitTerms(
            self.active,
            rules.COVERAGE.index(ins.coverage),
            rules.ELIGIBLE_FROM[ins.eligible_from],
            self.nursing_subsidy,
            self.old_age_allowance,
            self.voucher,
        )

    def eligible(self, elders: Elders, rows: np.ndarray) -> np.ndarray:
        """Whether each elder of ``rows`` qualifies this year (rules.eligible), assessed or not."""
        return _eligible(rows, elders.scheme, elders.urban, elders.level, self.terms)

    def pays(self, elders: Elders, rows: np.ndarray) -> np.ndarray:
        """Whether the insurance pays each elder of ``rows``: eligible and assessed as a beneficiary."""
        return self.eligible(elders, rows) & (elders.ltci_from[rows] > 0)

    def cash_income(self, elders: Elders, rows: np.ndarray, take_up: float) -> np.ndarray:
        """Monthly public cash added to an elder's income: nursing subsidy (if applied for) and old-age
        allowance."""
        due = rules.nursing_subsidy_due(elders.income[rows], elders.level[rows], elders.applies[rows], take_up)
        return np.where(due, self.nursing_subsidy, 0.0) + np.where(
            rules.old_age_allowance_due(elders.age[rows]), self.old_age_allowance, 0.0
        )

    def service_voucher(self, elders: Elders, rows: np.ndarray) -> np.ndarray:
        return np.where(rules.poor(elders.income[rows]), self.voucher, 0.0)


@numba.njit(cache=True, nogil=True)
def _eligible(rows, scheme, urban, level, t):  # pragma: no cover - compiled
    out = np.empty(rows.size, dtype=np.bool_)
    for k in range(rows.size):
        i = rows[k]
        out[k] = rules.eligible(t.active, t.coverage, t.eligible_from, scheme[i], urban[i], level[i])
    return out


def benefits_of_year(levers, year: int) -> Benefits:
    """The insurance and subsidies the year's levers (``sim.scenario.levers.year_levers``) set."""
    ins = levers.insurance
    return Benefits(
        insurance=ins,
        active=ins.start_year is not None and year >= ins.start_year,
        nursing_subsidy=levers.subsidies.nursing_subsidy_monthly,
        old_age_allowance=levers.subsidies.old_age_allowance_monthly,
        voucher=levers.subsidies.service_voucher_monthly,
    )


def assess(elders: Elders, census, benefits: Benefits, year: int, p: Parameters, rng: np.random.Generator):
    """The year's applications (``census``: who qualifies, who lapsed, who waits): eligible elders not yet
    beneficiaries apply with ``ltci_application_rate`` and become beneficiaries from ``year``; beneficiaries
    no longer eligible stop. Returns (eligible, applicants), in agents."""
    elders.ltci_from[census.ltci_lapsed] = 0
    if not benefits.active:  # no one qualifies (most years of most scenarios): no draws
        return 0, 0
    waiting = census.ltci_waiting
    applying = waiting[rng.random(waiting.size) < p.ltci_application_rate]
    elders.ltci_from[applying] = year
    return census.ltci_eligible, int(applying.size)


@dataclass
class Fund:
    """The insurance fund's balance (yuan) and the year's flows."""

    balance: float = 0.0
    premium: float | None = None  # yuan per contributor a year; None: the scenario's until first revised
    flows: dict[str, float] = field(default_factory=dict)

    def settle(self, contributors: float, premium: float, spending: float, insurance) -> None:
        """The year's income and spending; a deficit topped up from public money; with the fund rule
        ``revise_premium`` next year's premium set to pay next year's spending (taken as this year's) and
        close a third of the gap to a reserve of ``reserve_months`` of spending."""
        premium = premium if self.premium is None else self.premium
        income = premium * contributors
        self.balance += income - spending
        top_up = max(0.0, -self.balance)
        self.balance += top_up
        self.flows = {
            "income": income,
            "spending": spending,
            "public_top_up": top_up,
            "balance": self.balance,
            "premium": premium,
        }
        if insurance.fund_rule == "revise_premium" and contributors > 0:
            reserve = spending * insurance.reserve_months / 12
            self.premium = max(0.0, (spending + (reserve - self.balance) / 3) / contributors)

    def idle(self) -> None:
        """A year without insurance: no flows, the balance kept."""
        self.flows = {"income": 0.0, "spending": 0.0, "public_top_up": 0.0, "balance": self.balance, "premium": 0.0}


@dataclass
class Accounts:
    """The year's money, yuan per year for the agents (multiply by scale for persons), and each row's
    monthly insurance payment (benefits and family cash)."""

    ltci_spending: float
    voucher_spending: float
    destitute_support: float
    nursing_and_allowance: float
    respite_spending: float
    out_of_pocket: float
    ltci_paid: np.ndarray
    beneficiaries: int


def accounts(
    elders: Elders,
    rows: np.ndarray,
    setting: np.ndarray,
    formal: np.ndarray,
    home_prices: np.ndarray,
    entitled: tuple[int, int],
    benefits: Benefits,
    respite_days: float,
    year: int,
    p: Parameters,
) -> Accounts:
    """What elders pay and what the insurance and the government pay, for the arrangements of ``rows``
    (``formal`` hours a week delivered; ``home_prices`` [home, bed type] a month), and the subsidies the
    ``entitled`` receive (how many are poor and disabled, how many 80 or over)."""
    # the first year's benefits start after the assessment: a beneficiary of this year is paid for the rest
    paid_months = np.where(elders.ltci_from[rows] == year, 1.0 - p.ltci_assessment_wait_months / 12, 1.0)
    ltci, sums, respite_takers = _bills(
        rows,
        setting,
        formal,
        home_prices,
        elders.home,
        elders.bed,
        elders.income,
        elders.level,
        benefits.pays(elders, rows),
        paid_months,
        benefits.voucher,
        price_terms(p, benefits),
    )
    insurance, cash, voucher, support, out_of_pocket = sums
    subsidy_cash = entitled[0] * benefits.nursing_subsidy + entitled[1] * benefits.old_age_allowance
    return Accounts(
        ltci_spending=12 * (insurance + cash),
        voucher_spending=12 * voucher,
        destitute_support=12 * support,
        nursing_and_allowance=12 * subsidy_cash,
        respite_spending=float(respite_takers * respite_days * p.bed_price_monthly["nursing"] / DAYS_PER_MONTH),
        out_of_pocket=12 * out_of_pocket,
        ltci_paid=ltci,
        beneficiaries=int((ltci > 0).sum()),
    )


@numba.njit(cache=True, nogil=True)
def _bills(
    rows, setting, formal, home_prices, home, bed, income, level, pays, paid_months, voucher_amount, terms
):  # pragma: no cover - compiled
    """Each row's bill for its arrangement (prices.bill): the insurance's monthly payment to each row (over
    the year: ``paid_months`` of it, less in the year of assessment), the sums of insurance, family cash,
    vouchers, destitute support and out-of-pocket payments, and how many at home at severe loss or worse
    (respite takers)."""
    ltci = np.empty(rows.size)
    sums = np.zeros(5)
    respite_takers = 0
    for k in range(rows.size):
        i = rows[k]
        price = home_prices[home[i], bed[i]] if setting[k] == INSTITUTION else 0.0
        gross = gross_price(setting[k], formal[k], price, terms)
        voucher = voucher_amount if rules.poor(income[i]) else 0.0
        insurance, cash, paid_voucher, support = bill(
            setting[k], gross, pays[k], voucher, rules.destitute(income[i]), terms
        )
        insurance *= paid_months[k]  # months before the benefits start are paid by the elder
        cash *= paid_months[k]
        ltci[k] = insurance + cash
        sums[0] += insurance
        sums[1] += cash
        sums[2] += paid_voucher
        sums[3] += support
        sums[4] += gross - insurance - paid_voucher - support
        respite_takers += level[i] >= rules.RESPITE_FROM and setting[k] != INSTITUTION
    return ltci, sums, respite_takers
