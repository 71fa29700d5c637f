"""Charts of a sweep, one set per outcome, in the look of sim/charts.py (A4 text width, Okabe-Ito
colours, a source line): the factors ranked by their main index with confidence intervals (Sobol ST
beside S1, or Morris mu*); for Morris, the mu*-sigma plane (far right: influential; high: interacting or
non-linear); and the convergence of the main indices as the design grows, with their intervals as bands.
Labels are the experiment's factor and outcome names (English).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import __version__
from sim.analysis.experiment import Experiment
from sim.analysis.sensitivity import MAIN_INDEX, ranking, single_factors
from sim.outputs.charts import A4_WIDTH_IN, save, style

INDEX_COLOURS = {"ST": "#0072B2", "S1": "#E69F00", "mu_star": "#0072B2"}
LINE_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
INDEX_LABELS = {
    "ST": "total effect ST",
    "S1": "first-order S1",
    "mu_star": "mu* (mean |elementary effect|, outcome units per factor range)",
    "sigma": "sigma (spread of elementary effects)",
}
CONVERGENCE_LINES = len(LINE_COLOURS)  # the most influential factors drawn; more would not be legible
PLANE_LABELS = 6  # factors labelled in the mu*-sigma plane, most influential first; more overlap


def _compact(value: float, _=None) -> str:
    for size, suffix in ((1e9, " bn"), (1e6, " M")):
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.0f}"


def _plain_numbers(axis) -> None:
    """Large values as 25 M or 3.5 bn (five ticks at most, so they never run into each other), not as
    multiples of a power of ten."""
    low, high = axis.get_view_interval()
    if max(abs(low), abs(high)) >= 1000:
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_compact))


def source_line(exp: Experiment, runs: int) -> str:
    m = exp.spec.method
    base = f"{exp.base.name}, {exp.base.scale:g} persons per agent" if exp.base else f"model {exp.spec.model}"
    return (
        f"sim {__version__} · experiment {exp.name}: {m.name}, {runs:,} runs, {exp.spec.replicates} replicate(s) "
        f"per point, seed {exp.spec.seed} · {base} · intervals: {m.confidence:.0%} bootstrap"
    )


def _finish(fig: Figure, title: str, source: str, bottom: float = 0.06) -> Figure:
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.text(0.01, 0.005, source, fontsize=5.5, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, 0.95))
    return fig


def ranking_figure(exp: Experiment, indices: pd.DataFrame, outcome: str, runs: int) -> Figure:
    """Factors ranked by ST (S1 beside it) or mu*, most influential at the top, with intervals."""
    method = exp.spec.method.name
    table = ranking(indices, outcome, method)
    shown = ["ST", "S1"] if method == "sobol" else ["mu_star"]
    n = len(table)
    with plt.rc_context(style()):
        fig, ax = plt.subplots(figsize=(A4_WIDTH_IN, 1.2 + 0.22 * n))
        y = np.arange(n)[::-1]
        height = 0.8 / len(shown)
        for k, index in enumerate(shown):
            ax.barh(
                y + (len(shown) - 1 - 2 * k) * height / 2,
                table[index],
                height=height,
                xerr=table[f"{index}_conf"].fillna(0),
                color=INDEX_COLOURS[index],
                error_kw={"elinewidth": 0.8, "capsize": 1.5},
                label=INDEX_LABELS[index],
            )
        ax.set_yticks(y, table.index, fontsize=6.5)
        ax.axvline(0, color="#000000", linewidth=0.6)
        ax.set_xlabel("share of variance" if method == "sobol" else INDEX_LABELS["mu_star"])
        ax.legend(fontsize=7, frameon=False, loc="lower right")
        _plain_numbers(ax.xaxis)
        return _finish(fig, f"{outcome}: which factors matter", source_line(exp, runs))


def morris_plane_figure(exp: Experiment, indices: pd.DataFrame, outcome: str, runs: int) -> Figure:
    """mu* against sigma, the most influential factors labelled."""
    table = ranking(indices, outcome, "morris")
    with plt.rc_context(style()):
        fig, ax = plt.subplots(figsize=(A4_WIDTH_IN, A4_WIDTH_IN * 0.62))
        grouped = table["sigma"].isna()  # a group of several factors has no sigma: drawn hollow on the axis
        sigma = table["sigma"].fillna(0)
        ax.scatter(table["mu_star"][~grouped], sigma[~grouped], s=14, color=LINE_COLOURS[0], zorder=3)
        if grouped.any():
            ax.scatter(
                table["mu_star"][grouped],
                sigma[grouped],
                s=14,
                facecolors="none",
                edgecolors=LINE_COLOURS[0],
                zorder=3,
                label="group of factors (no sigma)",
            )
        ax.errorbar(
            table["mu_star"], sigma, xerr=table["mu_star_conf"].fillna(0), fmt="none", ecolor="#999999", linewidth=0.6
        )
        for k, (name, row) in enumerate(table.head(PLANE_LABELS).iterrows()):  # the rest crowd the origin
            lift = 2 if k % 2 == 0 else -8  # neighbours in the ranking often sit close: alternate above and below
            ax.annotate(name, (row["mu_star"], sigma[name]), fontsize=5.5, xytext=(3, lift), textcoords="offset points")
        top = max(float(table["mu_star"].max()), float(sigma.max()), 1e-12) * 1.05
        ax.plot([0, top], [0, top], ":", color="#999999", linewidth=0.8, label="sigma = mu*")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(INDEX_LABELS["mu_star"])
        ax.set_ylabel(INDEX_LABELS["sigma"])
        ax.legend(fontsize=7, frameon=False, loc="best")
        _plain_numbers(ax.xaxis)
        _plain_numbers(ax.yaxis)
        return _finish(fig, f"{outcome}: Morris mu* and sigma", source_line(exp, runs))


def convergence_figure(exp: Experiment, convergence: pd.DataFrame, outcome: str, runs: int) -> Figure:
    """The main indices of the most influential factors against the size of the design."""
    method = exp.spec.method.name
    shown = ["ST", "S1"] if method == "sobol" else ["mu_star"]
    mine = convergence[(convergence.outcome == outcome) & single_factors(convergence)]
    full = mine[mine.sample_size == mine.sample_size.max()]
    main = MAIN_INDEX[method]
    top = full[full["index"] == main].sort_values("value", ascending=False).factor.head(CONVERGENCE_LINES).tolist()
    with plt.rc_context(style()):
        fig, axes = plt.subplots(1, len(shown), figsize=(A4_WIDTH_IN, 3.3), squeeze=False, sharey=True)
        for ax, index in zip(axes[0], shown, strict=True):
            for colour, factor in zip(LINE_COLOURS, top, strict=False):
                s = mine[(mine["index"] == index) & (mine.factor == factor)].sort_values("sample_size")
                ax.plot(s.sample_size, s.value, "-o", color=colour, markersize=2.5, linewidth=1.2, label=factor)
                conf = s.conf.fillna(0)
                ax.fill_between(s.sample_size, s.value - conf, s.value + conf, color=colour, alpha=0.15, linewidth=0)
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted(mine.sample_size.unique()), [str(v) for v in sorted(mine.sample_size.unique())])
            ax.set_xlabel("base samples N" if method == "sobol" else "trajectories r")
            ax.set_title(INDEX_LABELS[index], fontsize=8, loc="left")
            _plain_numbers(ax.yaxis)
        handles, names = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=2, fontsize=6, frameon=False, bbox_to_anchor=(0.5, 0.03))
        rows = (len(names) + 1) // 2
        return _finish(fig, f"{outcome}: convergence of the indices", source_line(exp, runs), 0.06 + 0.045 * rows)


def sweep_figures(
    exp: Experiment, indices: pd.DataFrame, convergence: pd.DataFrame, runs: int
) -> Iterator[tuple[str, Figure]]:
    """(file stem, figure) for every outcome that was analysed, one at a time (a sweep has many)."""
    for outcome in dict.fromkeys(indices.outcome):
        yield f"ranking_{outcome}", ranking_figure(exp, indices, outcome, runs)
        if exp.spec.method.name == "morris":
            yield f"morris_plane_{outcome}", morris_plane_figure(exp, indices, outcome, runs)
        if convergence[convergence.outcome == outcome].sample_size.nunique() > 1:
            yield f"convergence_{outcome}", convergence_figure(exp, convergence, outcome, runs)


def save_sweep_charts(
    exp: Experiment, indices: pd.DataFrame, convergence: pd.DataFrame, runs: int, out: Path
) -> list[Path]:
    return [save(fig, Path(out) / f"{stem}.png") for stem, fig in sweep_figures(exp, indices, convergence, runs)]
