"""Sobol indices of an experiment's outcomes computed from a trained emulator instead of model runs, with
intervals that hold the emulator's own uncertainty as well as the Monte Carlo error.

- **Point estimates and their bootstrap**: the emulator's mean prediction at every point of the
  experiment's own design (``make_design``: SALib's Saltelli sample with the factors' distributions and
  groups), analysed by ``sensitivity.analyse`` exactly as a model sweep's point means are: the same
  indices, the same nested designs for the convergence, the same bootstrap (stream (2**32, 1)).
- **The emulator's uncertainty**: ``DRAWS`` joint draws of the latent mean function (``latent_draws``)
  at the first ``DRAW_BASE_SAMPLES`` base samples of that design (a Saltelli design of its own, the
  prefix the convergence uses too), from stream (2**32, 6, i) for the experiment's i-th outcome. Each
  draw's S1, ST (and S2) are computed on those same points with SALib's estimators (on the draw scaled
  to mean 0 and sd 1, as SALib scales an output), so their spread across draws is what the emulator does
  not know about the indices, not sampling error.
- **The interval**: ``conf = sqrt(bootstrap_conf**2 + (z * sd_draws)**2)``, z the normal quantile of the
  experiment's confidence level: the half-width of the interval at that level if the Monte Carlo error
  and the emulator's error are independent and roughly normal. The emulator's part does not shrink with
  N, so every row of the convergence gets it too. ``uncertainty`` keeps the parts apart.

The tidy table has a model sweep's columns; ``runs`` is the emulator's training runs (the model runs
behind the numbers), ``sample_size`` the base samples of the design the value is computed on.

An outcome the emulator does not predict to the standard gets no indices: a note names it with its
held-out R². Outcomes that are the same at every point are noted as a model sweep notes them.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.design import Design, make_design, stream
from sim.analysis.emulator import Emulator, EmulatorError, encode, latent_draws, levels_of, predict_fit
from sim.analysis.experiment import Experiment, Factor
from sim.analysis.sensitivity import analyse
from sim.common.errors import show

DRAW_STREAM = (2**32, 6)  # the emulator's draws; spawn key (2**32, 6, i) for the experiment's i-th outcome
DRAW_BASE_SAMPLES = 256  # base samples the draws are taken at: (G + 2) x 256 points, jointly
DRAWS = 100  # joint draws of the mean function per outcome; their sd is good to about 7%
SET_BY_EXPERIMENT = ("seed", "replicates")  # in the base scenario, but not what the model's mean depends on
PREDICT_BLOCK = 4096  # points predicted at once
KEYS = ["outcome", "factor", "factor2", "index"]


@dataclass
class EmulatedIndices:
    indices: pd.DataFrame  # sensitivity.COLUMNS; conf holds both parts
    convergence: pd.DataFrame
    uncertainty: pd.DataFrame  # KEYS, value, bootstrap_conf, emulator_sd, emulator_conf, conf (whole design)
    notes: list[str]
    design: Design
    draw_points: int  # points the draws were taken at, jointly


# --- does the emulator predict this experiment? ----------------------------------------------------------
def check_emulator(exp: Experiment, emulator: Emulator, manifest: dict, folder: Path) -> None:
    """EmulatorError (one line) unless the emulator was trained on this experiment's model, base scenario,
    factors (the experiment's ranges within its training ranges, its levels among its levels) and
    outcomes, and the experiment asks for Sobol indices."""
    where = f"{exp.path}: "
    method = exp.spec.method.name
    if method != "sobol":
        raise EmulatorError(
            f"{where}method.name = {show(method)}: an emulated sweep gives Sobol indices (allowed: sobol)"
        )
    trained = manifest["experiment"]
    if trained["experiment"].get("model") != exp.spec.model:
        raise EmulatorError(
            f"{where}model = {show(exp.spec.model)}: the emulator in {folder} was trained on "
            f"{show(trained['experiment'].get('model')) if trained['experiment'].get('model') else 'a scenario'}"
        )
    mine = _without(exp.resolved()["scenario"])
    theirs = _without(trained.get("scenario"))
    if mine != theirs:
        key = _first_difference(mine, theirs) or "scenario"
        raise EmulatorError(
            f"{where}its base scenario differs from the one the emulator in {folder} was trained on (at {key}); "
            "train an emulator of this experiment with sim emulate"
        )
    _check_factors(exp, emulator, folder)
    outcomes = {o["name"]: o for o in trained["experiment"]["outcomes"]}
    for o in exp.spec.outcomes:
        if o.name not in emulator.outcomes:
            raise EmulatorError(
                f"{where}outcome {o.name}: the emulator in {folder} does not predict it "
                f"(it predicts {', '.join(emulator.outcomes)})"
            )
        if o.model_dump(mode="json") != outcomes.get(o.name):
            raise EmulatorError(
                f"{where}outcome {o.name}: defined otherwise than the emulator's outcome of that name in {folder}; "
                "give it the emulator's definition or train an emulator of this experiment"
            )


def _check_factors(exp: Experiment, emulator: Emulator, folder: Path) -> None:
    where = f"{exp.path}: "
    theirs = {f.key: f for f in emulator.factors}
    for f in exp.factors:
        trained = theirs.get(f.key)
        if trained is None:
            raise EmulatorError(
                f"{where}factor {f.key}: the emulator in {folder} was not trained on it "
                f"(its factors: {', '.join(theirs)})"
            )
        mine_levels, their_levels = levels_of(f), levels_of(trained)
        if (mine_levels is None) != (their_levels is None) or (f.levels is None) != (trained.levels is None):
            raise EmulatorError(
                f"{where}factor {f.key}: {_kind(f)} here, {_kind(trained)} in the emulator in {folder}; "
                "give it the emulator's kind"
            )
        if mine_levels is None:
            (low, high), (t_low, t_high) = f.range, trained.range
            if low < t_low or high > t_high:
                raise EmulatorError(
                    f"{where}factor {f.key}: range [{low:g}, {high:g}] goes beyond the emulator's training range "
                    f"[{t_low:g}, {t_high:g}] ({folder}); it is not extrapolated: sweep the model (no --emulator) "
                    "or train an emulator over the range"
                )
        else:
            missing = [v for v in mine_levels if v not in their_levels]
            if missing:
                raise EmulatorError(
                    f"{where}factor {f.key}: {show(missing[0])} is not a value the emulator in {folder} was trained "
                    f"on ({', '.join(map(str, their_levels))}); it is not extrapolated: sweep the model (no --emulator)"
                )
    extra = [k for k in theirs if k not in {f.key for f in exp.factors}]
    if extra:
        raise EmulatorError(
            f"{where}the emulator in {folder} also varies {', '.join(extra)}, which this experiment does not; "
            "it predicts only with every factor it was trained on"
        )


def _kind(f: Factor) -> str:
    return "levels" if f.levels is not None else ("whole numbers" if f.type == "int" else "a range")


def _without(scenario: dict | None) -> dict | None:
    if scenario is None:
        return None
    return {k: v for k, v in scenario.items() if k not in SET_BY_EXPERIMENT}


def _first_difference(a, b, path: str = "") -> str | None:
    """The first key path at which two plain-data values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}{k}"
            found = _first_difference(a[k], b[k], f"{path}{k}.")
            if found:
                return found
        return None
    return None if a == b else (path.rstrip(".") or None)


