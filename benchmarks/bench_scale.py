"""Benchmark: is a coarse scale faithful? The same scenarios at one agent per person and at coarser
scales, compared on every headline indicator and on the effect of every lever.

    python benchmarks/bench_scale.py [--workers 2] [--out runs/bench-scale] [--part levels|levers|both]

1. Levels: the Tianjin plan and baseline at scales 1, 10, 16, 20, 50 and 100, Shengzhou's plan and baseline
   at 1, 2, 5 and 10; occupancy (all, public, private), waiting list, persons with unmet need, unmet hours, residents,
   staffed beds, workers, insurance balance and beneficiaries in 2020, 2025, 2030 and 2035. A scale
   passes an indicator when its mean over replicates is within 3% of the 1:1 mean or within the 1:1
   runs' 90% interval (5th to 95th percentile), whichever is wider.
2. Levers, at scales 1, 10, 16 and 100: every lever of experiments/tianjin-levers-morris.yaml (its
   uncertain parameters excepted), each at the low and the high end of its range with the others at the
   plan's values, on the experiment's outcomes; the effect is high minus low with common random numbers
   (replicate r draws the same population at both ends). An effect is within 25% when it has the 1:1
   effect's sign and is within 25% of its size; otherwise within sampling error when the two differ by
   less than two standard errors of both estimates together (the replicates cannot tell the scales
   apart); else it differs.

Prints the tables and the verdicts, and writes every run's values and the comparisons as CSV into --out.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
YEARS = (2020, 2025, 2030, 2035)
HEADLINE = [  # (label, indicator, group)
    ("occupancy, all", "occupancy", "all"),
    ("occupancy, public", "occupancy", "public"),
    ("occupancy, private", "occupancy", "private"),
    ("waiting list", "waiting_list", "all"),
    ("persons with unmet need", "persons_with_unmet_need", "all"),
    ("unmet hours", "care_hours", "unmet"),
    ("residents", "elders_by_setting", "institution"),
    ("staffed beds", "staffed_beds", "all/all"),
    ("workers", "workers", "all"),
    ("insurance balance", "ltci_balance", "all"),
    ("insurance beneficiaries", "ltci_beneficiaries", "all"),
]
LEVEL_RUNS = {  # scenario -> scales (16: Tianjin's coarsest faithful scale by sim.model.scale's rule)
    "tianjin-14th-fyp": (1, 10, 16, 20, 50, 100),
    "tianjin-baseline": (1, 10, 16, 20, 50, 100),
    "shengzhou-2026": (1, 2, 5, 10),
    "shengzhou-baseline": (1, 2, 5, 10),
}
EXPERIMENT = ROOT / "experiments" / "tianjin-levers-morris.yaml"
LEVER_SCALES = (1, 10, 16, 100)
LEVEL_TOLERANCE = 0.03
EFFECT_TOLERANCE = 0.25


def _start_worker() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def level_run(scenario: str, scale: float, replicate: int) -> list[tuple]:
    """One run's headline indicators: (scenario, scale, replicate, label, year, value)."""
    from sim.model.model import AgeingModel
    from sim.results.record import table as record_table
    from sim.scenario import load_scenario

    s = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml", [f"scale={scale}"])
    table = record_table(AgeingModel(s, replicate).run())
    table = table[(table.sex == "all") & (table.capacity == "all") & (table.age_group == "60+")]
    rows = []
    for label, indicator, group in HEADLINE:
        series = table[(table.indicator == indicator) & (table.group == group)].set_index("year").value
        rows += [(scenario, scale, replicate, label, y, float(series[y])) for y in YEARS]
    return rows


def lever_run(key: str, end: str, value, scale: float, replicate: int) -> list[tuple]:
    """One run of the experiment's base with one lever at one end: (key, end, scale, replicate, outcome, value)."""
    from sim.analysis.experiment import load_experiment
    from sim.analysis.outcomes import read_outcomes
    from sim.model.model import AgeingModel
    from sim.scenario import parse_scenario, set_value

    exp = load_experiment(EXPERIMENT)
    raw = exp.base.model_dump()
    raw["scale"] = float(scale)
    if key:
        set_value(raw, key, value, key)
    model = AgeingModel(parse_scenario(raw, key or "base"), replicate)
    model.run()
    values = read_outcomes(model.record, exp.readers)
    return [(key, end, scale, replicate, r.name, v) for r, v in zip(exp.readers, values, strict=True)]


