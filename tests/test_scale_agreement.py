"""Results do not depend on the scale: every indicator of the catalogue, run at one agent per person and at the
coarsest scale the region allows, agrees within its tolerance: the means of the two sets of replicates
within four standard errors of their difference, or within 3% (where the replicates barely vary), every
year. Xuchang (860,000 people aged 60+; coarsest faithful scale 12), the point estimate of its calibration
(parameter uncertainty is not what is compared), seeds fixed."""

import numpy as np
import pandas as pd
from conftest import make_scenario

from sim.catalogues.indicators import BREAKDOWN, catalogue
from sim.results.runs import run_replicate
from sim.scenario.scale import coarsest_faithful_scale

FINE_REPLICATES, COARSE_REPLICATES = 6, 24  # coarse runs are cheap, and noisier: more of them
STANDARD_ERRORS, RELATIVE = 4.0, 0.03


def summary(scenario, replicates: int) -> pd.DataFrame:
    runs = pd.concat([run_replicate(scenario, r) for r in range(replicates)])
    grouped = runs.groupby(["indicator", "year", *BREAKDOWN], dropna=False)["value"]
    return pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(), "n": grouped.count()})


def compared_rows(indicator) -> list[dict[str, str]]:
    """The indicator's total, with every value of a breakdown that has no total (levels, care settings,
    kinds of public spending)."""
    rows = [{}]
    for b in BREAKDOWN:
        values = [indicator.default(b)] if indicator.default(b) is not None else indicator.values[b]
        rows = [{**row, b: v} for row in rows for v in values]
    return rows


def test_every_indicator_agrees_at_the_coarsest_faithful_scale():
    scenario = make_scenario(region="xuchang", seed=11, horizon=2030, parameter_sets="point")
    coarsest = coarsest_faithful_scale(scenario).scale
    assert coarsest >= 10
    fine = summary(scenario, FINE_REPLICATES)
    coarse = summary(scenario.model_copy(update={"scale": coarsest}), COARSE_REPLICATES)
    both = fine.join(coarse.add_suffix("_coarse"), how="outer")
    assert len(both) == len(fine) == len(coarse)  # the same rows at both scales
    differing, compared = [], 0
    for name, indicator in catalogue().indicators.items():
        for key in compared_rows(indicator):
            rows = both.xs((name, *(key[b] for b in BREAKDOWN)), level=["indicator", *BREAKDOWN])
            for year, r in rows.iterrows():
                compared += 1
                if np.isnan(r["mean"]) and np.isnan(r["mean_coarse"]):
                    continue  # e.g. the occupancy of a bed type there are none of, at both scales
                se = np.sqrt(r["sd"] ** 2 / r["n"] + r["sd_coarse"] ** 2 / r["n_coarse"])
                gap = abs(r["mean_coarse"] - r["mean"])
                if not gap <= max(STANDARD_ERRORS * se, RELATIVE * abs(r["mean"]), 1e-9):
                    differing.append((name, key["group"], year, r["mean"], r["mean_coarse"], se))
    assert compared > 500
    assert not differing, differing
