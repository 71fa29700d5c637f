"""How coarse a scale a scenario allows: at ``scale`` persons per agent its results must not depend on the
scale (docs/model.md, "Faithful scales"), and one run must fit in this machine's memory."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario

# --- faithful scales ------------------------------------------------------------------------------------
# A home agent stands for `scale` real homes of its kind, so per-home dynamics are those of one agent per
# person, and care workers are one agent each at any scale; what a coarse scale still changes is how many
# home agents each kind has, how many elder agents the smaller groups hold, and the rounding of small
# capacities to whole agents. benchmarks/bench_scale.py measured where that starts to show (docs/model.md,
# "Faithful scales"): Tianjin is faithful at 10 to 50 persons per agent and not at 100 (30,000 agents),
# Shengzhou at 2 and 5 and not at 10 (3 home agents, 19,500 agents). The limits keep on the safe side.
MIN_HOME_AGENTS = 4  # of each kind of home (public, other), or all of its homes where it has fewer
MIN_AGENTS = 40_000  # elder agents in the base year
MIN_PLACES = 50  # agents' places in every capacity a scenario sets (beds, family beds, day-care places)


@dataclass(frozen=True)
class Limit:
    """The coarsest scale a scenario allows, and what sets it."""

    scale: float
    reason: str


def coarsest_faithful_scale(scenario: Scenario) -> Limit:
    """The largest ``scale`` at which the scenario keeps at least ``MIN_HOME_AGENTS`` home agents of each
    kind (or all of its homes), ``MIN_AGENTS`` elder agents in the base year and ``MIN_PLACES`` agents'
    places in every capacity it sets."""
    from sim.data.parameters import care_baseline
    from sim.data.regions import load_region

    base = {k: v["value"] for k, v in care_baseline(scenario.region, scenario.region_file).items()}
    persons = scenario.data.population_60plus or load_region(scenario.region, scenario.region_file).population_total()
    limits = [
        Limit(
            max(1.0, persons / MIN_AGENTS),
            f"{scenario.region}'s {persons:,.0f} people aged 60+ must be at least {MIN_AGENTS:,} agents",
        )
    ]
    for kind, share in (("public", base["public_share_of_homes"]), ("other", 1 - base["public_share_of_homes"])):
        homes = base["homes"] * share
        if homes > 0:
            limits.append(
                Limit(
                    max(1.0, homes / min(MIN_HOME_AGENTS, homes)),
                    f"{scenario.region} has {homes:,.0f} {kind} care homes; each kind of home needs at least "
                    f"{MIN_HOME_AGENTS} home agents, or all its homes",
                )
            )
    from sim.scenario.levers import named_values

    beds = scenario.policy.beds
    for name, spec, base_value in (
        ("beds", beds.total, base["beds"]),
        ("family beds", beds.family_beds, base["family_beds"]),
        ("day-care places", beds.day_care_places, base["day_care_places"]),
    ):
        smallest = min((v for v in [base_value, *named_values(spec)] if v > 0), default=None)
        if smallest is not None:
            limits.append(
                Limit(
                    max(1.0, smallest / MIN_PLACES),
                    f"{smallest:,.0f} {name} must be at least {MIN_PLACES} agents' places",
                )
            )
    return min(limits, key=lambda limit: limit.scale)


def faithful_scale(scenario: Scenario) -> float:
    """The coarsest faithful scale rounded down to a whole number of persons per agent (at least 1): what
    studies of many runs use when none is given (`sim evaluate`, the app's "Find a plan")."""
    return max(1.0, float(math.floor(coarsest_faithful_scale(scenario).scale)))


def scale_problem(scenario: Scenario) -> str | None:
    """One line if the scenario's scale is coarser than it allows, or so fine that one run would not fit in
    this machine's memory, else None."""
    limit = coarsest_faithful_scale(scenario)
    if scenario.scale > limit.scale + 1e-9:
        return (
            f"scale = {scenario.scale:g}: results would depend on the scale: use at most {limit.scale:.4g} "
            f"persons per agent ({limit.reason})"
        )
    needed, available = memory_needed(scenario), available_memory()
    if needed <= available:
        return None
    finest = scenario.scale * (needed - FIXED_BYTES) / max(available - FIXED_BYTES, 1)
    how = (
        f"use at least {np.ceil(finest * 10) / 10:g} persons per agent"
        if finest <= limit.scale
        else f"no faithful scale fits (at most {limit.scale:.4g} persons per agent is faithful): use a machine "
        "with more memory"
    )
    return (
        f"scale = {scenario.scale:g}: a run needs about {needed / 2**30:,.1f} GiB of memory "
        f"({peak_agents(scenario) / 1e6:,.1f} million agents by {scenario.horizon}) and this machine has "
        f"{available / 2**30:,.1f} GiB available: {how}"
    )


# Memory of a run: a fixed part (the interpreter, libraries, the region's tables) and a part per elder agent
# (its columns and the buffers they grow in). Measured on Tianjin's plan (issue 30): 344, 419 and 568 MB at
# scales 4, 2 and 1 (1.1, 2.2 and 4.5 million agents at the peak): about 70 bytes an agent; the figures below
# keep on the safe side.
FIXED_BYTES = 400 * 2**20
BYTES_PER_AGENT = 100


def peak_agents(scenario: Scenario) -> float:
    """An upper bound on the elder agents alive at once: the base year's and everyone who turns 60 later, as
    if nobody died."""
    from sim.data.regions import load_region

    region = load_region(scenario.region, scenario.region_file)
    persons = scenario.data.population_60plus or region.population_total()
    joining = sum(
        float(region.entrants(year, scenario.data.mortality_multiplier).sum()) * scenario.data.entrants_multiplier
        for year in range(scenario.base_year + 1, scenario.horizon + 1)
    )
    return (persons + joining) / scenario.scale


def memory_needed(scenario: Scenario) -> float:
    """Bytes one run of the scenario needs at most (one replicate: replicates run one after another, or one
    per worker process)."""
    return FIXED_BYTES + BYTES_PER_AGENT * peak_agents(scenario)


def available_memory() -> float:
    """Bytes of memory this machine can give a new process now (Linux: MemAvailable), or all of it."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
