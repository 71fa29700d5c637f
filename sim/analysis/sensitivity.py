"""Sensitivity indices of a sweep's outcomes, with SALib, as tidy tables.

Morris (Morris 1991; Campolongo et al. 2007), for each factor or group: ``mu``, the mean elementary
effect; ``mu_star``, the mean absolute effect, with its bootstrap confidence interval; ``sigma``, their
spread (interactions or non-linearity; SALib leaves it undefined for a group of several factors).
Effects are changes of the outcome, in its unit, per whole range of the factor (the design works on
[0, 1]), so factors of different units compare directly. Sobol (Saltelli et al. 2010): ``S1``, the share
of the outcome's variance due to the factor alone, and ``ST``, its total share with interactions, with
bootstrap intervals; ``S2`` for pairs when asked.

The indices are computed on the mean of the replicates at each point, on the whole design and, for
their convergence, on its first 1/8, 1/4 and 1/2 (see sim/design.py). Tidy columns: outcome, factor,
factor2 (the pair's second factor, S2 only), index, value, conf (half-width of the interval at the
experiment's confidence level; missing where SALib gives none), sample_size (trajectories or base
samples), runs (model runs behind the value, replicates included).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.analysis.design import ANALYSIS_STREAM, Design, groups, problem, stream_int
from sim.analysis.experiment import Experiment

COLUMNS = ["outcome", "factor", "factor2", "index", "value", "conf", "sample_size", "runs"]
CONVERGENCE_FRACTIONS = (1 / 8, 1 / 4, 1 / 2, 1)
MIN_BLOCKS = {"morris": 2, "sobol": 4}  # fewer trajectories or base samples give no spread to bootstrap
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST"}  # what factors are ranked by


def sample_sizes(exp: Experiment, design: Design) -> list[int]:
    """Trajectories or base samples of the nested designs the indices are computed on, the whole last."""
    least = MIN_BLOCKS[exp.spec.method.name]
    sizes = {int(design.blocks * f) for f in CONVERGENCE_FRACTIONS}
    return sorted(n for n in sizes if n >= least) or [design.blocks]


def analyse(exp: Experiment, design: Design, means: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Indices (whole design), their convergence (every nested design) and notes on outcomes that
    could not be analysed. ``means``: one row per point in order, one column per outcome."""
    rows: list[tuple] = []
    notes: list[str] = []
    sizes = sample_sizes(exp, design)
    for reader in exp.readers:
        y = means[reader.name].to_numpy(dtype=float)
        if np.isnan(y).any():
            notes.append(f"{reader.name}: missing at {int(np.isnan(y).sum())} of {y.size} points; not analysed")
            continue
        if np.ptp(y) == 0:
            notes.append(f"{reader.name}: the same at every point ({y[0]:g}); no factor moves it")
            continue
        for n in sizes:
            rows += _indices(exp, design, reader.name, y, n)
    convergence = pd.DataFrame(rows, columns=COLUMNS)
    indices = convergence[convergence.sample_size == design.blocks].reset_index(drop=True)
    return indices, convergence, notes


def _indices(exp: Experiment, design: Design, outcome: str, y: np.ndarray, blocks: int) -> list[tuple]:
    m = exp.spec.method
    points = blocks * design.block
    runs = points * exp.spec.replicates
    seed = stream_int(exp.spec.seed, ANALYSIS_STREAM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about what the notes and the intervals already say
        if m.name == "morris":
            from SALib.analyze import morris

            si = morris.analyze(
                problem(exp),
                design.sample[:points],
                y[:points],
                num_resamples=m.resamples,
                conf_level=m.confidence,
                num_levels=m.num_levels,
                seed=seed,
            )
            names = list(si["names"])
            table = {k: np.ma.filled(np.ma.asarray(si[k], dtype=float), np.nan) for k in ("mu", "mu_star", "sigma")}
            conf = {"mu_star": np.ma.filled(np.ma.asarray(si["mu_star_conf"], dtype=float), np.nan)}
        else:
            from SALib.analyze import sobol

            si = sobol.analyze(
                problem(exp),
                y[:points],
                calc_second_order=m.second_order,
                num_resamples=m.resamples,
                conf_level=m.confidence,
                seed=seed,
            )
            names = groups(exp)  # SALib's order: groups as they first appear, or the factors
            table = {"S1": si["S1"], "ST": si["ST"]}
            conf = {"S1": si["S1_conf"], "ST": si["ST_conf"]}
    out = []
    for index, values in table.items():
        for j, name in enumerate(names):
            c = conf[index][j] if index in conf else np.nan
            out.append((outcome, name, "", index, float(values[j]), float(c), blocks, runs))
    if m.name == "sobol" and m.second_order:
        for j, a in enumerate(names):
            for k in range(j + 1, len(names)):
                out.append(
                    (outcome, a, names[k], "S2", float(si["S2"][j, k]), float(si["S2_conf"][j, k]), blocks, runs)
                )
    return out


def single_factors(table: pd.DataFrame) -> pd.Series:
    """Rows of one factor or group, not of a pair (S2); ``factor2`` is empty, or missing as read from CSV."""
    return table.factor2.isna() | table.factor2.eq("")


def ranking(indices: pd.DataFrame, outcome: str, method: str) -> pd.DataFrame:
    """Factors (or groups) of one outcome, most influential first, one column per index."""
    mine = indices[(indices.outcome == outcome) & single_factors(indices)]
    wide = mine.pivot(index="factor", columns="index", values="value")
    confs = mine.pivot(index="factor", columns="index", values="conf").add_suffix("_conf")
    return wide.join(confs).sort_values(MAIN_INDEX[method], ascending=False)
