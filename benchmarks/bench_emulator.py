"""How many training runs an emulator needs, how fast it predicts, and how it compares with gradient boosting.

    python benchmarks/bench_emulator.py [DIR] [--sizes 32 64 128 256 512] [--chart PATH]

DIR is a trained emulator folder (`sim emulate`, default runs/emulators/tianjin-levers-sobol). Its training points
are a scrambled Sobol' sequence, so its first n points are a balanced design of their own: the learning curve refits
the emulator on the first n training runs (no new model runs) and judges each on the same held-out runs, printing per
size the median and worst held-out R², the median error as a share of the held-out spread and the 90% intervals'
coverage, and drawing them (the chart). Then:

- predictions a second on one core (BLAS limited to one thread): batches of 10,000 points inside the training
  ranges, every usable outcome's mean and sd;
- scikit-learn's gradient boosting on the same training runs (mean: HistGradientBoostingRegressor; 90% interval:
  the 5% and 95% quantile losses), its held-out R² and coverage beside the Gaussian process's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", default=Path("runs/emulators/tianjin-levers-sobol"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--chart", type=Path, default=Path("docs/benchmarks/emulator-learning-curve.png"))
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from sim.analysis.design import stream_int
    from sim.analysis.emulator import encode, fit_outcome, predict_fit
    from sim.analysis.emulator_training import FIT_STREAM, load_emulator, validate
    from sim.analysis.sweep import RUNS, RunStore

    emulator = load_emulator(args.folder)
    manifest = json.loads((args.folder / "manifest.json").read_text(encoding="utf-8"))
    design = pd.read_parquet(args.folder / "design.parquet")
    runs = RunStore(args.folder / RUNS, emulator.outcomes).read().merge(design, on="point")
    names = [f.name for f in emulator.factors]
    x_all = encode(emulator.factors, list(runs[names].itertuples(index=False, name=None)))
    train_mask = (runs.role == "train").to_numpy()
    trained = int(train_mask.sum())
    held = runs[~train_mask]
    x_held = x_all[~train_mask]
    seed = stream_int(manifest["seed"], FIT_STREAM)
    print(
        f"{args.folder}: {len(emulator.factors)} factors, {len(emulator.outcomes)} outcomes, {trained} training runs, "
        f"{len(held)} held-out runs at {held.point.nunique()} points"
    )

    rows = []
    for n in [s for s in args.sizes if s <= trained]:
        start = time.perf_counter()
        for o in emulator.outcomes:
            fit = fit_outcome(x_all[train_mask][:n], runs[train_mask][o].to_numpy(float)[:n], seed)
            pred = predict_fit(fit, x_all[train_mask][:n], x_held)
            low, high = pred.interval()
            rows.append(
                {"runs": n, **validate(o, held.point.to_numpy(), held[o].to_numpy(float), pred.mean, low, high)}
            )
        print(f"  {n:4d} training runs: fitted in {time.perf_counter() - start:.1f} s")
    curve = pd.DataFrame(rows)
    summary = curve.groupby("runs").agg(
        median_r2=("r2", "median"),
        worst_r2=("r2", "min"),
        median_error=("relative_error", "median"),
        median_coverage=("coverage_90", "median"),
        usable=("usable", "sum"),
    )
    print("\nLearning curve (held-out):")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nPer outcome at the largest size:")
    last = curve[curve.runs == curve.runs.max()].set_index("outcome")
    print(last[["r2", "relative_error", "coverage_90", "usable"]].to_string(float_format=lambda v: f"{v:.3f}"))
    draw(curve, args.chart, args.folder)

    points = 10_000
    rng = np.random.default_rng(1)
    lows = [f.range[0] if f.levels is None and f.type != "int" else None for f in emulator.factors]
    values = []
    for _ in range(points):
        row = []
        for f, low in zip(emulator.factors, lows, strict=True):
            if low is not None:
                row.append(float(rng.uniform(f.range[0], f.range[1])))
            else:
                levels = f.levels if f.levels is not None else list(range(int(f.range[0]), int(f.range[1]) + 1))
                row.append(levels[int(rng.integers(len(levels)))])
        values.append(tuple(row))
    usable = emulator.usable()
    with threadpool_limits(1):
        emulator.predict(values[:100], usable)  # warm up
        start = time.perf_counter()
        emulator.predict(values, usable)
        seconds = time.perf_counter() - start
        one = time.perf_counter()
        for v in values[:200]:
            emulator.predict([v], usable)
        single = (time.perf_counter() - one) / 200
    print(
        f"\nPredictions on one core: {points / seconds:,.0f} points a second in batches of {points:,} "
        f"({len(usable)} usable outcomes each, mean and sd); one point alone {single * 1000:.2f} ms"
    )

    compare_gradient_boosting(emulator, runs, train_mask, x_all, held, last)


def compare_gradient_boosting(emulator, runs, train_mask, x_all, held, gp: pd.DataFrame) -> None:
    from sklearn.ensemble import HistGradientBoostingRegressor

    from sim.analysis.emulator_training import validate

    print("\nGradient boosting on the same training runs (held-out):")
    rows = []
    x_train, x_held = x_all[train_mask], x_all[~train_mask]
    for o in emulator.outcomes:
        y = runs[train_mask][o].to_numpy(float)
        mean = HistGradientBoostingRegressor(random_state=0).fit(x_train, y).predict(x_held)
        low = (
            HistGradientBoostingRegressor(loss="quantile", quantile=0.05, random_state=0)
            .fit(x_train, y)
            .predict(x_held)
        )
        high = (
            HistGradientBoostingRegressor(loss="quantile", quantile=0.95, random_state=0)
            .fit(x_train, y)
            .predict(x_held)
        )
        v = validate(o, held.point.to_numpy(), held[o].to_numpy(float), mean, low, high)
        rows.append(
            {
                "outcome": o,
                "gbm_r2": v["r2"],
                "gbm_coverage_90": v["coverage_90"],
                "gp_r2": gp.loc[o, "r2"],
                "gp_coverage_90": gp.loc[o, "coverage_90"],
            }
        )
    table = pd.DataFrame(rows).set_index("outcome")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"median R²: gradient boosting {table.gbm_r2.median():.3f}, Gaussian process {table.gp_r2.median():.3f}")


def draw(curve: pd.DataFrame, path: Path, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for outcome, rows in curve.groupby("outcome", sort=False):
        left.plot(rows.runs, rows.r2.clip(lower=0), marker="o", lw=1, alpha=0.7, label=outcome)
        right.plot(rows.runs, rows.relative_error, marker="o", lw=1, alpha=0.7)
    median = curve.groupby("runs").r2.median()
    left.plot(median.index, median.values, color="black", lw=2.5, label="median")
    left.axhline(0.95, color="grey", ls="--", lw=1)
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("training runs")
    left.set_ylabel("held-out R²")
    right.set_ylabel("held-out RMSE / spread of the held-out outcomes")
    left.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Emulator learning curve: {folder.name}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"\nchart: {path}")


if __name__ == "__main__":
    main()
