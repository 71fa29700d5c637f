"""Plan cost: what the plan's levers cost the public purse in a year, yuan, by the cost groups of the lever
catalogue (``sim/catalogues/levers.yaml``, ``cost``), from the year's flows (beds built and converted, places
opened, people trained) and stocks (occupied beds, places, workers in post) at the care parameters' unit costs
(sim/data/plan_costs.yaml), and the money the model already counts (the insurance's public
top-up, subsidies and destitute support). Construction is paid in the year beds and places are added; a
lever that shrinks saves only their running costs.
"""

from __future__ import annotations

from sim.catalogues.levers import COST_GROUPS

MONTHS = 12


def plan_costs(now, before, scale: float) -> dict[str, float]:
    """The year's public cost by group (yuan), from this year's care snapshot and last year's (None in the
    base year: nothing is built or trained in it, the running costs are counted)."""
    p = now.p

    def added(name: str) -> float:
        """Agents' worth of what grew since last year (never negative)."""
        return max(0.0, float(getattr(now, name) - getattr(before, name))) if before is not None else 0.0

    def places_added(kind: str) -> float:
        if before is None:
            return 0.0
        return max(0.0, float(getattr(now.capacity, kind) - getattr(before.capacity, kind)))

    new_public = added("beds_added_public") * scale
    new_private = (added("beds_added") - added("beds_added_public")) * scale
    workers, certified = float(now.workers_by_level.sum()), float(now.workers_by_level[1:].sum())
    money = now.care.accounts
    costs = {
        "beds_construction": new_public * p.new_bed_capital_cost_public
        + new_private * p.new_bed_subsidy_private
        + added("beds_converted") * scale * p.bed_conversion_subsidy,
        "beds_operation": float((now.residents_by_level * p.operating_subsidy_yearly).sum()) * scale,
        "family_beds": places_added("family_beds") * scale * p.family_bed_setup_cost
        + now.capacity.family_beds * scale * p.family_bed_running_monthly * MONTHS,
        "day_care": places_added("day_care_places") * scale * p.day_care_place_capital_cost
        + now.capacity.day_care_places * scale * p.day_care_running_yearly,
        "workforce_training": added("workers_trained_total") * (p.training_cost_per_trainee + p.certificate_bonus),
        "workforce_pay": (now.pay_uplift * p.care_worker_wage_monthly * workers + now.certification_bonus * certified)
        * MONTHS,
        "family_support": added("carers_trained_total") * scale * p.family_carer_training_cost,
        "insurance_top_up": float(now.fund["public_top_up"]),
        "subsidies": (
            money.voucher_spending + money.destitute_support + money.nursing_and_allowance + money.respite_spending
        )
        * scale,
    }
    assert tuple(costs) == COST_GROUPS  # the catalogue's groups, in its order
    return costs
