"""Prices: what an arrangement costs a month, and who pays it: the insurance, a voucher, the government
(destitute support in a care home) and the elder. One function serves the choice (every arrangement an
elder could take) and the year's accounts (the arrangement taken), so the two always agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION
from sim.model.rules import visited

if TYPE_CHECKING:
    from sim.model.money import Benefits

WEEKS_PER_MONTH = 52.0 / 12.0


def gross_price(setting: np.ndarray, formal_hours: np.ndarray, home_price: np.ndarray, p: Parameters) -> np.ndarray:
    """Monthly price before anyone pays: home care by the hour, day care and family beds by the month, a
    care home at ``home_price`` (its bed's monthly price), family care and no care nothing."""
    setting, formal_hours, home_price = np.broadcast_arrays(setting, formal_hours, home_price)
    gross = np.zeros(setting.shape)
    for s, price in (
        (HOME_CARE, formal_hours * WEEKS_PER_MONTH * p.home_care_price_hourly),
        (DAY_CARE, p.day_care_price_monthly),
        (FAMILY_BED, p.family_bed_price_monthly),
        (INSTITUTION, home_price),
    ):
        mine = setting == s
        gross[mine] = np.broadcast_to(price, setting.shape)[mine]
    return gross


@dataclass
class Bill:
    """Who pays an arrangement's monthly price, yuan per month (arrays of one shape)."""

    gross: np.ndarray
    insurance: np.ndarray  # benefits in kind: a share of a care home's or of home care's price
    family_cash: np.ndarray  # insurance cash to a family caring alone (亲情照护)
    voucher: np.ndarray  # service voucher for the poor
    destitute_support: np.ndarray  # the government pays the care home of the destitute (特困)

    @property
    def out_of_pocket(self) -> np.ndarray:
        return self.gross - self.insurance - self.voucher - self.destitute_support

    @property
    def net(self) -> np.ndarray:
        """The elder's net cost: out of pocket less the cash received (negative: the family gains)."""
        return self.out_of_pocket - self.family_cash


def bill(
    setting: np.ndarray,
    gross: np.ndarray,
    eligible: np.ndarray,
    voucher: np.ndarray,
    destitute: np.ndarray,
    benefits: Benefits,
) -> Bill:
    """Split each ``gross`` price of an arrangement ``setting`` (arrays that broadcast together) between the
    payers, for elders ``eligible`` for insurance benefits, entitled to a ``voucher`` a month, and
    ``destitute`` or not."""
    in_home = setting == INSTITUTION
    insurance = np.where(
        in_home,
        np.minimum(benefits.institution_benefit(eligible), gross),
        np.where(visited(setting), benefits.home_benefit(eligible, gross), 0.0),
    )
    cash = np.where(setting == FAMILY, benefits.family_cash(eligible), 0.0)
    voucher = np.where(setting != FAMILY, np.minimum(voucher, gross - insurance), 0.0)
    destitute_support = np.where(in_home & destitute, gross - insurance - voucher, 0.0)
    return Bill(gross, insurance, cash, voucher, destitute_support)
