"""Plan targets: which plan indicators a scenario can target (declared in the indicator catalogue), and
whether and when each target is met. A target on a quantity the scenario sets itself (beds built, trainees)
is a *commitment*: reported with what the scenario schedules and what the model delivers, not as an
achievement; an *outcome* (occupancy, certified workers per 10,000, waiting list...) is what the model
projects, and is met or not. A value meets its target when it is at most the target's tolerance (declared
in the indicator catalogue: half the last digit plans state it to) on the wrong side of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.catalogues.indicators import catalogue
from sim.results.query import value

# target name -> (indicator, group) in the results table; all are for sex 'all', ages 60+
TARGETS = {name: (t.indicator, t.group) for name, t in catalogue().targets.items()}
COLUMNS = [
    "target",
    "kind",
    "scheduled",
    "direction",
    "target_value",
    "target_year",
    "tolerance",
    "value_at_target_year",
    "met_at_target_year",
    "first_year_met",
    "gap_at_target_year",
    "value_at_horizon",
    "share_met",
]


def is_met(values, target) -> np.ndarray | bool:
    """Whether each of ``values`` meets ``target`` (a scenario's target: indicator, direction, value), within
    the tolerance the catalogue states for it."""
    margin = catalogue().target(target.indicator).margin(target.value)
    if target.direction == "at_least":
        return values >= target.value - margin
    return values <= target.value + margin


def check_targets(
    summary: pd.DataFrame, targets: list, scenario=None, results: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per target, from the replicate means in ``summary``. The gap is target minus value for
    'at_least' targets and value minus target for 'at_most' ones: positive means short of the target.
    ``scheduled``: for a commitment, what the scenario's lever gives by the target year (needs ``scenario``).
    ``share_met``: the share of the replicates in ``results`` that meet the target in its year, the chance
    of meeting it under the run's random draws (and parameter uncertainty, with an ensemble); NaN without
    ``results``."""
    rows = []
    for t in targets:
        indicator, group = TARGETS[t.indicator]
        info = catalogue().target(t.indicator)
        planned = np.nan
        if scenario is not None and info.kind == "commitment":
            from sim.scenario.levers import scheduled

            planned = scheduled(scenario, t.indicator, t.year)
        series = value(summary, indicator, group=group, column="mean")
        ok = is_met(series, t)
        at_year = series.get(t.year, np.nan)
        gap = (t.value - at_year) if t.direction == "at_least" else (at_year - t.value)
        rows.append(
            (
                t.indicator,
                info.kind,
                planned,
                t.direction,
                t.value,
                t.year,
                info.margin(t.value),
                at_year,
                bool(ok.get(t.year, False)),
                int(ok[ok].index.min()) if ok.any() else None,
                gap,
                series.iloc[-1] if len(series) else np.nan,
                _share_met(results, t, indicator, group) if results is not None else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _share_met(results: pd.DataFrame, t, indicator: str, group: str | None) -> float:
    met = []
    for _, replicate in results.groupby("replicate"):
        v = value(replicate, indicator, group=group, column="value").get(t.year, np.nan)
        met.append(is_met(v, t))
    return float(np.mean(met)) if met else np.nan
