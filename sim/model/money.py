"""Money: long-term-care insurance, public subsidies and what older people pay themselves.

Monthly amounts in yuan. The insurance pays only covered people at or above the eligible level, from its
start year: a share of a standard daily amount in institutions, a share of home-care spending up to a
monthly cap (home care and family beds), and optionally cash to family carers. Its fund collects a
yearly premium per covered person of any age; a year's deficit is topped up from public money so the
fund never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.data.levels import MODERATE, SEVERE, TOTAL
from sim.model.elders import Elders
from sim.scenario import Insurance

DAYS_PER_MONTH = 365.0 / 12.0
ELIGIBLE_FROM = {"moderate": MODERATE, "severe": SEVERE, "total": TOTAL}


@dataclass
class Benefits:
    """The insurance and subsidies in force in a year."""

    insurance: Insurance
    active: bool
    nursing_subsidy: float
    old_age_allowance: float
    voucher: float

    def covered(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        if not self.active:
            return np.zeros(idx.size, dtype=bool)
        return {
            "urban_employees": elders.scheme[idx] == 0,
            "urban": elders.urban[idx],
            "all": np.ones(idx.size, dtype=bool),
        }[self.insurance.coverage]

    def eligible(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        return self.covered(elders, idx) & (elders.level[idx] >= ELIGIBLE_FROM[self.insurance.eligible_from])

    def institution_benefit(self, eligible: np.ndarray) -> np.ndarray:
        ins = self.insurance
        return np.where(eligible, ins.institution_daily * ins.institution_share * DAYS_PER_MONTH, 0.0)

    def home_benefit(self, eligible: np.ndarray, spending: np.ndarray) -> np.ndarray:
        ins = self.insurance
        return np.where(eligible, np.minimum(spending, ins.home_monthly_cap) * ins.home_share, 0.0)

    def family_cash(self, eligible: np.ndarray) -> np.ndarray:
        return np.where(eligible, self.insurance.family_cash_monthly, 0.0)

    def cash_income(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        """Monthly public cash added to an elder's income: nursing subsidy and old-age allowance."""
        poor_disabled = (elders.income[idx] <= 1) & (elders.level[idx] >= MODERATE)
        return np.where(poor_disabled, self.nursing_subsidy, 0.0) + np.where(
            elders.age[idx] >= 80, self.old_age_allowance, 0.0
        )

    def service_voucher(self, elders: Elders, idx: np.ndarray) -> np.ndarray:
        return np.where(elders.income[idx] <= 1, self.voucher, 0.0)


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