# --- the indices ---------------------------------------------------------------------------------------
def emulated_indices(exp: Experiment, emulator: Emulator) -> EmulatedIndices:
    """Indices of the outcomes the emulator predicts to the standard; notes for the others. EmulatorError
    if none is (the emulator must be checked against the experiment first: ``check_emulator``)."""
    usable = set(emulator.usable())
    notes = []
    for r in exp.readers:
        if r.name not in usable:
            v = emulator.validation.get(r.name, {})
            notes.append(
                f"{r.name}: not predicted to the standard by the emulator (held-out R² {v.get('r2', float('nan')):.3f}"
                f"{'; ' + v['why_not'] if v.get('why_not') else ''}); no indices: sweep the model for it"
            )
    analysed = [r.name for r in exp.readers if r.name in usable]
    if not analysed:
        raise EmulatorError(
            f"{exp.path}: none of its outcomes is predicted to the standard by the emulator "
            f"({'; '.join(notes)}); sweep the model"
        )
    return indices_with_uncertainty(exp, emulator, analysed, notes)


def indices_with_uncertainty(
    exp: Experiment, emulator: Emulator, outcomes: list[str], notes: list[str] | None = None
) -> EmulatedIndices:
    """Indices of ``outcomes`` (whether the emulator meets the standard for them or not: the caller
    decides), their bootstrap and the emulator's spread."""
    design = make_design(exp)
    order = _emulator_order(exp, emulator)
    x = encode(emulator.factors, [tuple(v[j] for j in order) for v in design.values])
    means = pd.DataFrame({o: _mean(emulator, o, x) for o in outcomes})
    mine = dataclasses.replace(exp, readers=tuple(r for r in exp.readers if r.name in outcomes))
    indices, convergence, more_notes = analyse(mine, design, means)
    blocks = min(DRAW_BASE_SAMPLES, design.blocks)
    spread = draw_spread(exp, emulator, design, x[: blocks * design.block], list(dict.fromkeys(indices.outcome)))
    uncertainty = _uncertainty(indices, spread, exp.spec.method.confidence)
    runs = len(emulator.train)
    indices, convergence = (_with_emulator(t, spread, exp.spec.method.confidence, runs) for t in (indices, convergence))
    draw_points = len(np.unique(x[: blocks * design.block], axis=0))
    return EmulatedIndices(indices, convergence, uncertainty, [*(notes or []), *more_notes], design, draw_points)


