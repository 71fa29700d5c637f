"""The care step: each year, who cares for every older person with a care need, and who pays.

Five phases, each a function of its inputs that returns new arrays (``arrange`` applies what they decide to
the elders' columns, in one place each, and times them):

1. need: who is counted (at home with a need, or waiting for a public home; those at home with neither lose
   any arrangement), who reconsiders (the newly in need, those whose level changed, those on the waiting
   list, those whose family has reached its limit, and a share ``review_rate`` of the rest), the family beds
   and day-care places left for them, the hours of help each needs and their family can give, the bed type
   each would need;
2. price: each arrangement's monthly price net of insurance, vouchers, destitute support and family cash
   (``prices``), and each elder's income with public cash;
3. choose: a multinomial logit over the arrangements not ruled out (``choice``);
4. place and ration: care homes admit within their beds and staff, the waiting list moves, family beds and
   day-care places are rationed (``placement``);
5. account: the hours given (home-care hours cut pro rata when home-care workers cannot deliver them all),
   families' strain, the care residents get from their home's staff, and the year's money (``money``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.census import Census
from sim.model.characteristics import monthly_income
from sim.model.choice import choice_terms, current_option, sample_logit, utilities
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, INSTITUTION, NO_NEED, SETTINGS, Elders
from sim.model.families import accumulate_strain, family_hours
from sim.model.homes import DEMENTIA, PUBLIC, Homes, needed_bed, occupancy
from sim.model.money import Accounts, Benefits, accounts
from sim.model.need import family_given, hours_given, hours_terms, need_hours
from sim.model.options import N_OPTIONS, O_BED, O_DAY, O_PRIVATE, O_PUBLIC
from sim.model.placement import Admissions, keep_within, place
from sim.model.prices import net_prices, price_terms

PHASES = ("need", "price", "choose", "place", "account")


class Clock:
    """Seconds spent in each named phase, added up over the calls (``with clock("need"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, phase: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - start


@dataclass
class Capacity:
    """The year's capacities at home and in the community, in agents (persons / scale)."""

    family_beds: int
    day_care_places: int
    home_care_hours_per_week: float  # what home-care workers can deliver


@dataclass(frozen=True)
class Need:
    """The need phase's findings: who is counted, who reconsiders, and what each needs."""

    candidates: np.ndarray  # rows at home with a need, or waiting for a public home
    lost: np.ndarray  # rows at home with neither: they lose any arrangement they had
    entitled: tuple[int, int]  # receiving the nursing subsidy, the old-age allowance (agents)
    review: np.ndarray  # by candidate: reconsidering this year
    places: dict[int, int]  # family beds and day-care places left for those reconsidering
    need: np.ndarray  # by candidate: hours of help a week
    family: np.ndarray  # by candidate: hours a week their family can give
    bed: np.ndarray  # by reviewer: the bed type they would need in a care home

    @property
    def reviewers(self) -> np.ndarray:
        return self.candidates[self.review]


@dataclass(frozen=True)
class Prices:
    """The price phase's findings for the reviewers: net monthly price by option, and monthly income."""

    net: np.ndarray  # [reviewer, option]
    income: np.ndarray


@dataclass
class CareYear:
    """The year's arrangement of every elder with a need or a place, for indicators and accounts.
    Hours are per week."""

    rows: np.ndarray
    need: np.ndarray
    informal: np.ndarray
    formal: np.ndarray
    setting: np.ndarray
    waiting: np.ndarray  # rows on the public-home waiting list
    wait_years: np.ndarray
    admissions: Admissions
    accounts: Accounts
    entitled: tuple[int, int]  # receiving the nursing subsidy, the old-age allowance (agents)
    home_care_asked: float  # home-care hours a week clients asked for, before any cut to what workers deliver

    @property
    def unmet(self) -> np.ndarray:
        return np.maximum(self.need - self.informal - self.formal, 0.0)


def arrange(
    elders: Elders,
    census: Census,
    year: int,
    homes: Homes,
    residents: np.ndarray,
    staff: np.ndarray,
    capacity: Capacity,
    benefits: Benefits,
    respite_days: float,
    p: Parameters,
    rng: np.random.Generator,
    everyone_reviews: bool = False,
    clock: Clock | None = None,
) -> CareYear:
    """The year's care (see the module docstring). ``census``: the year's census (``sim.model.census``);
    ``residents``: rows living in a care home; ``staff``: care workers by home, in agents; ``clock``: where
    the phases' seconds are added up."""
    clock = clock or Clock()
    with clock("need"):
        need = find_need(elders, census, homes, capacity, p, rng, everyone_reviews)
        elders.setting[need.lost] = NO_NEED
    reviewers = need.reviewers
    with clock("price"):
        prices = price_options(elders, reviewers, need, homes, benefits, p)
    with clock("choose"):
        utility = option_utilities(elders, reviewers, need, prices, homes, p, inertia=not everyone_reviews)
        choice = sample_logit(utility, rng)
    with clock("place"):
        placement = place(
            elders, reviewers, choice, utility, need.bed, year, homes, residents, staff, need.places, p, rng
        )
        elders.setting[reviewers] = placement.setting
        elders.home[reviewers] = placement.home
        elders.bed[reviewers] = placement.bed
        elders.waiting_since[reviewers] = placement.waiting_since
        elders.last_level[need.candidates] = elders.level[need.candidates]
    with clock("account"):
        return account(elders, year, need, placement.admissions, homes, residents, staff, capacity, benefits,
                       respite_days, p)  # fmt: skip


# --- 1. need -------------------------------------------------------------------------------------------
def find_need(
    elders: Elders,
    census: Census,
    homes: Homes,
    capacity: Capacity,
    p: Parameters,
    rng: np.random.Generator,
    everyone_reviews: bool,
) -> Need:
    """Who is counted (the census's candidates and those who lose their arrangement), who reconsiders, the
    places left for them, and the hours and beds they need."""
    candidates = census.candidates
    review = np.ones(candidates.size, dtype=bool) if everyone_reviews else reviewing(elders, candidates, p, rng)
    review, places = places_left(elders, candidates, review, capacity, rng)
    reviewers = candidates[review]
    dementia_beds = bool(homes.beds()[:, DEMENTIA].sum() > 0) if len(homes) else False
    return Need(
        candidates=candidates,
        lost=census.lost,
        entitled=census.entitled,
        review=review,
        places=places,
        need=need_hours(elders.level[candidates], elders.dementia[candidates], p),
        family=family_hours(elders, candidates, p),  # need and family hours are fixed within the year
        bed=needed_bed(elders.level[reviewers], elders.dementia[reviewers], dementia_beds),
    )


def reviewing(elders: Elders, candidates: np.ndarray, p: Parameters, rng: np.random.Generator) -> np.ndarray:
    """Who reconsiders this year: those newly in need, whose capacity level changed, on the waiting list,
    whose family has reached its limit, and a share ``review_rate`` of the others."""
    return (
        (elders.setting[candidates] == NO_NEED)
        | (elders.last_level[candidates] != elders.level[candidates])
        | (elders.waiting_since[candidates] > 0)
        | ((elders.setting[candidates] == FAMILY) & (elders.burden[candidates] > p.burden_limit))
        | (rng.random(candidates.size) < p.review_rate)
    )


def places_left(
    elders: Elders, candidates: np.ndarray, review: np.ndarray, capacity: Capacity, rng: np.random.Generator
) -> tuple[np.ndarray, dict[int, int]]:
    """Who reconsiders once places are counted, and the family beds and day-care places left for them once
    the others keep theirs: where fewer places are left than are held (a lever that shrinks), the last by
    priority reconsider too."""
    review = review.copy()
    keepers = candidates[~review]
    held = np.bincount(elders.setting[keepers], minlength=len(SETTINGS))
    places = {}
    for option, setting, total in (
        (O_BED, FAMILY_BED, capacity.family_beds),
        (O_DAY, DAY_CARE, capacity.day_care_places),
    ):
        if held[setting] > total:
            review[np.isin(candidates, keep_within(elders, keepers, setting, total, rng))] = True
            held[setting] = total
        places[option] = total - int(held[setting])
    return review, places


# --- 2. price ------------------------------------------------------------------------------------------
def price_options(
    elders: Elders, rows: np.ndarray, need: Need, homes: Homes, benefits: Benefits, p: Parameters
) -> Prices:
    """Each arrangement's monthly price for ``rows`` (the reviewers) net of who else pays, and their income."""
    home_price = np.zeros((rows.size, 2))
    if len(homes):
        home_price[:, 0] = homes.mean_price(public=True)[need.bed]
        home_price[:, 1] = homes.mean_price(public=False)[need.bed]
    net = net_prices(
        need.need[need.review],
        need.family[need.review],
        home_price,
        benefits.pays(elders, rows),
        benefits.service_voucher(elders, rows),
        rules.destitute(elders.income[rows]),
        hours_terms(p),
        price_terms(p, benefits),
    )
    income = monthly_income(elders.urban[rows], elders.income[rows], p) + benefits.cash_income(
        elders, rows, float(p.nursing_subsidy_take_up)
    )
    return Prices(net, income)


# --- 3. choose -----------------------------------------------------------------------------------------
def option_utilities(
    elders: Elders, rows: np.ndarray, need: Need, prices: Prices, homes: Homes, p: Parameters, inertia: bool
) -> np.ndarray:
    """[elder, option] utilities of the arrangements for ``rows`` (the reviewers): what each gives, its net
    price, and the choice's weights."""
    own = homes.ownership() if len(homes) else np.zeros(0, dtype=np.int8)
    available = np.ones(N_OPTIONS, dtype=np.bool_)
    available[[O_DAY, O_BED, O_PUBLIC, O_PRIVATE]] = (
        need.places[O_DAY] > 0,
        need.places[O_BED] > 0,
        (own == PUBLIC).any(),
        (own != PUBLIC).any(),
    )
    return utilities(
        need.need[need.review],
        need.family[need.review],
        prices.net,
        rules.destitute(elders.income[rows]),
        prices.income,
        current_option(elders, rows) if inertia else np.full(rows.size, -1),
        elders.burden[rows],
        elders.level[rows],
        available,
        hours_terms(p),
        choice_terms(p),
    )


# --- 5. account ----------------------------------------------------------------------------------------
def account(
    elders: Elders,
    year: int,
    need: Need,
    admissions: Admissions,
    homes: Homes,
    residents: np.ndarray,
    staff: np.ndarray,
    capacity: Capacity,
    benefits: Benefits,
    respite_days: float,
    p: Parameters,
) -> CareYear:
    """The hours everyone gets, families' strain (added to the elders' columns) and the year's money."""
    home, need_home, informal, formal, asked, strain = care_at_home(
        elders, need.candidates, need.need, need.family, capacity, respite_days, p
    )
    elders.burden[home] = strain
    residents = np.sort(np.concatenate([residents, admissions.rows]))
    need_res, formal_res = care_in_homes(elders, residents, homes, staff, p)
    rows = np.concatenate([home, residents])
    setting = elders.setting[rows].copy()
    formal_all = np.concatenate([formal, formal_res])
    waiting = admissions.waiting
    return CareYear(
        rows=rows,
        need=np.concatenate([need_home, need_res]),
        informal=np.concatenate([informal, np.zeros(residents.size)]),
        formal=formal_all,
        setting=setting,
        waiting=waiting,
        wait_years=(year - elders.waiting_since[waiting]).astype(float),
        admissions=admissions,
        accounts=accounts(
            elders, rows, setting, formal_all, homes.prices(), need.entitled, benefits, respite_days, year, p
        ),
        entitled=need.entitled,
        home_care_asked=asked,
    )


def care_at_home(
    elders: Elders,
    candidates: np.ndarray,
    need: np.ndarray,
    family: np.ndarray,
    capacity: Capacity,
    respite_days: float,
    p: Parameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]:
    """Rows at home with a need (or on the waiting list), their need and the family and professional hours
    they get, the home-care hours a week their clients asked for (home-care hours are cut pro rata when the
    workers cannot deliver them all), and their families' strain carried into next year."""
    stays_home = elders.setting[candidates] != INSTITUTION
    home = candidates[stays_home]
    setting = elders.setting[home]
    need = need[stays_home]
    family = family[stays_home]
    formal, informal, asked = hours_at_home(need, family, setting, capacity.home_care_hours_per_week, hours_terms(p))
    respite = np.where(elders.level[home] >= rules.RESPITE_FROM, respite_days, 0.0)
    strain = accumulate_strain(elders.burden[home], informal, family, respite, p)
    return home, need, informal, formal, asked, strain


@numba.njit(cache=True, nogil=True)
def hours_at_home(need, family, setting, home_care_capacity, terms):  # pragma: no cover - compiled
    """Professional and family hours of each elder at home, and the home-care hours asked for; the hours
    home-care workers deliver (those of the settings ``rules.visited`` names) cut pro rata to what they
    can deliver."""
    n = need.size
    formal = np.empty(n)
    informal = np.empty(n)
    demand = 0.0
    for i in range(n):
        formal[i], informal[i] = hours_given(need[i], family[i], setting[i], terms)
        if rules.visited(setting[i]):
            demand += formal[i]
    if demand > home_care_capacity:
        cut = home_care_capacity / demand
        for i in range(n):
            if rules.visited(setting[i]):
                formal[i] *= cut
                informal[i] = family_given(need[i], family[i], formal[i], terms.substitution)
    return formal, informal, demand


def care_in_homes(
    elders: Elders, residents: np.ndarray, homes: Homes, staff: np.ndarray, p: Parameters
) -> tuple[np.ndarray, np.ndarray]:
    """Residents' need and the hours their home's staff give: all of the need where the home has the staff
    its residents' levels ask, a share where it has fewer."""
    _, load = occupancy(elders, residents, len(homes), p)
    staffing = np.divide(staff, load, out=np.ones_like(load), where=load > 0).clip(max=1.0)
    need = need_hours(elders.level[residents], elders.dementia[residents], p)
    return need, need * staffing[elders.home[residents]]
