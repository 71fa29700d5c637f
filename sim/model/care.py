"""The care step: each year, who cares for every older person with a care need, and who pays.

For everyone with a need (mild loss or worse) who is not living in a care home, in order:
1. who reconsiders: the newly in need, those whose level changed, those on the waiting list, those whose
   family has reached its limit, and a share of the rest (``review_rate``); the others keep their care;
2. need: hours of help a week (``need``), the family's hours (``families``), and what each of six
   arrangements would give: professional hours, family hours, the share of need left unmet;
3. price: each arrangement's monthly cost net of insurance, vouchers and destitute support (``prices``);
4. choose: a multinomial logit over the arrangements not ruled out (``choice``);
5. place and ration: care homes admit within their beds and staff, family beds and day-care places are
   rationed, the waiting list moves (``placement``); home-care hours are cut pro rata when home-care
   workers cannot deliver them all;
6. the hours given, families' strain, the care residents get from their home's staff, and the year's
   money (``money``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from sim.data.levels import MILD
from sim.data.parameters import Parameters
from sim.model import rules
from sim.model.characteristics import monthly_income
from sim.model.choice import (
    N_OPTIONS,
    O_BED,
    O_DAY,
    O_PRIVATE,
    O_PUBLIC,
    choice_terms,
    current_option,
    sample_logit,
    utilities,
)
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, SETTINGS, Elders
from sim.model.families import accumulate_strain, family_hours
from sim.model.homes import DEMENTIA, PUBLIC, Homes, needed_bed, occupancy
from sim.model.money import Accounts, Benefits, accounts
from sim.model.need import family_given, hours_given, hours_terms, need_hours
from sim.model.placement import Admissions, admit_to_homes, keep_within, settle_at_home
from sim.model.prices import price_terms


@dataclass
class Capacity:
    """The year's capacities at home and in the community, in agents (persons / scale)."""

    family_beds: int
    day_care_places: int
    home_care_hours_per_week: float  # what home-care workers can deliver


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


def arrange(
    elders: Elders,
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
) -> CareYear:
    """The year's care (see the module docstring). ``residents``: rows living in a care home;
    ``staff``: care workers by home, in agents."""
    candidates, entitled = care_census(
        elders.level,
        elders.setting,
        elders.waiting_since,
        elders.income,
        elders.age,
        elders.applies,
        float(p.nursing_subsidy_take_up),
    )
    review = np.ones(candidates.size, dtype=bool) if everyone_reviews else reviewing(elders, candidates, p, rng)
    places = places_left(elders, candidates, review, capacity, rng)
    reviewers = candidates[review]
    family = family_hours(elders, candidates, p)  # need and family hours are fixed within the year
    need = need_hours(elders.level[candidates], elders.dementia[candidates], p)

    dementia_beds = bool(homes.beds()[:, DEMENTIA].sum() > 0) if len(homes) else False
    bed = needed_bed(elders.level[reviewers], elders.dementia[reviewers], dementia_beds)
    utility = option_utilities(
        elders, reviewers, need[review], family[review], bed, homes, places, benefits, p, inertia=not everyone_reviews
    )
    choice = sample_logit(utility, rng)

    placed, admissions = admit_to_homes(elders, reviewers, choice, bed, year, homes, residents, staff, p, rng)
    settle_at_home(elders, reviewers, choice, utility, placed, places, rng)
    elders.last_level[candidates] = elders.level[candidates]

    home, need_home, informal, formal, asked = care_at_home(elders, candidates, need, family, capacity, respite_days, p)
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
        accounts=accounts(elders, rows, setting, formal_all, homes.prices(), entitled, benefits, respite_days, year, p),
        entitled=entitled,
        home_care_asked=asked,
    )


def places_left(
    elders: Elders, candidates: np.ndarray, review: np.ndarray, capacity: Capacity, rng: np.random.Generator
) -> dict[int, int]:
    """Family beds and day-care places left for those reconsidering once the others keep theirs. Where
    fewer places are left than are held (a lever that shrinks), the last by priority reconsider too
    (``review`` is updated)."""
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
    return places


