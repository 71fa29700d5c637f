"""The model: a Mesa model whose step is one year in the lives of a region's older people and the
care system around them.

Each year, in order:
1. every elder lives the year: dies, or keeps or changes capacity level (one draw per elder); the dead
   leave their beds, the waiting list and their spouses;
2. the survivors age one year; the people turning 60 join, with their characteristics and families;
3. families: spouses outside the model may die; dementia cases arise;
4. care workers leave, retire, are trained, recruited and hired where the vacancies are;
5. care homes build and convert beds as the scenario says;
6. every elder with a care need gets an arrangement (family, home care, day care, family bed, care home)
   within the capacities, the waiting list moves, and the money of the year is settled;
7. the year's indicators are recorded.
"""

from __future__ import annotations

from functools import lru_cache

import mesa
import numpy as np

from sim.data.demography import AGE_MIN, AGES, N_AGES
from sim.data.fits import resolve as resolve_calibration
from sim.data.levels import MODERATE, N_LEVELS
from sim.data.parameters import Parameters, care_baselines
from sim.data.regions import ENTRY_AGE, load_region
from sim.model import characteristics, families
from sim.model.care import FAMILY, FAMILY_BED, Capacity, CareArranger, CareYear, resident_load
from sim.model.care import HOME_CARE as HOME_CARE_SETTING
from sim.model.elders import COLUMNS, DEAD, Elders, expand_to_cells, pool_cells, stochastic_round
from sim.model.health import (
    TransitionMultipliers,
    aligned_death_probability,
    annual_transition_probabilities,
    scaled_rates,
)
from sim.model.homes import initial_homes
from sim.model.money import Benefits, Fund
from sim.model.workforce import HOME_CARE, Workforce, allocate
from sim.results.record import YearlyRecord
from sim.scenario import Scenario
from sim.scenario.levers import path_value


def replicate_rng(seed: int, replicate: int, stream: int = 0) -> np.random.Generator:
    """Replicate r always gets the same streams of the seed, whichever worker runs it. Stream 0 drives
    the population (deaths, capacity, entrants), stream 1 the care system, so that two scenarios that
    differ only in policy share the same population trajectories (common random numbers)."""
    key = (replicate,) if stream == 0 else (replicate, stream)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@lru_cache(maxsize=64)
def transition_matrices(region: str, multipliers: TransitionMultipliers) -> np.ndarray:
    """One-year transition matrices ``P[sex, age, from, to]`` of a region under these multipliers: cached,
    since every model of a region shares them and calibrations and sweeps build thousands of models."""
    matrices = annual_transition_probabilities(scaled_rates(load_region(region).transition_rates, multipliers))
    matrices.setflags(write=False)
    return matrices


