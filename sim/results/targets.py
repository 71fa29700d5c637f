"""Plan targets: which plan indicators a scenario can target, and whether and when each target is met."""

from __future__ import annotations

import numpy as np
import pandas as pd

# target name -> (indicator, group) in the results table; all are for sex 'all', ages 60+
TARGETS = {
    "beds_total": ("beds", "all/all"),
    "beds_per_1000": ("beds_per_1000", "all"),
    "nursing_share": ("nursing_share", "all"),
    "dementia_beds_per_10k": ("dementia_beds_per_10k", "all"),
    "family_beds": ("family_beds", "all"),
    "certified_workers_per_10k": ("certified_workers_per_10k", "all"),
    "workers_trained": ("workers_trained", "all"),
    "family_carers_trained": ("family_carers_trained", "all"),
    "occupancy": ("occupancy", "all"),
    "public_occupancy": ("occupancy", "public"),
    "institution_share": ("care_split", "institution"),
    "community_share": ("care_split", "community"),
    "home_share": ("care_split", "home"),
    "unmet_need_share": ("unmet_need_share", "all"),
    "ltci_beneficiaries": ("ltci_beneficiaries", "all"),
    "waiting_list": ("waiting_list", "all"),
}
COLUMNS = [
    "target",
    "direction",
    "target_value",
    "target_year",
    "value_at_target_year",
    "met_at_target_year",
    "first_year_met",
    "gap_at_target_year",
    "value_at_horizon",
]


def check_targets(summary: pd.DataFrame, targets: list) -> pd.DataFrame:
    """One row per target, from the replicate means in ``summary``. The gap is target minus value for
    'at_least' targets and value minus target for 'at_most' ones: positive means short of the target."""
    rows = []
    for t in targets:
        indicator, group = TARGETS[t.indicator]
        series = summary[(summary.indicator == indicator) & (summary.group == group) & (summary.sex == "all")]
        series = series.groupby("year")["mean"].first().sort_index()
        ok = series >= t.value if t.direction == "at_least" else series <= t.value
        value = series.get(t.year, np.nan)
        gap = (t.value - value) if t.direction == "at_least" else (value - t.value)
        rows.append(
            (
                t.indicator,
                t.direction,
                t.value,
                t.year,
                value,
                bool(ok.get(t.year, False)),
                int(ok[ok].index.min()) if ok.any() else None,
                gap,
                series.iloc[-1] if len(series) else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
