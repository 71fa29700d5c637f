"""Prices: what an arrangement costs a month, and who pays it: the insurance, a voucher, the government
(destitute support in a care home) and the elder. One compiled function serves the choice (every
arrangement an elder could take) and the year's accounts (the arrangement taken), so the two agree.

Insurance benefits go to eligible elders only (``money.Benefits.eligible``): in a care home a share of a
standard daily amount, at most the price; for care delivered at home (home care, family beds) a share of
the spending up to a monthly cap; for family care alone, cash to the family. A voucher pays what the
insurance leaves of a formal service, up to its amount; the destitute pay nothing in a care home.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from sim.data.parameters import Parameters
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION
from sim.model.need import HoursTerms, hours_given
from sim.model.options import N_OPTIONS, O_PRIVATE, O_PUBLIC, OPTION_SETTING

WEEKS_PER_MONTH = 52.0 / 12.0
DAYS_PER_MONTH = 365.0 / 12.0


class PriceTerms(NamedTuple):
    """The year's prices (yuan per month, home care per hour) and insurance rules."""

    home_care_hourly: float
    day_care_monthly: float
    family_bed_monthly: float
    institution_benefit: float  # monthly, for an eligible resident
    home_cap: float  # monthly spending on care at home the insurance shares
    home_share: float
    family_cash: float  # monthly, to the family of an eligible elder cared for by family alone


def price_terms(p: Parameters, benefits) -> PriceTerms:
    """The terms of ``p`` and the year's ``money.Benefits`` (benefits count only for the eligible)."""
    ins = benefits.insurance
    return PriceTerms(
        float(p.home_care_price_hourly),
        float(p.day_care_price_monthly),
        float(p.family_bed_price_monthly),
        ins.institution_daily * ins.institution_share * DAYS_PER_MONTH,
        float(ins.home_monthly_cap),
        float(ins.home_share),
        float(ins.family_cash_monthly),
    )


@numba.njit(cache=True, nogil=True)
def gross_price(setting: int, formal_hours: float, home_price: float, t: PriceTerms) -> float:
    """Monthly price before anyone pays: home care by the hour, day care and family beds by the month, a
    care home at ``home_price`` (its bed's monthly price), family care and no care nothing."""
    if setting == HOME_CARE:
        return formal_hours * WEEKS_PER_MONTH * t.home_care_hourly
    if setting == DAY_CARE:
        return t.day_care_monthly
    if setting == FAMILY_BED:
        return t.family_bed_monthly
    if setting == INSTITUTION:
        return home_price
    return 0.0


@numba.njit(cache=True, nogil=True)
def bill(
    setting: int, gross: float, eligible: bool, voucher_entitlement: float, destitute: bool, t: PriceTerms
) -> tuple[float, float, float, float]:
    """Who pays an arrangement's ``gross`` monthly price: (insurance benefit, family cash, voucher,
    destitute support). The elder pays the rest: gross - insurance - voucher - destitute support."""
    insurance = 0.0
    cash = 0.0
    if eligible:
        if setting == INSTITUTION:
            insurance = min(t.institution_benefit, gross)
        elif setting == HOME_CARE or setting == FAMILY_BED:
            insurance = min(gross, t.home_cap) * t.home_share
        elif setting == FAMILY:
            cash = t.family_cash
    voucher = min(voucher_entitlement, gross - insurance) if setting != FAMILY else 0.0
    support = gross - insurance - voucher if setting == INSTITUTION and destitute else 0.0
    return insurance, cash, voucher, support


@numba.njit(cache=True, nogil=True)
def net_prices(
    need: np.ndarray,
    family: np.ndarray,
    home_price: np.ndarray,
    eligible: np.ndarray,
    voucher: np.ndarray,
    destitute: np.ndarray,
    hours: HoursTerms,
    t: PriceTerms,
) -> np.ndarray:  # pragma: no cover - compiled
    """[elder, option] monthly price net of the insurance, vouchers, destitute support and family cash, for
    elders who need ``need`` hours a week of which their families give ``family``: each arrangement's hours
    (``need.hours_given``), its gross price and who pays it (``bill``). ``home_price``: the monthly price of a
    public and a private home for the bed each needs."""
    n = need.size
    net = np.empty((n, N_OPTIONS))
    for i in range(n):
        for o in range(N_OPTIONS):
            setting = OPTION_SETTING[o]
            formal, _ = hours_given(need[i], family[i], setting, hours)
            price = home_price[i, 0] if o == O_PUBLIC else (home_price[i, 1] if o == O_PRIVATE else 0.0)
            gross = gross_price(setting, formal, price, t)
            insurance, cash, paid_voucher, support = bill(setting, gross, eligible[i], voucher[i], destitute[i], t)
            net[i, o] = gross - insurance - paid_voucher - support - cash
    return net
