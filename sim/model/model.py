"""The model: a Mesa model whose step is one year in the lives of a region's older people and the
care system around them (docs/model.md, section 3). Each year, in order:

1. health: every elder dies, or keeps or changes capacity level (one draw per elder); the dead leave
   their beds, the waiting list and their spouses;
2. entrants: the survivors age one year; the people turning 60 join, with their characteristics and
   families;
3. families: spouses outside the model may die; dementia cases arise;
4. workforce: care workers leave, retire, are trained, recruited and hired where the vacancies are;
5. beds: care homes build and convert beds as the scenario says;
6. care: every elder with a care need gets an arrangement within the capacities, the waiting list
   moves, and the money of the year is settled;
7. the year's indicators are recorded.

The submodels are the modules of this package, one each; this class only holds the state and calls them
in order.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.common.rounding import stochastic_round
from sim.data.demography import AGES
from sim.data.fits import member_parameters
from sim.data.fits import resolve as resolve_calibration
from sim.data.levels import N_LEVELS
from sim.data.parameters import Parameters, care_baseline
from sim.data.regions import load_region
from sim.model import care, characteristics, costs, entrants, families, health, homes, money, rules, workforce
from sim.model.care import Clock
from sim.model.census import take_census
from sim.model.elders import COLUMNS, INSTITUTION, Elders, pool_cells
from sim.model.record import CareSnapshot, CostYear, YearRecord, observe_care, population_year
from sim.model.streams import ensemble_member, replicate_rng
from sim.scenario import Scenario
from sim.scenario.levers import year_levers


class AgeingModel(mesa.Model):
    """A region's population aged 60+ and its care system, one agent per ``scale`` persons, stepped yearly."""

    def __init__(self, scenario: Scenario, replicate: int = 0, care: bool = True):
        """``care=False`` runs the population alone (ageing, deaths, capacity): same results for it."""
        super().__init__(rng=replicate_rng(scenario.seed, replicate))
        self.config = scenario  # the validated scenario (mesa.Model reserves `scenario` for its own class)
        self.with_care = care
        self.care_rng = replicate_rng(scenario.seed, replicate, stream=1)
        self.region = load_region(scenario.region, scenario.region_file)  # a user's region travels with it
        self.year = scenario.base_year
        self.scale = scenario.scale
        self.calibration = resolve_calibration(
            scenario.calibration, scenario.region, scenario.base_year, scenario.region_file
        )
        self.member = None  # the calibration's ensemble member this replicate uses (None: the point estimate)
        if self.calibration and self.calibration["ensemble"] and scenario.parameter_sets == "ensemble":
            self.member = scenario.parameter_member
            if self.member is None:
                self.member = ensemble_member(scenario.seed, replicate, len(self.calibration["ensemble"]))
        fitted = member_parameters(self.calibration, self.member) if self.calibration else {}
        self.p = Parameters(fitted, scenario.data.parameters)
        self.baseline = care_baseline(scenario.region, scenario.region_file)
        # every lever of every year, resolved once: the submodels read the year's, never the scenario
        self.levers = year_levers(scenario, self.baseline, self.region.population_total(), self.region.last_year)
        self.elders = Elders(COLUMNS if care else {})
        self.record: list[YearRecord] = []  # the years' records, in persons
        self.clock = Clock()  # seconds by phase of the step, over the run (benchmarks/bench_care.py)
        self.last_care: CareSnapshot | None = None  # the latest year's care system, for inspection
        self.recorded_care: CareSnapshot | None = None  # last year's, for the year's flows (beds built...)
        self.cost_to_date: dict[str, float] = {}  # the plan's public cost since the base year, by group

        persons = entrants.base_population(self.region, scenario.data)
        urban = entrants.urban_share(self.region, self.year)
        _, rows = entrants.add(self.elders, persons, urban, self.region, self.scale, self.rng)
        self.dementia_prevalence = characteristics.dementia_by_level(self.elders.counts().sum(axis=(0, 1, 2)), self.p)
        self.destitute_share = self.baseline["destitute_elders"]["value"] / persons.sum()
        self.counts = self.elders.counts()
        if care:
            self._describe_newcomers(rows)
            self._start_care_system()
            self._take_census()
            self.residents = self.census.residents  # none yet: the first arrangement places them
            self._arrange_care(everyone_reviews=True)
            if self.p.staffing_grade == 0:  # homes keep the standard their base-year workforce affords
                self._keep_base_year_staffing()
        self._record_year()
        self.running = self.year < scenario.horizon

    def step(self) -> None:
        """One year, phase by phase (``self.clock`` adds up the seconds each takes)."""
        clock = self.clock
        exposure = self.counts
        with clock("health"):
            prevention = self.levers[self.year + 1].health.onset_multiplier  # from the year it reaches
            thresholds, outcomes = health.yearly_outcomes(
                self.region, self.config.data, prevention, self.year, exposure
            )
            deaths = pool_cells(self.elders.live_one_year(thresholds, outcomes, self.rng))
            self.elders.age_one_year()
        self.year += 1
        with clock("entrants"):
            joined, rows = entrants.add(
                self.elders,
                entrants.turning_60(self.region, self.config.data, self.year),
                entrants.urban_share(self.region, self.year),
                self.region,
                self.scale,
                self.rng,
            )
            self.counts = self.elders.counts()
        if self.with_care:
            with clock("entrants"):
                self._describe_newcomers(rows)
            with clock("census"):
                self._take_census()
            with clock("families"):
                self.residents = self.census.residents
                self._update_families()
            with clock("workforce"):
                occupied, load = homes.occupancy(self.elders, self.residents, len(self.homes), self.p)
                self._update_workforce(occupied, load)
            with clock("beds"):
                self._build_beds(occupied)
            self._arrange_care(everyone_reviews=False)  # its phases timed by care.arrange
        with clock("record"):
            self._record_year(deaths, exposure, joined)
        self.running = self.year < self.config.horizon

    def run(self) -> list[YearRecord]:
        while self.running:
            self.step()
        return self.record

    def _record_year(self, deaths=None, exposure=None, joined=None) -> None:
        population = population_year(self.year, self.counts, self.scale, deaths, exposure, joined)
        care_record = None
        if self.last_care is not None:
            yearly = costs.plan_costs(self.last_care, self.recorded_care, self.scale)
            self.cost_to_date = {group: self.cost_to_date.get(group, 0.0) + c for group, c in yearly.items()}
            spent = CostYear(yearly, dict(self.cost_to_date))
            care_record = observe_care(self.last_care, self.scale, self.counts.sum() * self.scale, spent)
            self.recorded_care = self.last_care
        self.record.append(YearRecord(population, care_record))

    # --- the phases ---------------------------------------------------------------------------------
    def _describe_newcomers(self, rows: slice) -> None:
        characteristics.assign(self.elders, rows, self.destitute_share, self.dementia_prevalence, self.p, self.care_rng)
        families.form_families(self.elders, rows, self.year, self.config.base_year, self.p, self.care_rng)

    def _start_care_system(self) -> None:
        self.homes = homes.initial_homes(
            self, {k: v["value"] for k, v in self.baseline.items()}, self.scale, self.p, self.care_rng
        )
        beds = self.homes.beds()
        self.mean_home_size = beds.sum() / max(len(self.homes), 1)
        self.fund = money.Fund()
        self.workforce = workforce.start(beds.sum(axis=1) * self.scale, self.p, self.care_rng)
        self.carers_trained = 0

    def _keep_base_year_staffing(self) -> None:
        """Set the staffing grade to the one the base-year workforce meets for the base-year residents and
        empty beds (the base year itself was arranged at grade 1, the minimum), and describe the year with
        it: homes then replace leavers and hire for new residents and beds at that standard."""
        staff, _ = self.workforce.staff_by_employer(len(self.homes))
        occupied, _ = homes.occupancy(self.elders, self.residents, len(self.homes), self.p)
        by_level = np.bincount(self.elders.level[self.residents], minlength=N_LEVELS) * self.scale
        empty = (self.homes.beds().sum() - occupied.sum()) * self.scale
        grade = homes.affordable_grade(float(staff.sum()), by_level, float(empty), self.p)
        self.p.values["staffing_grade"] = grade
        self.last_care = self._care_snapshot(self.last_year, self.last_capacity, staff)

    def _take_census(self) -> None:
        """Who each submodel works on this year, in one pass over everyone (``sim.model.census``)."""
        benefits = money.benefits_of_year(self.levers[self.year], self.year)
        self.census = take_census(self.elders, benefits.terms, float(self.p.nursing_subsidy_take_up))

    def _update_families(self) -> None:
        q = self.region.mortality.death_probability(self.year - 0.5, AGES, self.config.data.mortality_multiplier)
        families.update_outside_spouses(self.elders, self.census.outside_spouses, q, self.p, self.care_rng)
        characteristics.align_dementia(
            self.elders, self.census.demented_by_level, self.dementia_prevalence, self.care_rng
        )

    def _update_workforce(self, occupied: np.ndarray, load: np.ndarray) -> None:
        workforce.labour_market(  # workers are counted in persons
            self.workforce,
            self.levers[self.year].workforce,
            self.homes.beds() * self.scale,
            occupied * self.scale,
            load * self.scale,
            self.p,
            self.care_rng,
        )

    def _build_beds(self, occupied: np.ndarray) -> None:
        beds = self.levers[self.year].beds
        self.homes.build(
            self,
            homes.bed_targets(beds, self.scale, self.counts.sum()),
            occupied,
            beds.public_share_of_new,
            self.mean_home_size,
            self.p,
            self.care_rng,
        )

    def _capacity(self) -> care.Capacity:
        beds = self.levers[self.year].beds
        return care.Capacity(
            family_beds=int(round(beds.family_beds / self.scale)),
            day_care_places=int(round(beds.day_care_places / self.scale)),
            home_care_hours_per_week=self.workforce.home_care_hours(self.p) / self.scale,
        )

    def _arrange_care(self, everyone_reviews: bool) -> None:
        capacity = self._capacity()
        staff, _ = self.workforce.staff_by_employer(len(self.homes))
        levers = self.levers[self.year]
        benefits = money.benefits_of_year(levers, self.year)
        with self.clock("insurance"):
            self.ltci_eligible, self.ltci_applicants = money.assess(
                self.elders, self.census, benefits, self.year, self.p, self.care_rng
            )
        with self.clock("families"):
            trained = stochastic_round(levers.family.carers_trained_per_year / self.scale, self.care_rng)
            if trained and self.year > self.config.base_year:
                self.carers_trained += families.train_carers(self.elders, self.census.caring, trained)
        year = care.arrange(
            self.elders,
            self.census,
            self.year,
            self.homes,
            self.residents,
            staff / self.scale,  # in agents' worth of staff, as residents' load
            capacity,
            benefits,
            levers.family.respite_days,
            self.p,
            self.care_rng,
            everyone_reviews=everyone_reviews,
            clock=self.clock,
        )
        with self.clock("account"):
            self.residents = year.rows[year.setting == INSTITUTION]
            self.workforce.home_care_demand = year.home_care_asked * self.scale  # providers hire for what was asked
            self._settle_fund(benefits, year)
        with self.clock("record"):
            self.last_year, self.last_capacity = year, capacity
            self.last_care = self._care_snapshot(year, capacity, staff)

    def _settle_fund(self, benefits: money.Benefits, year: care.CareYear) -> None:
        if not benefits.active:
            self.fund.idle()
            return
        ins = benefits.insurance
        contributors = rules.contributors(
            ins.coverage,
            float(self.baseline["population_all_ages"]["value"]),
            self.region.urban_share_all_ages,
            self.p.employee_insured_share_all_ages,
        )
        self.fund.settle(contributors, ins.premium_per_person, year.accounts.ltci_spending * self.scale, ins)

    def _care_snapshot(self, year: care.CareYear, capacity: care.Capacity, staff: np.ndarray) -> CareSnapshot:
        """What the year's record needs from the care system (``staff``: workers by home, in persons)."""
        occupied, load = homes.occupancy(self.elders, self.residents, len(self.homes), self.p)
        # what employers would hire for, by home and (last) home care, in persons (negative: surplus)
        open_posts = workforce.vacancies(
            self.workforce, self.homes.beds() * self.scale, occupied * self.scale, load * self.scale, self.p
        )
        return CareSnapshot(
            care=year,
            elders_level=self.elders.level[year.rows],
            elders_income=self.elders.income[year.rows],
            income_counts=self.census.income_counts,
            homes_beds=self.homes.beds(),
            homes_ownership=self.homes.ownership(),
            occupied=occupied,
            load=load,
            residents_by_level=np.bincount(self.elders.level[self.residents], minlength=N_LEVELS),
            staff=staff / self.scale,  # in agents' worth, as residents' load; the worker counts in persons
            workers_by_level=np.bincount(self.workforce.level, minlength=4),
            open_posts_homes=open_posts[:-1],
            open_posts_home_care=float(open_posts[-1]),
            workers_joined=self.workforce.joined,
            workers_left=self.workforce.left,
            workers_trained_total=self.workforce.trained_total,
            carers_trained_total=self.carers_trained,
            capacity=capacity,
            fund=dict(self.fund.flows),
            ltci_eligible=self.ltci_eligible,
            ltci_applicants=self.ltci_applicants,
            beds_added=self.homes.added_beds,
            beds_added_public=self.homes.added_public,
            beds_converted=self.homes.converted,
            pay_uplift=self.levers[self.year].workforce.pay_uplift,
            certification_bonus=self.levers[self.year].workforce.certification_bonus_monthly,
            p=self.p,
        )