def levers() -> list[tuple[str, object, object]]:
    """(key, low, high) of every lever of the Morris experiment (grouped uncertain parameters left out)."""
    from sim.analysis.design import value
    from sim.analysis.experiment import load_experiment

    exp = load_experiment(EXPERIMENT)
    ends = []
    for f in exp.factors:
        if f.group is not None:
            continue
        if f.levels is None and f.type != "int":  # SALib samples a range factor in its own units
            ends.append((f.key, float(f.range[0]), float(f.range[1])))
        else:  # and the others as u in [0, 1]
            ends.append((f.key, value(f, 0.0), value(f, 1.0)))
    return ends


def run_all(tasks: list[tuple], workers: int, label: str) -> list[tuple]:
    rows, start = [], time.perf_counter()
    pool = ProcessPoolExecutor(workers, multiprocessing.get_context("spawn"), initializer=_start_worker)
    with pool:
        futures = [pool.submit(*t) for t in tasks]
        for i, f in enumerate(as_completed(futures), 1):
            rows += f.result()
            if i % max(1, len(tasks) // 20) == 0 or i == len(tasks):
                print(f"  {label}: {i}/{len(tasks)} runs, {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def compare_levels(runs: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (scenario, label, year), g in runs.groupby(["scenario", "indicator", "year"], sort=False):
        one = g[g.scale == 1].value
        lo, hi, m1 = np.percentile(one, 5), np.percentile(one, 95), one.mean()
        for scale, gs in g[g.scale != 1].groupby("scale"):
            m = gs.value.mean()
            within_pct = abs(m - m1) <= LEVEL_TOLERANCE * abs(m1) + 1e-12
            within_band = lo - 1e-12 <= m <= hi + 1e-12
            out.append(
                dict(
                    scenario=scenario,
                    indicator=label,
                    year=year,
                    scale=scale,
                    mean_1=m1,
                    p05_1=lo,
                    p95_1=hi,
                    mean=m,
                    relative=(m - m1) / abs(m1) if m1 else (0.0 if m == m1 else math.inf),
                    replicates_1=len(one),
                    replicates=len(gs),
                    faithful=bool(within_pct or within_band),
                )
            )
    return pd.DataFrame(out)


def compare_effects(runs: pd.DataFrame) -> pd.DataFrame:
    """Each lever's effect at each scale against one agent per person. Verdicts: ``within 25%`` (same
    sign, within 25% of the 1:1 size); ``within sampling error`` (the difference is under two standard
    errors of the two estimates together, so the replicates cannot tell the scales apart); ``differs``."""
    wide = runs.pivot_table(index=["key", "scale", "replicate", "outcome"], columns="end", values="value")
    diff = (wide["high"] - wide["low"]).rename("effect").reset_index()
    stats = diff.groupby(["key", "outcome", "scale"]).effect.agg(["mean", "std", "count"]).reset_index()
    stats["se"] = stats["std"].fillna(0.0) / np.sqrt(stats["count"])
    out = []
    for (key, outcome), g in stats.groupby(["key", "outcome"], sort=False):
        one = g[g.scale == 1].iloc[0]
        for row in g[g.scale != 1].itertuples():
            same_sign = np.sign(row.mean) == np.sign(one["mean"])
            if same_sign and abs(row.mean - one["mean"]) <= EFFECT_TOLERANCE * abs(one["mean"]):
                verdict = "within 25%"
            elif abs(row.mean - one["mean"]) <= 2 * math.hypot(one.se, row.se):
                verdict = "within sampling error"
            else:
                verdict = "differs"
            out.append(
                dict(
                    key=key,
                    outcome=outcome,
                    scale=row.scale,
                    effect_1=one["mean"],
                    se_1=one.se,
                    effect=row.mean,
                    se=row.se,
                    ratio=row.mean / one["mean"] if one["mean"] else math.nan,
                    distinguishable_at_1=bool(abs(one["mean"]) > 2 * one.se),
                    replicates_1=int(one["count"]),
                    replicates=int(row.count),
                    faithful=verdict != "differs",
                    verdict=verdict,
                )
            )
    return pd.DataFrame(out)


def _fmt(v: float) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.4g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-scale")
    ap.add_argument("--part", choices=("levels", "levers", "both"), default="both")
    ap.add_argument("--scenarios", nargs="*", default=list(LEVEL_RUNS), help="level runs: which scenarios")
    level_reps = "1:10,2:20,5:20,10:20,16:24,20:24,50:32,100:40"
    ap.add_argument("--level-replicates", default=level_reps, help="scale:reps,...")
    ap.add_argument("--lever-replicates", default="1:4,10:12,16:16,100:24", help="scale:replicates,...")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    level_reps = {float(a): int(b) for a, b in (x.split(":") for x in args.level_replicates.split(","))}
    lever_reps = {float(a): int(b) for a, b in (x.split(":") for x in args.lever_replicates.split(","))}
    summary = {}

    if args.part in ("levels", "both"):
        tasks = [
            (level_run, scenario, float(scale), r)
            for scenario, scales in LEVEL_RUNS.items()
            if scenario in args.scenarios
            for scale in scales
            for r in range(level_reps[float(scale)])
        ]
        rows = run_all(sorted(tasks, key=lambda t: t[2]), args.workers, "levels")
        runs = pd.DataFrame(rows, columns=["scenario", "scale", "replicate", "indicator", "year", "value"])
        runs.to_csv(args.out / "levels_runs.csv", index=False)
        table = compare_levels(runs)
        table.to_csv(args.out / "levels.csv", index=False)
        for (scenario, scale), g in table.groupby(["scenario", "scale"], sort=False):
            print(
                f"\n{scenario}, scale {scale:g} against 1 (mean of {g.replicates.iloc[0]} vs {g.replicates_1.iloc[0]})"
            )
            for r in g.itertuples():
                flag = "" if r.faithful else "  <-- NOT FAITHFUL"
                print(
                    f"  {r.indicator:24s} {r.year}  1:1 {_fmt(r.mean_1):>14s} [{_fmt(r.p05_1)}, {_fmt(r.p95_1)}]"
                    f"  scale {_fmt(r.mean):>14s} ({r.relative:+.1%}){flag}"
                )
        summary["levels"] = {
            f"{sc} x{s:g}": f"{int(g.faithful.sum())}/{len(g)} faithful"
            for (sc, s), g in table.groupby(["scenario", "scale"], sort=False)
        }

    if args.part in ("levers", "both"):
        tasks = [(lever_run, "", "base", None, float(s), r) for s in LEVER_SCALES for r in range(lever_reps[float(s)])]
        for key, low, high in levers():
            for s in LEVER_SCALES:
                for r in range(lever_reps[float(s)]):
                    tasks += [(lever_run, key, "low", low, float(s), r), (lever_run, key, "high", high, float(s), r)]
        rows = run_all(sorted(tasks, key=lambda t: t[4]), args.workers, "levers")
        runs = pd.DataFrame(rows, columns=["key", "end", "scale", "replicate", "outcome", "value"])
        runs.to_csv(args.out / "levers_runs.csv", index=False)
        table = compare_effects(runs[runs.key != ""])
        table.to_csv(args.out / "levers.csv", index=False)
        for scale, g in table.groupby("scale"):
            print(
                f"\nLever effects (high - low) at scale {scale:g} against 1: {int(g.faithful.sum())}/{len(g)} faithful"
            )
            for r in g[~g.faithful].itertuples():
                print(
                    f"  {r.key} on {r.outcome}: 1:1 {_fmt(r.effect_1)} (se {_fmt(r.se_1)}), "
                    f"scale {_fmt(r.effect)} (se {_fmt(r.se)}): {r.verdict}"
                )
        summary["levers"] = {f"x{s:g}": f"{int(g.faithful.sum())}/{len(g)} faithful" for s, g in table.groupby("scale")}
    print("\n" + json.dumps(summary, indent=1))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
