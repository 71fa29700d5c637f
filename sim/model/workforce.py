"""Formal care workers: trained, paid, employed by a care home or a home-care provider, and leaving.

Workers are columns (one row per agent of ``scale`` workers): certification level, employer, age,
tenure. Each year, in order: workers retire or leave (the leaving rate answers pay relative to the
base-year pay), the rest age; trainees are certified (some new to care work, the rest upgrades of
uncertified workers), certified workers move up a level; open-market recruits and migrants join; new
workers go to the employers with the most vacancies.
"""

from __future__ import annotations

import numpy as np

from sim.data.parameters import Parameters

CERT_LEVELS = ("none", "junior", "intermediate", "advanced")
HOME_CARE = -1  # employer code of the home-care providers, taken together


class Workforce:
    def __init__(self) -> None:
        self.level = np.empty(0, dtype=np.int8)
        self.employer = np.empty(0, dtype=np.int32)
        self.age = np.empty(0, dtype=np.int16)
        self.tenure = np.empty(0, dtype=np.int16)
        self.trained_total = 0  # agents trained since the base year
        self.left = 0  # agents who left or retired in the last year
        self.joined = 0  # agents who joined in the last year

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
        """Agents employed by each home, and by home care."""
        at_homes = self.employer >= 0
        return np.bincount(self.employer[at_homes], minlength=n_homes), int((~at_homes).sum())

    def leave_and_age(
        self, pay_ratio: float, attrition_multiplier: float, p: Parameters, rng: np.random.Generator
    ) -> None:
        """Retirement and leaving. ``pay_ratio`` is pay over base-year pay: higher pay, fewer leavers."""
        rate = min(0.95, p.attrition_rate * attrition_multiplier * pay_ratio ** (-p.attrition_pay_elasticity))
        stay = (self.age < p.retirement_age) & (rng.random(len(self)) >= rate)
        self.left = int((~stay).sum())
        self.joined = 0
        for name in ("level", "employer", "age", "tenure"):
            setattr(self, name, getattr(self, name)[stay])
        self.age += 1
        self.tenure += 1

    def train_and_promote(self, trainees: int, entry_share: float, p: Parameters, rng: np.random.Generator) -> int:
        """Upgrade uncertified workers and promote certified ones; returns trainees new to care work."""
        newcomers = int(round(trainees * entry_share))
        upgrades = min(trainees - newcomers, int((self.level == 0).sum()))
        uncertified = np.flatnonzero(self.level == 0)
        self.level[rng.choice(uncertified, size=upgrades, replace=False)] = 1
        self.trained_total += newcomers + upgrades
        for frm, chance in ((1, p.promotion_rate[0]), (2, p.promotion_rate[1])):
            who = np.flatnonzero(self.level == frm)
            self.level[who[rng.random(who.size) < chance]] = frm + 1
        return newcomers


def allocate(vacancies: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` new workers over employers in proportion to their vacancies (largest remainders).
    Returns an index into ``vacancies`` for each worker; none if there are no vacancies."""
    vacancies = np.maximum(vacancies, 0.0)
    total = vacancies.sum()
    if n <= 0 or total <= 0:
        return np.empty(0, dtype=np.int64)
    n = min(n, int(np.floor(total)))
    exact = vacancies / total * n
    whole = np.floor(exact).astype(np.int64)
    short = n - whole.sum()
    if short > 0:
        whole[np.argsort(-(exact - whole), kind="stable")[:short]] += 1
    return np.repeat(np.arange(vacancies.size), whole)
