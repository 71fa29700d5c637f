"""Formal care workers: trained, paid, employed by a care home or a home-care provider, and leaving.

Workers are columns, one row per worker whatever the elders' scale (a city's workforce is a few tens of
thousands, and counting homes' staff by the worker keeps staffing as fine at any scale as at one agent per
person): certification level, employer, age, tenure. Everything here is in persons: beds, residents'
staff load and home care's hours are the elders' agents times the scale.

Each year, in order: workers retire or leave (the leaving rate answers pay relative to the base-year pay),
the rest age; trainees are certified (some new to care work, the rest upgrades of uncertified workers and
then of certified ones to the next level), certified workers move up a level with experience; migrants
and open-market recruits join (the market supplies at most what the base-year leaving rate takes, more
with better pay); new workers go first to the care homes with the most vacancies, then to home care. A
home's vacancies are what its residents' staffing standards and its empty beds (staffed as for a
resident at ``empty_bed_level``) ask beyond its staff; home care's are the hours its clients asked for
beyond what its workers can deliver.
"""

from __future__ import annotations

import numpy as np

from sim.common.rounding import round_to_total, stochastic_round
from sim.data.parameters import Parameters
from sim.model.homes import resident_load

CERT_LEVELS = ("none", "junior", "intermediate", "advanced")
HOME_CARE_PROVIDERS = -1  # employer code of the home-care providers, taken together
WEEKS_PER_YEAR = 52.0


class Workforce:
    def __init__(self) -> None:
        self.level = np.empty(0, dtype=np.int8)
        self.employer = np.empty(0, dtype=np.int32)
        self.age = np.empty(0, dtype=np.int16)
        self.tenure = np.empty(0, dtype=np.int16)
        self.trained_total = 0  # workers trained since the base year
        self.left = 0  # workers who left or retired in the last year
        self.joined = 0  # workers who joined in the last year
        self.base_size = 0  # workers in post in the base year: the open market's scale
        self.home_care_demand = 0.0  # hours a week home-care clients last asked for

    def __len__(self) -> int:
        return self.level.size

    def hire(self, employers: np.ndarray, level: int | np.ndarray, p: Parameters, rng: np.random.Generator) -> None:
        n = employers.size
        lo, hi = p.entry_age_range
        self.level = np.concatenate([self.level, np.broadcast_to(np.asarray(level, dtype=np.int8), (n,))])
        self.employer = np.concatenate([self.employer, employers.astype(np.int32)])
        self.age = np.concatenate([self.age, rng.integers(int(lo), int(hi) + 1, size=n).astype(np.int16)])
        self.tenure = np.concatenate([self.tenure, np.zeros(n, dtype=np.int16)])
        self.joined += n

    def staff_by_employer(self, n_homes: int) -> tuple[np.ndarray, int]:
        """Workers employed by each home, and by home care."""
        at_homes = self.employer >= 0
        return np.bincount(self.employer[at_homes], minlength=n_homes), int((~at_homes).sum())

    def leave_and_age(
        self, pay_ratio: float, attrition_multiplier: float, p: Parameters, rng: np.random.Generator
    ) -> None:
        """Retirement and leaving. ``pay_ratio`` is pay over base-year pay: higher pay, fewer leavers."""
        rate = p.attrition_rate * attrition_multiplier * pay_ratio ** (-p.attrition_pay_elasticity)
        rate = min(p.attrition_rate_max, rate)
        stay = (self.age < p.retirement_age) & (rng.random(len(self)) >= rate)
        self.left = int((~stay).sum())
        self.joined = 0
        for name in ("level", "employer", "age", "tenure"):
            setattr(self, name, getattr(self, name)[stay])
        self.age += 1
        self.tenure += 1

    def train_and_promote(self, trainees: int, entry_share: float, p: Parameters, rng: np.random.Generator) -> int:
        """Train: newcomers, then uncertified workers to junior, then (the plans' training includes skill
        levels) certified workers one level up, juniors first; promote by experience; returns trainees new
        to care work. Trainees beyond everyone who can move up are not trained."""
        certified_before = self.level.copy()  # each worker moves up at most one level a year
        newcomers = stochastic_round(trainees * entry_share, rng)
        left = trainees - newcomers
        trained = newcomers
        for frm in (0, 1, 2):
            can = np.flatnonzero(certified_before == frm)
            n = min(left, can.size)
            self.level[rng.choice(can, size=n, replace=False)] = frm + 1
            trained += n
            left -= n
        self.trained_total += trained
        for frm, chance in ((1, p.promotion_rate[0]), (2, p.promotion_rate[1])):
            who = np.flatnonzero((certified_before == frm) & (self.level == frm))  # not moved up by training
            self.level[who[rng.random(who.size) < chance]] = frm + 1
        return newcomers

    def home_care_hours(self, p: Parameters) -> float:
        """Hours a week the home-care workers can deliver."""
        _, staff = self.staff_by_employer(0)
        return staff * p.home_care_hours_per_worker / WEEKS_PER_YEAR