def option_utilities(
    elders: Elders,
    rows: np.ndarray,
    need: np.ndarray,
    family: np.ndarray,
    bed: np.ndarray,
    homes: Homes,
    places: dict[int, int],
    benefits: Benefits,
    p: Parameters,
    inertia: bool,
) -> np.ndarray:
    """[elder, option] utilities of the arrangements for ``rows`` (who need ``need`` hours a week, of which
    their families can give ``family``, and a care-home bed of type ``bed``): what each arrangement gives,
    its price net of who else pays, and the choice's weights."""
    level = elders.level[rows]
    home_price = np.zeros((rows.size, 2))
    if len(homes):
        home_price[:, 0] = homes.mean_price(public=True)[bed]
        home_price[:, 1] = homes.mean_price(public=False)[bed]
    own = homes.ownership() if len(homes) else np.zeros(0, dtype=np.int8)
    available = np.ones(N_OPTIONS, dtype=np.bool_)
    available[[O_DAY, O_BED, O_PUBLIC, O_PRIVATE]] = (
        places[O_DAY] > 0,
        places[O_BED] > 0,
        (own == PUBLIC).any(),
        (own != PUBLIC).any(),
    )
    income = monthly_income(elders.urban[rows], elders.income[rows], p) + benefits.cash_income(
        elders, rows, float(p.nursing_subsidy_take_up)
    )
    return utilities(
        need,
        family,
        home_price,
        benefits.pays(elders, rows),
        benefits.service_voucher(elders, rows),
        rules.destitute(elders.income[rows]),
        income,
        current_option(elders, rows) if inertia else np.full(rows.size, -1),
        elders.burden[rows],
        level,
        available,
        hours_terms(p),
        price_terms(p, benefits),
        choice_terms(p),
    )


def care_at_home(
    elders: Elders,
    candidates: np.ndarray,
    need: np.ndarray,
    family: np.ndarray,
    capacity: Capacity,
    respite_days: float,
    p: Parameters,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Rows at home with a need (or on the waiting list), their need and the family and professional hours
    they get, and the home-care hours a week their clients asked for; home-care hours are cut pro rata when
    the workers cannot deliver them all. Families' strain accumulates."""
    stays_home = elders.setting[candidates] != INSTITUTION
    home = candidates[stays_home]
    setting = elders.setting[home]
    need = need[stays_home]
    family = family[stays_home]
    formal, informal, asked = hours_at_home(need, family, setting, capacity.home_care_hours_per_week, hours_terms(p))
    respite = np.where(elders.level[home] >= rules.RESPITE_FROM, respite_days, 0.0)
    accumulate_strain(elders, home, informal, family, respite, p)
    return home, need, informal, formal, asked


@numba.njit(cache=True, nogil=True)
def hours_at_home(need, family, setting, home_care_capacity, terms):  # pragma: no cover - compiled
    """Professional and family hours of each elder at home, and the home-care hours asked for; the hours
    home-care workers deliver (home care and family beds) cut pro rata to what they can deliver."""
    n = need.size
    formal = np.empty(n)
    informal = np.empty(n)
    demand = 0.0
    for i in range(n):
        formal[i], informal[i] = hours_given(need[i], family[i], setting[i], terms)
        if setting[i] == HOME_CARE or setting[i] == FAMILY_BED:
            demand += formal[i]
    if demand > home_care_capacity:
        cut = home_care_capacity / demand
        for i in range(n):
            if setting[i] == HOME_CARE or setting[i] == FAMILY_BED:
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


@numba.njit(cache=True, nogil=True)
def care_census(level, setting, waiting_since, income, age, applies, take_up):  # pragma: no cover - compiled
    """The one pass over everyone the care step makes: rows at home with a care need (mild loss or worse)
    or on the waiting list (those at home with neither lose any arrangement they had), and how many
    receive the nursing subsidy and the old-age allowance."""
    rows = np.empty(level.size, dtype=np.int64)
    n = 0
    subsidy = 0
    allowance = 0
    for i in range(level.size):
        subsidy += rules.nursing_subsidy_due(income[i], level[i], applies[i], take_up)
        allowance += rules.old_age_allowance_due(age[i])
        if setting[i] == INSTITUTION:
            continue
        if level[i] >= MILD or waiting_since[i] > 0:
            rows[n] = i
            n += 1
        else:
            setting[i] = NO_NEED
    return rows[:n], (subsidy, allowance)
