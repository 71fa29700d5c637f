"""Money: long-term-care insurance, public subsidies and what older people pay themselves.

Monthly amounts in yuan. The insurance pays only covered people at or above the eligible level, from its
start year: a share of a standard daily amount in institutions, a share of home-care spending up to a
monthly cap (home care and family beds), and optionally cash to family carers. Its fund collects a
yearly premium per covered person of any age; a year's deficit is topped up from public money so the
fund never goes below zero. Subsidies: the nursing subsidy for the poor and disabled, the old-age
allowance from 80, and service vouchers for the poor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.elders import INSTITUTION, Elders
from sim.model.prices import DAYS_PER_MONTH, bill, gross_price, price_terms
from sim.scenario import Insurance, Scenario
from sim.scenario.levers import path_value


@dataclass
class Benefits:
    """The insurance and subsidies in force in a year."""

    insurance: Insurance
    active: bool
    nursing_subsidy: float
    old_age_allowance: float
    voucher: float

    def eligible(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        """Covered and at or above the eligible level, in a year the insurance pays."""
        if not self.active:
            return np.zeros(idx.size, dtype=bool)
        covered = rules.covered(self.insurance.coverage, elders.scheme[idx], elders.urban[idx])
        return covered & (elders.level[idx] >= rules.ELIGIBLE_FROM[self.insurance.eligible_from])

    def cash_income(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        """Monthly public cash added to an elder's income: nursing subsidy and old-age allowance."""
        return np.where(
            rules.poor_and_disabled(elders.income[idx], elders.level[idx]), self.nursing_subsidy, 0.0
        ) + np.where(rules.old_age_allowance_due(elders.age[idx]), self.old_age_allowance, 0.0)

    def service_voucher(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        return np.where(rules.poor(elders.income[idx]), self.voucher, 0.0)


def benefits_of_year(scenario: Scenario, year: int, baseline: dict) -> Benefits:
    """The insurance and subsidies the scenario's levers set for ``year``."""
    pol = scenario.policy

    def lever(spec, key: str | None) -> float:
        return path_value(spec, year, scenario.base_year, float(baseline[key]["value"]) if key else 0.0)

    ins = pol.insurance
    return Benefits(
        insurance=ins,
        active=ins.start_year is not None and year >= ins.start_year,
        nursing_subsidy=lever(pol.subsidies.nursing_subsidy_monthly, "nursing_subsidy_monthly"),
        old_age_allowance=lever(pol.subsidies.old_age_allowance_monthly, "old_age_allowance_monthly"),
        voucher=lever(pol.subsidies.service_voucher_monthly, None),
    )


@dataclass
class Fund:
    """The insurance fund's balance (yuan) and the year's flows."""

    balance: float = 0.0
    flows: dict[str, float] = field(default_factory=dict)

    def settle(self, income: float, spending: float) -> None:
        self.balance += income - spending
        top_up = max(0.0, -self.balance)
        self.balance += top_up
        self.flows = {"income": income, "spending": spending, "public_top_up": top_up, "balance": self.balance}

    def idle(self) -> None:
        """A year without insurance: no flows, the balance kept."""
        self.flows = {"income": 0.0, "spending": 0.0, "public_top_up": 0.0, "balance": self.balance}


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
    benefits: Benefits,
    respite_days: float,
    p: Parameters,
) -> Accounts:
    """What elders pay and what the insurance and the government pay, for the arrangements of ``rows``
    (with ``formal`` hours a week delivered, ``home_prices`` [home, bed type] a month), and the subsidies
    everyone entitled receives."""
    resident = setting == INSTITUTION
    home_price = np.zeros(rows.size)
    home_price[resident] = home_prices[elders.home[rows[resident]], elders.bed[rows[resident]]]
    gross, insurance, cash, voucher, support = _bills(
        setting,
        formal,
        home_price,
        benefits.eligible(elders, rows),
        benefits.service_voucher(elders, rows),
        rules.destitute(elders.income[rows]),
        price_terms(p, benefits),
    )
    poor_and_disabled, allowance_age = entitled(elders.income, elders.level, elders.age)
    subsidy_cash = poor_and_disabled * benefits.nursing_subsidy + allowance_age * benefits.old_age_allowance
    respite_takers = (elders.level[rows] >= rules.RESPITE_FROM) & ~resident
    ltci = insurance + cash
    return Accounts(
        ltci_spending=12 * (insurance.sum() + cash.sum()),
        voucher_spending=12 * voucher.sum(),
        destitute_support=12 * support.sum(),
        nursing_and_allowance=12 * subsidy_cash,
        respite_spending=float(respite_takers.sum() * respite_days * p.bed_price_monthly["nursing"] / DAYS_PER_MONTH),
        out_of_pocket=12 * (gross - insurance - voucher - support).sum(),
        ltci_paid=ltci,
        beneficiaries=int((ltci > 0).sum()),
    )


@numba.njit(cache=True, nogil=True)
def _bills(setting, formal, home_price, eligible, voucher, destitute, terms):  # pragma: no cover - compiled
    """Each row's bill for its arrangement (prices.bill): gross, insurance, family cash, voucher, support."""
    n = setting.size
    out = np.zeros((5, n))
    for i in range(n):
        gross = gross_price(setting[i], formal[i], home_price[i], terms)
        insurance, cash, paid_voucher, support = bill(setting[i], gross, eligible[i], voucher[i], destitute[i], terms)
        out[0, i] = gross
        out[1, i] = insurance
        out[2, i] = cash
        out[3, i] = paid_voucher
        out[4, i] = support
    return out[0], out[1], out[2], out[3], out[4]


@numba.njit(cache=True, nogil=True)
def entitled(income, level, age):  # pragma: no cover - compiled
    """How many receive the nursing subsidy (poor and disabled) and the old-age allowance: one pass over
    everyone with the rules of ``rules.poor_and_disabled`` and ``rules.old_age_allowance_due``."""
    subsidy = 0
    allowance = 0
    for i in range(income.size):
        subsidy += rules.poor_and_disabled(income[i], level[i])
        allowance += rules.old_age_allowance_due(age[i])
    return subsidy, allowance