def start(beds_by_home: np.ndarray, p: Parameters, rng: np.random.Generator) -> Workforce:
    """The base-year workforce: ``workers_per_bed_2020`` per bed (``beds_by_home`` in persons' places), a
    share in home care, the rest spread over the homes by their beds; certification levels and tenure."""
    wf = Workforce()
    total = stochastic_round(p.workers_per_bed_2020 * beds_by_home.sum(), rng)
    at_home_care = stochastic_round(total * p.home_care_worker_share, rng)
    employers = np.concatenate(
        [np.full(at_home_care, HOME_CARE_PROVIDERS), allocate(beds_by_home.astype(float), total - at_home_care, rng)]
    )
    certified = p.certified_share_2020
    levels = rng.choice(4, size=employers.size, p=[1 - certified, *(certified * p.certified_level_split_2020)])
    wf.hire(employers, levels, p, rng)
    wf.tenure[:] = rng.integers(0, int(p.initial_tenure_max_years) + 1, size=len(wf))
    wf.base_size = len(wf)
    wf.home_care_demand = at_home_care * p.home_care_hours_per_worker / WEEKS_PER_YEAR
    return wf


def vacancies(wf: Workforce, beds: np.ndarray, occupied: np.ndarray, load: np.ndarray, p: Parameters) -> np.ndarray:
    """Workers wanted beyond those in post, by home and (last) home care; negative: more than wanted
    (``beds``, ``occupied`` [home, bed type] and residents' staff ``load`` [home] in persons)."""
    free_beds = (beds - occupied).sum(axis=1)
    staff, home_care_staff = wf.staff_by_employer(beds.shape[0])
    wanted = load + free_beds * resident_load(np.array([int(p.empty_bed_level)]), p)[0]
    return np.append(
        wanted - staff, wf.home_care_demand * WEEKS_PER_YEAR / p.home_care_hours_per_worker - home_care_staff
    )


def labour_market(
    wf: Workforce,
    levers,
    beds: np.ndarray,
    occupied: np.ndarray,
    load: np.ndarray,
    p: Parameters,
    rng: np.random.Generator,
) -> None:
    """One year of the workforce under the year's workforce levers: leaving and ageing, training, then hiring
    into the vacancies (``beds``, ``occupied`` and ``load`` by home, in persons)."""
    certified = (wf.level > 0).mean() if len(wf) else 0.0
    pay = p.care_worker_wage_monthly * (1 + levers.pay_uplift) + levers.certification_bonus_monthly * certified
    pay_ratio = pay / p.care_worker_wage_monthly
    wf.leave_and_age(pay_ratio, levers.attrition_multiplier, p, rng)
    newcomers = wf.train_and_promote(stochastic_round(levers.trained_per_year, rng), levers.entry_share, p, rng)
    migrants = stochastic_round(levers.migrants_per_year, rng)

    open_posts = vacancies(wf, beds, occupied, load, p)
    market = p.attrition_rate * wf.base_size * pay_ratio**p.recruit_pay_elasticity
    recruits = stochastic_round(min(market, max(0.0, np.maximum(open_posts, 0).sum() - newcomers - migrants)), rng)
    n_homes = beds.shape[0]
    for level, n in ((1, newcomers), (0, migrants + recruits)):
        # care homes first (their residents' care is owed at the standard), home care with the rest
        at_homes = allocate(open_posts[:n_homes], n, rng)
        at_home_care = min(n - at_homes.size, stochastic_round(max(open_posts[n_homes], 0.0), rng))
        slots = np.concatenate([at_homes, np.full(at_home_care, n_homes)])
        wf.hire(np.where(slots == n_homes, HOME_CARE_PROVIDERS, slots), level, p, rng)
        open_posts -= np.bincount(slots, minlength=open_posts.size)


def allocate(vacancies: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split up to ``n`` new workers over employers in proportion to their vacancies (largest remainders),
    no more than the vacancies (their total, rounded stochastically: a fraction of a worker's worth of
    vacancies is worth a fraction of a hire). Returns an index into ``vacancies`` for
    each worker; none if there are no vacancies."""
    vacancies = np.maximum(vacancies, 0.0)
    total = vacancies.sum()
    if n <= 0 or total <= 0:
        return np.empty(0, dtype=np.int64)
    n = min(n, stochastic_round(total, rng))
    return np.repeat(np.arange(vacancies.size), round_to_total(vacancies / total * n, n))