def _mean(emulator: Emulator, outcome: str, x: np.ndarray) -> np.ndarray:
    """The emulator's mean at ``x``, a block of points at a time: a whole design's kernel matrix against the
    training runs would take gigabytes (98,304 points x 512 runs for ten factors at N = 8192)."""
    fit = emulator.fits[outcome]
    blocks = [
        predict_fit(fit, emulator.train, x[i : i + PREDICT_BLOCK], sd=False).mean
        for i in range(0, len(x), PREDICT_BLOCK)
    ]
    return np.concatenate(blocks)


def _emulator_order(exp: Experiment, emulator: Emulator) -> list[int]:
    """For each of the emulator's factors, its place among the experiment's."""
    place = {f.key: j for j, f in enumerate(exp.factors)}
    return [place[f.key] for f in emulator.factors]


def draw_spread(
    exp: Experiment, emulator: Emulator, design: Design, x: np.ndarray, outcomes: list[str]
) -> pd.DataFrame:
    """The sd across the emulator's joint draws of each index (KEYS, emulator_sd), computed at the
    emulator inputs ``x`` of the design's first base samples."""
    from SALib.analyze.sobol import first_order, second_order, total_order

    from sim.analysis.design import groups

    names = groups(exp)
    g = len(names)
    second = exp.spec.method.second_order
    unique, back = np.unique(x, axis=0, return_inverse=True)  # an integer or level factor repeats points
    back = back.reshape(-1)
    rows = []
    for i, r in enumerate(exp.readers):
        if r.name not in outcomes:
            continue
        y = latent_draws(
            emulator.fits[r.name], emulator.train, unique, DRAWS, stream(exp.spec.seed, (*DRAW_STREAM, i))
        )[:, back]
        sd = y.std(axis=1, keepdims=True)
        y = (y - y.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)  # as SALib scales an output
        blocks = y.reshape(DRAWS, -1, design.block).transpose(1, 2, 0)  # base sample, place in block, draw
        a, b = blocks[:, 0], blocks[:, -1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a constant draw: SALib warns and gives 0
            for j, name in enumerate(names):
                rows.append((r.name, name, "", "S1", float(np.std(first_order(a, blocks[:, 1 + j], b), ddof=1))))
                rows.append((r.name, name, "", "ST", float(np.std(total_order(a, blocks[:, 1 + j], b), ddof=1))))
            if second:
                for j in range(g):
                    for k in range(j + 1, g):
                        s2 = second_order(a, blocks[:, 1 + j], blocks[:, 1 + k], blocks[:, 1 + g + j], b)
                        rows.append((r.name, names[j], names[k], "S2", float(np.std(s2, ddof=1))))
    return pd.DataFrame(rows, columns=[*KEYS, "emulator_sd"])


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def _with_emulator(table: pd.DataFrame, spread: pd.DataFrame, confidence: float, runs: int) -> pd.DataFrame:
    merged = table.merge(spread, on=KEYS, how="left", validate="many_to_one")
    out = table.copy()
    out["conf"] = np.hypot(merged.conf.to_numpy(), _z(confidence) * merged.emulator_sd.to_numpy())
    out["runs"] = runs
    return out


def _uncertainty(indices: pd.DataFrame, spread: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """The interval's parts, from the bootstrap-only indices."""
    merged = indices.merge(spread, on=KEYS, how="left", validate="one_to_one")
    emulator_conf = _z(confidence) * merged.emulator_sd
    return pd.DataFrame(
        {
            **{k: merged[k] for k in KEYS},
            "value": merged.value,
            "bootstrap_conf": merged.conf,
            "emulator_sd": merged.emulator_sd,
            "emulator_conf": emulator_conf,
            "conf": np.hypot(merged.conf, emulator_conf),
            "sample_size": merged.sample_size,
        }
    )
