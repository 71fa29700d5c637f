"""Fit the disability trend variants: sim/data/disability_trends.json.

Run from the repository root after data-raw/build_data.py:  python data-raw/fit_disability_trends.py

Each variant changes onset and worsening (and the death hazard with a loss of capacity) over calendar time.
'none' keeps 2020's rates; 'low' is Hanewald, Li & Shao 2019's CLHLS time trends as estimated; 'central'
and 'high' add to those a uniform yearly change of onset and worsening, fitted here so that China's
age-standardised share at severe or total loss (2020 ages and sexes) changes from 2020 to 2035 at half
and at all of the pace the 2010 and 2020 censuses show for 'unable to care for oneself' (capacity_fit.json).
Why a pace and not a rate: with 2020's rates the share at each age *rises* (about 2% a year) because death
rates keep falling, so what a planner needs from a variant is the pace of disability at each age.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import brentq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.data import regions  # noqa: E402
from sim.model import health  # noqa: E402
from sim.model.model import AgeingModel  # noqa: E402
from sim.scenario.files import parse_scenario  # noqa: E402

OUT = ROOT / "sim" / "data" / "disability_trends.json"
FIT = {"region": "china", "seed": 20201101, "scale": 100, "horizon": 2035}
PROBE = "_probe"


def standardised_severe_share(counts: np.ndarray, weights: np.ndarray) -> float:
    """Share at severe or total loss, standardised to ``weights`` [sex, age]; counts [residence, sex, age, level]."""
    by_age = counts.sum(axis=0)
    n = by_age.sum(-1)
    share = np.divide(by_age[..., 3:].sum(-1), n, out=np.zeros(n.shape), where=n > 0)
    return float((share * weights).sum() / weights.sum())


def pace(variant: dict) -> float:
    """Yearly change 2020-2035 of the standardised severe-or-total share in China under ``variant``."""
    regions.disability_trends()[PROBE] = variant
    health.transition_matrices.cache_clear()
    scenario = parse_scenario(dict(FIT), "fit")
    object.__setattr__(scenario.data, "disability_trend", PROBE)  # the probe is not a scenario's choice
    model = AgeingModel(scenario, care=False)
    model.run()
    first, last = model.record[0].population.persons, model.record[-1].population.persons
    weights = first.sum(axis=(0, -1))
    years = model.record[-1].year - model.record[0].year
    return (standardised_severe_share(last, weights) / standardised_severe_share(first, weights)) ** (1 / years) - 1


def main() -> None:
    census = json.loads((ROOT / "sim" / "data" / "capacity_fit.json").read_text(encoding="utf-8"))[
        "census_unable_to_self_care_2010_2020"
    ]
    census_pace = census["age_specific_change_per_year"]
    variants = {
        "none": {"hanewald": 0.0, "uniform_onset_change": 0.0, "basis": "2020's rates throughout (no trend)"},
        "low": {
            "hanewald": 1.0,
            "uniform_onset_change": 0.0,
            "basis": "Hanewald, Li & Shao 2019 (CLHLS 1998-2012) time trends as estimated",
        },
    }
    targets = {
        "central": (
            census_pace / 2,
            "half the pace of decline of 'unable to care for oneself' between the 2010 and 2020 censuses",
        ),
        "high": (census_pace, "the whole pace of that decline between the 2010 and 2020 censuses"),
    }
    for name, (target, basis) in targets.items():
        gamma = brentq(lambda g, t=target: pace({"hanewald": 1.0, "uniform_onset_change": g}) - t, -0.3, 0.0, xtol=1e-5)
        variants[name] = {
            "hanewald": 1.0,
            "uniform_onset_change": round(gamma, 5),
            "basis": f"Hanewald et al.'s trends plus a uniform yearly change of onset and worsening fitted to {basis}",
            "target_pace": round(target, 5),
        }
    for v in variants.values():
        v["achieved_pace"] = round(pace({k: v[k] for k in ("hanewald", "uniform_onset_change")}), 5)
    regions.disability_trends().pop(PROBE, None)
    out = {
        "what": "disability trend variants: onset and worsening change by exp((hanewald x Hanewald's trend + "
        "uniform_onset_change) x years since the base year); the death hazard with a loss of capacity by "
        "exp(hanewald x Hanewald's trend x years)",
        "pace": "yearly change 2020-2035 of China's share at severe or total loss, standardised to the 2020 "
        f"ages and sexes (model run: {FIT})",
        "census_pace": census,
        "variants": variants,
    }
    OUT.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["variants"], indent=2))


if __name__ == "__main__":
    main()