class AgeingModel(mesa.Model):
    """A region's population aged 60+ and its care system, one agent per ``scale`` persons, stepped yearly."""

    def __init__(self, scenario: Scenario, replicate: int = 0, care: bool = True):
        """``care=False`` runs the population alone (ageing, deaths, capacity): same results for it."""
        super().__init__(rng=replicate_rng(scenario.seed, replicate))
        self.with_care = care
        self.last_care: dict | None = None  # the latest year's care snapshot, for inspection
        self.config = scenario  # the validated scenario (mesa.Model reserves `scenario` for its own class)
        self.care_rng = replicate_rng(scenario.seed, replicate, stream=1)
        self.region = load_region(scenario.region)
        self.year = scenario.base_year
        self.scale = scenario.scale
        data = scenario.data
        self.multipliers = TransitionMultipliers(
            data.onset_multiplier, data.worsening_multiplier, data.recovery_multiplier
        )
        self.transitions = transition_matrices(scenario.region, self.multipliers)
        self.elders = Elders(COLUMNS if care else {})
        self.record = YearlyRecord(scale=self.scale)

        self.calibration = resolve_calibration(scenario.calibration, scenario.region, scenario.base_year)
        self.p = Parameters(self.calibration["parameters"] if self.calibration else {}, data.parameters)
        self.baseline = care_baselines()[scenario.region]
        self._add_base_population()
        self._counts = self.elders.counts()
        snapshot = None
        if self.with_care:
            self._start_care_system()
            snapshot = self.last_care = self._care_snapshot(self._arrange_care(everyone_reviews=True))
        self.record.add(self.year, self._counts, care=snapshot)
        self.running = self.year < scenario.horizon

    def step(self) -> None:
        exposure = self._counts
        thresholds, outcomes = self._yearly_outcomes(exposure)
        deaths = pool_cells(self.elders.live_one_year(thresholds, outcomes, self.rng))
        self.elders.age_one_year()
        self.year += 1
        entrants = self._add_new_60_year_olds()
        self._counts = self.elders.counts()
        snapshot = None
        if self.with_care:
            self._update_families()
            self._update_workforce()
            self._build_beds()
            snapshot = self.last_care = self._care_snapshot(self._arrange_care(everyone_reviews=False))
        self.record.add(self.year, self._counts, deaths, exposure, entrants, care=snapshot)
        self.running = self.year < self.config.horizon

    def run(self) -> YearlyRecord:
        while self.running:
            self.step()
        return self.record

    # --- the year's chances -------------------------------------------------------------------------
    def _yearly_outcomes(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cumulative probabilities and outcome codes per cell (sex, age, level) for this year.

        Outcomes per cell: stay at the level, each other level in order, then death. Death probabilities
        are aligned to the life table for the year's midpoint given the current mix of levels."""
        q_table = self.region.mortality.death_probability(self.year + 0.5, AGES, self.config.data.mortality_multiplier)
        q = aligned_death_probability(q_table, self.region.hazard_ratio, counts)  # [sex, age, level]
        transitions = self.transitions
        onset = self._lever(self.config.policy.health.onset_multiplier, 1.0, self.year + 1)
        if onset != 1.0:
            m = self.multipliers
            transitions = transition_matrices(
                self.config.region, TransitionMultipliers(m.onset * onset, m.worsening, m.recovery)
            )
        survive = (1.0 - q)[..., None] * transitions  # [sex, age, from, to]
        probs = np.empty((2, N_AGES, N_LEVELS, N_LEVELS + 1))
        codes = np.empty((N_LEVELS, N_LEVELS + 1), dtype=np.int8)
        for lvl in range(N_LEVELS):
            order = [lvl] + [k for k in range(N_LEVELS) if k != lvl]
            probs[:, :, lvl, :N_LEVELS] = survive[:, :, lvl, order]
            codes[lvl] = order + [DEAD]
        probs[..., N_LEVELS] = q
        thresholds = np.cumsum(probs, axis=-1)
        thresholds[..., -1] = 1.0  # guard against rounding: every draw lands somewhere
        outcomes = np.broadcast_to(codes, (2, N_AGES, N_LEVELS, N_LEVELS + 1))
        return expand_to_cells(thresholds), expand_to_cells(outcomes)

    # --- who joins ----------------------------------------------------------------------------------
    def _add_agents(self, persons: np.ndarray) -> tuple[np.ndarray, slice]:
        """Add agents for expected persons by [sex, age 60..110], their capacity levels drawn from the
        region's shares for their sex and age. Returns agents added by sex and their rows."""
        agents = stochastic_round(persons / self.scale, self.rng)
        by_level = self.rng.multinomial(agents, self.region.prevalence)
        rows = self.elders.add(by_level)
        return agents.sum(axis=1), rows

    def _add_base_population(self) -> None:
        persons = self.region.base_population().copy()
        target = self.config.data.population_60plus
        if target is not None:
            persons *= target / persons.sum()
        _, rows = self._add_agents(persons)
        counts_by_level = self.elders.counts().sum(axis=(0, 1))
        self.dementia_prevalence = characteristics.dementia_by_level(counts_by_level, self.p)
        self.destitute_share = self.baseline["destitute_elders"]["value"] / persons.sum()
        if self.with_care:
            self._describe_newcomers(rows)

    def _add_new_60_year_olds(self) -> np.ndarray:
        data = self.config.data
        expected = self.region.entrants(self.year, data.mortality_multiplier) * data.entrants_multiplier
        persons = np.zeros((2, N_AGES))
        persons[:, ENTRY_AGE - AGE_MIN] = expected
        added, rows = self._add_agents(persons)
        if self.with_care:
            self._describe_newcomers(rows)
        return added

    def _describe_newcomers(self, rows: slice) -> None:
        characteristics.assign(
            self.elders, rows, self.baseline, self.destitute_share, self.dementia_prevalence, self.p, self.care_rng
        )
        families.form_families(self.elders, rows, self.year, self.config.base_year, self.p, self.care_rng)

    # --- the care system ----------------------------------------------------------------------------
    def _lever(self, spec, base_value: float, year: int | None = None) -> float:
        return path_value(spec, self.year if year is None else year, self.config.base_year, base_value)

    def _base(self, key: str) -> float:
        return float(self.baseline[key]["value"])

    def _start_care_system(self) -> None:
        p, rng = self.p, self.care_rng
        self.homes = initial_homes(self, {k: v["value"] for k, v in self.baseline.items()}, self.scale, p, rng)
        beds = self.homes.beds()
        self.mean_home_size = beds.sum() / max(len(self.homes), 1)
        self.arranger = CareArranger(p)
        self.fund = Fund()
        self.workforce = Workforce()
        total = stochastic_round(np.array([p.workers_per_bed_2020 * beds.sum()]), rng)[0]
        at_home_care = int(round(total * p.home_care_worker_share))
        employers = np.concatenate(
            [
                np.full(at_home_care, HOME_CARE),
                allocate(beds.sum(axis=1).astype(float), total - at_home_care),
            ]
        )
        levels = rng.choice(
            4,
            size=employers.size,
            p=[1 - p.certified_share_2020, *(p.certified_share_2020 * np.array([0.7, 0.25, 0.05]))],
        )
        self.workforce.hire(employers, levels, p, rng)
        self.workforce.tenure[:] = rng.integers(0, 6, size=len(self.workforce))
        self.base_workforce = len(self.workforce)
        self.home_care_demand = at_home_care * p.home_care_hours_per_worker / 52.0
        self.carers_trained = 0
        self.capacity = self._capacity()

    def _capacity(self) -> Capacity:
        beds = self.config.policy.beds
        _, home_care_staff = self.workforce.staff_by_employer(len(self.homes))
        return Capacity(
            family_beds=int(round(self._lever(beds.family_beds, self._base("family_beds")) / self.scale)),
            day_care_places=int(round(self._lever(beds.day_care_places, self._base("day_care_places")) / self.scale)),
            home_care_hours_per_week=home_care_staff * self.p.home_care_hours_per_worker / 52.0,
        )

    def _benefits(self) -> Benefits:
        pol = self.config.policy
        ins = pol.insurance
        return Benefits(
            insurance=ins,
            active=ins.start_year is not None and self.year >= ins.start_year,
            nursing_subsidy=self._lever(pol.subsidies.nursing_subsidy_monthly, self._base("nursing_subsidy_monthly")),
            old_age_allowance=self._lever(
                pol.subsidies.old_age_allowance_monthly, self._base("old_age_allowance_monthly")
            ),
            voucher=self._lever(pol.subsidies.service_voucher_monthly, 0.0),
        )

    def _update_families(self) -> None:
        # a spouse outside the model is of the other sex and (assumption) three years younger, at least 60's rate
        q = self.region.mortality.death_probability(self.year - 0.5, AGES)
        families.update_outside_spouses(self.elders, q, self.care_rng)
        characteristics.align_dementia(self.elders, self.dementia_prevalence, self.care_rng)

    def _update_workforce(self) -> None:
        p, wf, rng, pol = self.p, self.workforce, self.care_rng, self.config.policy.workforce
        uplift = self._lever(pol.pay_uplift, 0.0)
        bonus = self._lever(pol.certification_bonus_monthly, 0.0)
        certified = (wf.level > 0).mean() if len(wf) else 0.0
        pay_ratio = (p.care_worker_wage_monthly * (1 + uplift) + bonus * certified) / p.care_worker_wage_monthly
        wf.leave_and_age(pay_ratio, pol.attrition_multiplier, p, rng)
        trained = self._lever(pol.trained_per_year, self._base("trained_per_year"))
        trainees = int(stochastic_round(np.array([trained / self.scale]), rng)[0])
        newcomers = wf.train_and_promote(trainees, pol.entry_share, p, rng)
        migrants = int(stochastic_round(np.array([self._lever(pol.migrants_per_year, 0.0) / self.scale]), rng)[0])

        occupied, load = self.arranger.occupancy(self.elders, len(self.homes))
        free_beds = (self.homes.beds() - occupied).sum(axis=1)
        staff, home_care_staff = wf.staff_by_employer(len(self.homes))
        wanted = load + free_beds * resident_load(np.array([MODERATE]), p)[0]
        vacancies = np.append(
            wanted - staff, self.home_care_demand * 52.0 / p.home_care_hours_per_worker - home_care_staff
        )
        market = p.attrition_rate * self.base_workforce * pay_ratio**p.recruit_pay_elasticity
        recruits = int(min(market, max(0.0, np.maximum(vacancies, 0).sum() - newcomers - migrants)))
        for level, n in ((1, newcomers), (0, migrants + recruits)):
            slots = allocate(vacancies, n)
            employers = np.where(slots == len(self.homes), HOME_CARE, slots)
            wf.hire(employers, level, p, rng)
            vacancies -= np.bincount(slots, minlength=vacancies.size)

    def _build_beds(self) -> None:
        beds, p = self.config.policy.beds, self.p
        base_total = self._base("beds")
        pop60 = self._counts.sum()
        total = self._lever(beds.total, base_total) / self.scale
        nursing_share = self._lever(beds.nursing_share, self._base("nursing_share"))
        base_dementia_per_10k = self._base("dementia_beds") / self.region.population_total() * 1e4
        dementia = self._lever(beds.dementia_per_10k, base_dementia_per_10k) * pop60 / 1e4
        occupied, _ = self.arranger.occupancy(self.elders, len(self.homes))
        self.homes.build(
            self,
            int(round(total)),
            int(np.ceil(nursing_share * round(total) - 1e-9)),  # reach the share, not just below it
            int(np.ceil(dementia - 1e-9)),
            occupied,
            beds.public_share_of_new,
            self.mean_home_size,
            p,
            self.care_rng,
        )

    def _arrange_care(self, everyone_reviews: bool) -> CareYear:
        self.capacity = self._capacity()
        staff, _ = self.workforce.staff_by_employer(len(self.homes))
        benefits = self._benefits()
        fam = self.config.policy.family
        trained = int(
            stochastic_round(np.array([self._lever(fam.carers_trained_per_year, 0.0) / self.scale]), self.care_rng)[0]
        )
        if trained and self.year > self.config.base_year:
            self._train_family_carers(trained)
        care = self.arranger.arrange(
            self.elders,
            self.year,
            self.homes,
            staff.astype(float),
            self.capacity,
            benefits,
            self._lever(fam.respite_days, 0.0),
            self.care_rng,
            everyone_reviews=everyone_reviews,
        )
        visiting = np.isin(care.setting, (HOME_CARE_SETTING, FAMILY_BED))
        self.home_care_demand = care.formal[visiting].sum()
        ins = self.config.policy.insurance
        if benefits.active:
            contributors = (
                self._base("population_all_ages")
                * {
                    "urban_employees": self.p.employee_insured_share_all_ages,
                    "urban": self._base("urban_share"),
                    "all": 1.0,
                }[ins.coverage]
            )
            self.fund.settle(ins.premium_per_person * contributors, care.money["ltci_spending"] * self.scale)
        else:
            self.fund.flows = {"income": 0.0, "spending": 0.0, "public_top_up": 0.0, "balance": self.fund.balance}
        return care

    def _train_family_carers(self, n: int) -> None:
        """Train carers in the most strained families still caring at home."""
        e = self.elders
        caring = np.flatnonzero((e.level >= 1) & (e.setting >= FAMILY) & (e.setting <= FAMILY_BED) & ~e.carer_trained)
        pick = caring[np.argsort(-e.burden[caring], kind="stable")[:n]]
        e.carer_trained[pick] = True
        self.carers_trained += pick.size

    def _care_snapshot(self, care: CareYear) -> dict:
        """What the indicators need from this year's care system."""
        occupied, load = self.arranger.occupancy(self.elders, len(self.homes))
        staff, home_care_staff = self.workforce.staff_by_employer(len(self.homes))
        return {
            "care": care,
            "elders_level": self.elders.level[care.rows],
            "elders_income": self.elders.income[care.rows],
            "homes_beds": self.homes.beds(),
            "homes_ownership": self.homes.ownership(),
            "occupied": occupied,
            "load": load,
            "staff": staff,
            "home_care_staff": home_care_staff,
            "workers_by_level": np.bincount(self.workforce.level, minlength=4),
            "workers_joined": self.workforce.joined,
            "workers_left": self.workforce.left,
            "workers_trained_total": self.workforce.trained_total,
            "carers_trained_total": self.carers_trained,
            "capacity": self.capacity,
            "fund": dict(self.fund.flows),
            "p": self.p,
        }
