"""The care system: invariants on every step, the directions a planner relies on, levers and targets."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_scenario

from sim.catalogues.indicators import catalogue
from sim.data.levels import SEVERE
from sim.model.elders import DAY_CARE, FAMILY, FAMILY_BED, HOME_CARE, INSTITUTION, NO_NEED, SETTINGS
from sim.model.homes import DEMENTIA, needed_bed
from sim.model.model import AgeingModel
from sim.model.money import benefits_of_year
from sim.model.rules import public_priority
from sim.results.query import value
from sim.results.record import table as record_table
from sim.results.runs import run_replicate
from sim.results.targets import check_targets
from sim.scenario.levers import path_value

PLAN = dict(
    region="shengzhou",
    seed=11,
    horizon=2028,
    policy={
        "beds": {
            "total": {2024: 4500},
            "nursing_share": {2024: 0.6},
            "dementia_per_10k": {2024: 17},
            "family_beds": {2024: 300},
        },
        "workforce": {"trained_per_year": 300},
        "family": {"carers_trained_per_year": 100, "respite_days": 14},
        "insurance": {"start_year": 2022, "coverage": "urban", "eligible_from": "severe", "family_cash_monthly": 300},
        "subsidies": {"service_voucher_monthly": 200},
    },
)


def check_invariants(model: AgeingModel) -> None:
    e = model.elders
    snap = model.last_care
    care = snap.care
    # persons conserved across settings: everyone has exactly one, and the table adds up to the population
    assert len(e) == model.counts.sum()
    assert set(np.unique(e.setting)) <= set(range(len(SETTINGS)))
    resident = e.setting == INSTITUTION
    assert (e.home[resident] >= 0).all() and (e.home[~resident] == -1).all()
    assert (e.bed[resident] >= 0).all() and (e.bed[~resident] == -1).all()
    assert ((e.setting == NO_NEED) <= ((e.level == 0) | (e.waiting_since > 0))).all()
    table = record_table(model.record)
    settings = catalogue()["elders_by_setting"].values["group"]
    now = sum(value(table, "elders_by_setting", model.year, group=s) for s in settings)
    assert now == pytest.approx(len(e) * model.scale)

    # occupied beds <= staffed beds <= beds, for every home and bed type
    beds, occupied = snap.homes_beds, snap.occupied
    assert (occupied <= beds).all()
    for owner in ("all", "public", "public_built_private_run", "private"):
        occ, staffed, all_beds = (
            value(table, ind, model.year, group=f"{owner}/all") for ind in ("occupied_beds", "staffed_beds", "beds")
        )
        assert occ <= staffed + 1e-9 <= all_beds + 2e-9

    # places at home within their capacities: family beds, day-care places, home-care hours
    cap = snap.capacity
    assert (e.setting == FAMILY_BED).sum() <= cap.family_beds
    assert (e.setting == DAY_CARE).sum() <= cap.day_care_places
    visited = np.isin(care.setting, (HOME_CARE, FAMILY_BED))
    assert care.formal[visited].sum() <= cap.home_care_hours_per_week * (1 + 1e-9)

    # no negative stocks or money
    assert (beds >= 0).all() and snap.workers_by_level.min() >= 0
    assert snap.fund["balance"] >= 0 and min(snap.fund.values()) >= 0
    money = care.accounts
    assert (
        min(getattr(money, k) for k in ("ltci_spending", "voucher_spending", "destitute_support", "out_of_pocket")) >= 0
    )
    assert min(money.nursing_and_allowance, money.respite_spending) >= 0
    assert (care.need >= 0).all() and (care.informal >= 0).all() and (care.formal >= 0).all()
    assert (care.informal + care.formal <= care.need + 1e-9).all()

    # within a priority class, the public waiting list is first come, first served
    dementia_beds = beds[:, DEMENTIA].sum() > 0

    def classes(rows):
        return np.stack(
            [
                public_priority(e.income[rows], e.level[rows]),
                e.level[rows],
                needed_bed(e.level[rows], e.dementia[rows], dementia_beds),
            ],
            axis=1,
        )

    waiting = care.waiting
    admitted, joined = care.admissions.public, care.admissions.public_joined
    for cls in {tuple(c) for c in classes(admitted)}:
        got = joined[(classes(admitted) == cls).all(axis=1)]
        still = e.waiting_since[waiting][(classes(waiting) == cls).all(axis=1)]
        if still.size:
            assert got.max() <= still.min(), (cls, got.max(), still.min())

    # insurance pays only eligible, covered people
    paid = care.rows[care.accounts.ltci_paid > 0]
    benefits = benefits_of_year(model.levers[model.year], model.year)
    assert benefits.eligible(e, paid).all()
    if not benefits.active:
        assert paid.size == 0


def test_invariants_hold_every_year_of_a_plan():
    model = AgeingModel(make_scenario(**PLAN))
    check_invariants(model)
    years_with_queue = 0
    while model.running:
        model.step()
        check_invariants(model)
        years_with_queue += model.last_care.care.waiting.size > 0
    assert years_with_queue > 0  # the queue rule was exercised
    last = model.last_care.care
    assert last.accounts.beneficiaries > 0 and last.admissions.public.size > 0


def test_places_at_home_hold_when_the_levers_shrink_them():
    """Family beds and day-care places cut by a schedule: those holding a place beyond the new number
    reconsider, the more dependent keeping theirs."""
    shrinking = {
        "family_beds": {2021: 400, 2023: 40},
        "day_care_places": {2021: 1950, 2023: 100},
    }
    model = AgeingModel(make_scenario(**(PLAN | {"horizon": 2024, "policy": PLAN["policy"] | {"beds": shrinking}})))
    check_invariants(model)
    held = []
    while model.running:
        model.step()
        check_invariants(model)
        held.append(((model.elders.setting == FAMILY_BED).sum(), (model.elders.setting == DAY_CARE).sum()))
    assert held[0][0] > 40 and held[-1][0] <= 40  # the places were taken, then cut
    assert held[0][1] > 100 and held[-1][1] <= 100


def outcome(table: pd.DataFrame, indicator: str, year: int, group: str = "all", capacity: str = "all") -> float:
    return value(table, indicator, year, sex="all", group=group, capacity=capacity)


def run(**changes) -> pd.DataFrame:
    values = dict(region="shengzhou", seed=5, horizon=2027) | changes
    return run_replicate(make_scenario(**values), 0)


STAFFED = {"trained_per_year": 600, "entry_share": 1.0, "migrants_per_year": 200}


def test_where_staff_does_not_bind_more_nursing_beds_shorten_the_queue():
    """Most of the public queue needs nursing-type beds. Where homes have the staff (here every worker can
    look after 40 residents), converting general beds to nursing beds lets more of it in. (Where staff
    binds, it need not: homes plan staff for their empty beds as for residents at moderate loss, and the
    heavier residents the queue brings run out of it first.)"""
    staff_enough = {"parameters": {"residents_per_worker": {"grade_1": [40] * 5}, "staffing_grade": 1}}
    more = {"beds": {"nursing_share": {2022: 0.95}}}

    def queue(**changes) -> float:  # over three replicates, each with its own member of the ensemble
        scenario = make_scenario(region="shengzhou", seed=5, horizon=2027, data=staff_enough, **changes)
        return np.mean([outcome(run_replicate(scenario, r), "waiting_list", 2027) for r in range(3)])

    assert queue(policy=more) < queue()


def test_insurance_raises_formal_care_and_cuts_unmet_need_among_the_eligible():
    without = run()
    with_ltci = run(policy={"insurance": {"start_year": 2021, "coverage": "all", "eligible_from": "severe"}})

    def formal_share(t):
        formal = sum(
            outcome(t, "elders_by_setting", 2027, s, lvl)
            for s in ("home_care", "day_care", "family_bed", "institution")
            for lvl in ("severe", "total")
        )
        everyone = sum(outcome(t, "elders_by_setting", 2027, s, lvl) for s in SETTINGS for lvl in ("severe", "total"))
        return formal / everyone

    def unmet(t):
        return sum(outcome(t, "persons_with_unmet_need", 2027, capacity=lvl) for lvl in ("severe", "total"))

    assert formal_share(with_ltci) > formal_share(without)
    assert unmet(with_ltci) < unmet(without)


def test_where_homes_lack_staff_a_larger_training_pipeline_means_more_workers_and_staffed_beds():
    # with the calibrated staffing Shengzhou's homes have the workers they need, and trainees only
    # replace recruits from the open market; the pipeline adds workers where vacancies go unfilled
    # (here: few workers per bed and the highest staffing grade)
    short = {"parameters": {"workers_per_bed_2020": 0.1, "staffing_grade": 5}}
    small = run(data=short)
    large = run(data=short, policy={"workforce": {"trained_per_year": 800, "entry_share": 1.0}})
    assert outcome(large, "workers", 2027) > outcome(small, "workers", 2027)
    assert outcome(large, "staffed_beds", 2027, "all/all") > outcome(small, "staffed_beds", 2027, "all/all")


def test_homes_keep_the_staffing_their_base_year_workforce_affords():
    """With the grade derived from the base year, the base year has no vacancies, and as residents grow
    the homes hire for them rather than letting leavers go unreplaced."""
    table = run(region="tianjin", scale=16, horizon=2030, policy={"beds": {"total": {2025: 100000}}})
    assert outcome(table, "vacancies", 2020, group="care_homes") == pytest.approx(0.0, abs=20)
    residents = [outcome(table, "elders_by_setting", y, group="institution") for y in (2020, 2030)]
    workers = [outcome(table, "workers", y) for y in (2020, 2030)]
    assert residents[1] > 1.5 * residents[0] and workers[1] > 1.1 * workers[0]


def test_home_care_hires_for_the_hours_asked_after_the_homes_are_staffed():
    """Home-care providers hire for the hours their clients asked for (more than their workers deliver), but
    only with the recruits the care homes do not need: more migrant workers grow home care, and the homes'
    residents do not lose their staff to it."""
    few = run(region="tianjin", scale=16, horizon=2026)
    many = run(region="tianjin", scale=16, horizon=2026, policy={"workforce": {"migrants_per_year": 3000}})
    assert outcome(few, "vacancies", 2021, group="home_care") > 0  # asked beyond what the workers deliver
    grow = outcome(many, "home_care_hours_capacity", 2026) / outcome(few, "home_care_hours_capacity", 2026)
    assert grow > 1.5
    homes = [outcome(t, "elders_by_setting", 2026, group="institution") for t in (few, many)]
    assert homes[1] >= 0.97 * homes[0]


def test_a_higher_staffing_standard_raises_the_required_workforce_and_the_shortage():
    """Fewer residents per worker (the standard the requirement is counted at raised from grade 1 of the
    national rating to grade 5) and fewer hours a home-care worker can give each ask for more workers;
    the workers in post do not count as need."""
    base = run(horizon=2022, data={"parameters": {"required_staffing_grade": 1}})
    stricter = run(horizon=2022, data={"parameters": {"required_staffing_grade": 5}})
    fewer_hours = run(
        horizon=2022, data={"parameters": {"required_staffing_grade": 1, "home_care_hours_per_worker": 1000}}
    )
    for year in (2020, 2022):
        assert outcome(stricter, "workers_required", year, group="care_homes") > outcome(
            base, "workers_required", year, group="care_homes"
        )
        assert outcome(stricter, "workforce_shortage", year) > outcome(base, "workforce_shortage", year)
        assert outcome(fewer_hours, "workers_required", year, group="home_and_community") > 1.4 * outcome(
            base, "workers_required", year, group="home_and_community"
        )
    # the need-based requirement counts everyone with a need; vacancies only what employers would fill
    for year in (2020, 2022):
        required, in_post = outcome(base, "workers_required", year), outcome(base, "workers", year)
        assert outcome(base, "workforce_shortage", year) == pytest.approx(max(0.0, required - in_post))
        assert outcome(base, "vacancies", year) <= outcome(base, "workforce_shortage", year)
        parts = outcome(base, "vacancies", year, group="care_homes") + outcome(
            base, "vacancies", year, group="home_care"
        )
        assert outcome(base, "vacancies", year) == pytest.approx(parts)


def test_where_homes_lack_staff_higher_attrition_means_fewer_workers_and_staffed_beds():
    # at the lowest staffing grade Shengzhou's market refills every post a doubled attrition empties;
    # at the highest grade the posts outrun what the market supplies
    strict = {"parameters": {"staffing_grade": 5}}
    usual = run(data=strict)
    leaky = run(data=strict, policy={"workforce": {"attrition_multiplier": 2.0}})
    assert outcome(leaky, "workers", 2027) < outcome(usual, "workers", 2027)
    assert outcome(leaky, "staffed_beds", 2027, "all/all") < outcome(usual, "staffed_beds", 2027, "all/all")


def test_fewer_children_nearby_means_more_formal_demand():
    near = run()
    far = run(
        data={
            "parameters": {
                "children_location": {
                    "coresident": 0.1,
                    "neighbourhood": 0.1,
                    "county": 0.3,
                    "farther": 0.3,
                    "none": 0.2,
                }
            }
        }
    )

    def formal_demand(t):
        users = sum(
            outcome(t, "elders_by_setting", 2027, s) for s in ("home_care", "day_care", "family_bed", "institution")
        )
        return users + outcome(t, "waiting_list", 2027)

    assert formal_demand(far) > formal_demand(near)


def test_family_care_falls_as_households_shrink_over_time():
    model = AgeingModel(make_scenario(region="shengzhou", seed=2, horizon=2035))
    model.run()
    e = model.elders
    entered_2021 = e.age == 60 + 14
    entered_2035 = e.age == 60
    assert (e.children[entered_2035] == 4).mean() < (e.children[entered_2021] == 4).mean()
    assert (model.elders.setting == FAMILY).any()


def test_levers_move_from_the_base_year_to_targets_and_hold():
    assert path_value(None, 2023, 2020, 76000) == 76000
    assert path_value(5.0, 2023, 2020, 76000) == 5.0
    assert path_value({2025: 100000}, 2021, 2020, 76000) == pytest.approx(80800)
    assert path_value({2025: 100000}, 2030, 2020, 76000) == 100000
    schedule = {2022: 10, 2024: 30}
    assert [path_value(schedule, y, 2020, 0) for y in range(2020, 2027)] == [0, 5, 10, 20, 30, 30, 30]
    assert path_value({2020: 3, 2022: 7}, 2021, 2020, 0) == 5  # an explicit base-year value replaces the data's


def test_targets_report_whether_when_and_by_how_much():
    summary = pd.DataFrame(
        {
            "year": [2020, 2021, 2022, 2023] * 2,
            "indicator": ["beds"] * 4 + ["waiting_list"] * 4,
            "group": ["all/all"] * 4 + ["all"] * 4,
            "sex": "all",
            "age_group": "60+",
            "capacity": "all",
            "residence": "all",
            "mean": [76000, 82000, 90000, 101000, 900, 700, 400, 300],
        }
    )
    targets = make_scenario(
        region="tianjin",
        horizon=2023,
        targets=[
            {"indicator": "beds_total", "value": 100000, "year": 2022},
            {"indicator": "waiting_list", "value": 500, "year": 2022, "direction": "at_most"},
        ],
    ).targets
    report = check_targets(summary, targets).set_index("target")
    assert not report.loc["beds_total", "met_at_target_year"]
    assert report.loc["beds_total", "first_year_met"] == 2023
    assert report.loc["beds_total", "gap_at_target_year"] == 10000
    assert report.loc["waiting_list", "met_at_target_year"]
    assert report.loc["waiting_list", "first_year_met"] == 2022
    assert report.loc["waiting_list", "gap_at_target_year"] == -100


@pytest.mark.parametrize(
    ("target", "values"),
    [  # [just within, just beyond] the tolerance: 0.5% of a count, half a percentage point of a share
        ({"indicator": "beds_total", "value": 100000}, [99500, 99499]),
        ({"indicator": "occupancy", "value": 0.80, "direction": "at_most"}, [0.805, 0.8051]),
        ({"indicator": "nursing_share", "value": 0.55}, [0.545, 0.5449]),
    ],
)
def test_a_target_is_met_within_its_stated_tolerance_and_no_further(target, values):
    from sim.catalogues.indicators import catalogue

    scenario = make_scenario(region="tianjin", horizon=2023, targets=[{**target, "year": 2021}])
    indicator, group = catalogue().target(target["indicator"]).indicator, catalogue().target(target["indicator"]).group
    summary = pd.DataFrame(
        {
            "year": [2020, 2021],
            "indicator": indicator,
            "group": group,
            "sex": "all",
            "age_group": "60+",
            "capacity": "all",
            "residence": "all",
            "mean": values,
        }
    )
    report = check_targets(summary, scenario.targets).iloc[0]
    assert report["first_year_met"] == 2020 and not report["met_at_target_year"]
    assert report["tolerance"] == pytest.approx(catalogue().target(target["indicator"]).margin(target["value"]))


def test_severe_share_cannot_exceed_need():
    table = run(horizon=2022)
    severe = outcome(table, "persons_with_unmet_need", 2022, capacity="severe")
    assert 0 <= severe <= outcome(table, "persons_with_need", 2022)
    assert SEVERE == 3


def test_a_city_too_small_for_its_scale_still_runs():
    """At 1,000 persons per agent Shengzhou has one home and may have no staff or residents at all."""
    table = run(scale=1000, horizon=2023)
    beds = outcome(table, "beds", 2023, "all/all")
    assert beds == 4000 and outcome(table, "occupied_beds", 2023, "all/all") <= beds
