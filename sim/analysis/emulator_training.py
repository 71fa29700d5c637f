"""Training an emulator of an experiment (or of a policy-search problem: ``sim.analysis.problem_emulation``):
the runs it learns from, the runs it is judged on, the fit and the validation, stored in a folder that a
killed training resumes from. What it learns from is a ``Source``: its factors, its outcomes and the run of
one design point, which an experiment and a problem each supply.

- **Training runs**: the first ``runs`` points of a scrambled Sobol' sequence over the factors' ranges
  (space-filling; uniform over each range whatever the factor's distribution), one run each with the
  point's own seed, so the runs differ as independent runs do and the fit sees the run-to-run noise.
- **Held-out runs**: ``holdout`` points of a Latin hypercube drawn apart from them, ``replicates`` runs
  each (the point's seed, replicates 0 ... R-1): the emulator never sees them. Per outcome: R² of the
  predicted mean against the mean of each point's replicates, the error (RMSE, and as a share of the
  held-out spread) and the share of single held-out runs inside the 90% prediction interval.
- An outcome is **usable** when R² >= ``R2_STANDARD`` and the coverage >= ``COVERAGE_LOW``; the others are
  reported as not predicted to the standard, and nothing downstream shows them.

Folder: ``manifest.json`` (kind ``emulator``; the experiment as resolved, the training plan, what it was
trained on, sessions, validation), ``design.parquet``, ``runs/`` (the run store sweeps use), and once
complete ``emulator.npz``, ``validation.csv`` and ``heldout.csv`` (each held-out run, its prediction and
interval). A run is a pure function of (point, replicate), so workers, Dask and resuming change nothing.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.design import stream, stream_int
from sim.analysis.emulator import (
    Emulator,
    EmulatorError,
    design_values,
    encode,
    file_sha256,
    fit_outcome,
    load_arrays,
    manifest_of,
    predict_fit,
)
from sim.analysis.executors import ExecutorError, make_executor
from sim.analysis.experiment import Experiment, Factor
from sim.analysis.outcomes import Reader
from sim.analysis.sweep import RUNS, Job, RunStore, SweepError, check_sweep_folder, run_session, run_task
from sim.results.files import MANIFEST, write_atomic, write_json
from sim.scenario import Scenario

TRAINING_STREAM = (2**32, 3)  # the Sobol' scramble of the training points
HOLDOUT_STREAM = (2**32, 4)  # the held-out Latin hypercube
FIT_STREAM = (2**32, 5)  # the fit's restarts
RUNS_DEFAULT = 512
HOLDOUT_DEFAULT = 64
REPLICATES_DEFAULT = 4
R2_STANDARD = 0.95  # held-out R² an outcome must reach to be predicted at all
COVERAGE_LOW = 0.85  # 90% intervals must hold at least this share of held-out runs (wider is honest, narrower is not)


@dataclass(frozen=True)
class Plan:
    runs: int = RUNS_DEFAULT  # training points, one run each
    holdout: int = HOLDOUT_DEFAULT  # held-out points ...
    replicates: int = REPLICATES_DEFAULT  # ... with this many runs each

    def as_dict(self) -> dict:
        return {"runs": self.runs, "holdout": self.holdout, "replicates": self.replicates}


@dataclass(frozen=True)
class Source:
    """What an emulator learns from: its factors and outcomes, and how a design point is run. ``kind`` says
    what the study is (an experiment or a problem) and names its record in the manifest."""

    kind: str  # "experiment" or "problem"
    name: str
    path: Path
    seed: int
    factors: list[Factor]
    readers: tuple[Reader, ...]  # the outcomes, in the order a run returns them
    base: Scenario | None  # for the calibration it is trained with
    resolved: dict  # everything that decides the runs, as plain data
    sha256: str  # of it: a resumed training and a user of the emulator must match it
    job: Any  # sent with each task
    work: Any  # worker side: (job, [(point, replicate, values)]) -> [(point, replicate, seconds, outcome ...)]
    values: Any  # design points u in [0, 1]^d -> factor values, one tuple per point

    def fingerprint(self) -> str:  # as an experiment's: what check_sweep_folder compares
        return self.sha256


def experiment_source(exp: Experiment) -> Source:
    """An experiment's factors and outcomes; every point its own seed (independent draws)."""
    job = Job.of(exp)
    job = Job(job.base, job.function, job.keys, job.readers, job.seed, "independent")  # every point its own draw
    return Source(
        "experiment",
        exp.name,
        exp.path,
        exp.spec.seed,
        list(exp.factors),
        exp.readers,
        exp.base,
        exp.resolved(),
        exp.fingerprint(),
        job,
        run_task,
        partial(design_values, list(exp.factors)),
    )


def source_of(study: Experiment | Source) -> Source:
    return study if isinstance(study, Source) else experiment_source(study)


@dataclass(frozen=True)
class Training:
    """The runs of a training plan: (point, replicate, values) with their inputs and roles."""

    runs: list[tuple[int, int, tuple]]
    frame: pd.DataFrame  # point, role, factor values
    train_points: int


def training_runs(study: Experiment | Source, plan: Plan) -> Training:
    from scipy.stats import qmc

    source = source_of(study)
    d = len(source.factors)
    with warnings.catch_warnings():  # a count that is not a power of two loses a little balance; allowed
        warnings.simplefilter("ignore", UserWarning)
        u_train = qmc.Sobol(d, scramble=True, seed=stream(source.seed, TRAINING_STREAM)).random(plan.runs)
    u_held = qmc.LatinHypercube(d, seed=stream(source.seed, HOLDOUT_STREAM)).random(plan.holdout)
    train, held = source.values(u_train), source.values(u_held)
    runs = [(p, 0, v) for p, v in enumerate(train)]
    runs += [(plan.runs + p, r, v) for p, v in enumerate(held) for r in range(plan.replicates)]
    columns = {"point": np.arange(plan.runs + plan.holdout), "role": ["train"] * plan.runs + ["holdout"] * plan.holdout}
    for j, f in enumerate(source.factors):
        columns[f.name] = [v[j] for v in train + held]
    return Training(runs, pd.DataFrame(columns), plan.runs)


def trained_on(source: Source) -> dict:
    """What an emulator's numbers depend on: refused if any of it changes."""
    from sim.data.regions import data_file_hashes
    from sim.results.runs import calibration_record, model_code_sha256

    return {
        f"{source.kind}_sha256": source.sha256,
        "model_code_sha256": model_code_sha256(),
        "data_files_sha256": data_file_hashes(),
        "calibration_sha256": (calibration_record(source.base) or {}).get("sha256") if source.base else None,
    }


def new_manifest(source: Source, plan: Plan) -> dict:
    from datetime import UTC, datetime

    import sklearn

    from sim.results.runs import environment

    on = trained_on(source)
    return {
        "kind": "emulator",
        "name": source.name,
        "status": "running",
        "trained_for": source.kind,
        f"{source.kind}_file": str(source.path),
        "experiment_sha256": source.sha256,  # the key a resumed training is checked on (an experiment's or a problem's)
        "seed": source.seed,
        "training": plan.as_dict(),
        "design": {
            "training": "scrambled Sobol' sequence over the factors' ranges, stream (2**32, 3); one run per point "
            "with the point's own seed (2**32, 2, point), replicate 0",
            "holdout": "Latin hypercube, stream (2**32, 4), points numbered after the training points; "
            "replicates 0 ... R-1 of the point's own seed",
            "model": "Gaussian process per outcome: amplitude x Matern 5/2 (a length per factor) + white noise, "
            "fitted by scikit-learn with restarts from stream (2**32, 5)",
        },
        source.kind: source.resolved,
        "factors": [f.model_dump(mode="json") for f in source.factors],
        "data_files_sha256": on["data_files_sha256"],
        "trained_on": on,
        "environment": environment() | {"scikit-learn": sklearn.__version__},
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "sessions": [],
    }


@dataclass
class TrainingResult:
    out: Path
    emulator: Emulator
    validation: pd.DataFrame
    runs_now: int
    wall_seconds: float
    fit_seconds: float


def train_emulator(
    study: Experiment | Source,
    out: Path,
    plan: Plan = Plan(),
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: list[str] | None = None,
) -> TrainingResult:
    """Run what is not stored, then fit and validate; EmulatorError (one line) if it cannot."""
    start = time.perf_counter()
    out = Path(out)
    source = source_of(study)
    try:
        stored = check_sweep_folder(out, source, resume, kind="emulator")
    except SweepError as e:
        raise EmulatorError(str(e)) from None
    if stored is not None and stored.get("training") != plan.as_dict():
        raise EmulatorError(
            f"{out}: its training plan was {stored.get('training')}, not {plan.as_dict()}; choose another --out"
        )
    training = training_runs(source, plan)
    try:
        executor = make_executor(workers, scheduler)
    except ExecutorError as e:
        raise EmulatorError(str(e)) from None
    with executor:
        manifest = stored or new_manifest(source, plan)
        try:
            runs_now = run_session(
                source,
                source.job,
                training.runs,
                training.frame,
                out,
                manifest,
                executor,
                chunk,
                progress,
                command,
                work=source.work,
            )
        except SweepError as e:
            raise EmulatorError(str(e)) from None
    fit_start = time.perf_counter()
    emulator, validation, heldout = fit_and_validate(source, out, training, manifest)
    fit_seconds = time.perf_counter() - fit_start
    write_atomic(out / "validation.csv", lambda p: validation.to_csv(p, index=False))
    write_atomic(out / "heldout.csv", lambda p: heldout.to_csv(p, index=False))
    sha = file_sha256(emulator.save(out))
    manifest.update(
        status="complete",
        emulator_sha256=sha,
        validation=validation.to_dict(orient="records"),
        timings={
            "fit_seconds": round(fit_seconds, 1),
            "wall_seconds_all_sessions": round(sum(s.get("wall_seconds", 0.0) for s in manifest["sessions"]), 1),
        },
    )
    write_json(out / MANIFEST, manifest)
    return TrainingResult(out, emulator, validation, runs_now, time.perf_counter() - start, fit_seconds)


def fit_and_validate(source: Source, out: Path, training: Training, manifest: dict):
    names = [r.name for r in source.readers]
    runs = RunStore(out / RUNS, names).read()
    if len(runs) != len(training.runs):
        raise EmulatorError(f"{out}: {len(runs)} of {len(training.runs)} runs are stored; run again with --resume")
    values = {p: v for p, _, v in training.runs}
    train = runs[runs.point < training.train_points]
    held = runs[runs.point >= training.train_points]
    x_train = encode(source.factors, [values[p] for p in train.point])
    x_held = encode(source.factors, [values[p] for p in held.point])
    seed = stream_int(source.seed, FIT_STREAM)
    fits, rows, heldout = {}, [], []
    for name in names:
        fits[name] = fit_outcome(x_train, train[name].to_numpy(float), seed)
        pred = predict_fit(fits[name], x_train, x_held)
        low, high = pred.interval()
        y = held[name].to_numpy(float)
        rows.append(validate(name, held.point.to_numpy(), y, pred.mean, low, high))
        heldout.append(
            pd.DataFrame(
                {
                    "outcome": name,
                    "point": held.point.to_numpy(),
                    "replicate": held.replicate.to_numpy(),
                    "model": y,
                    "emulator": pred.mean,
                    "low_90": low,
                    "high_90": high,
                }
            )
        )
    validation = pd.DataFrame(rows)
    emulator = Emulator(
        list(source.factors), names, x_train, fits, {r["outcome"]: r for r in rows}, manifest["trained_on"]
    )
    return emulator, validation, pd.concat(heldout, ignore_index=True)


def validate(name: str, points: np.ndarray, y: np.ndarray, mean: np.ndarray, low, high) -> dict:
    """Held-out figures of one outcome: R² and error of the predicted mean against each point's mean run,
    and the share of single runs inside their 90% interval."""
    frame = pd.DataFrame({"point": points, "y": y, "mean": mean})
    by_point = frame.groupby("point").mean()
    err = by_point["y"] - by_point["mean"]
    total = float(((by_point["y"] - by_point["y"].mean()) ** 2).sum())
    sse = float((err**2).sum())
    r2 = 1.0 - sse / total if total > 0 else (1.0 if sse == 0 else float("nan"))
    rmse = float(np.sqrt((err**2).mean()))
    spread = float(by_point["y"].std(ddof=0))
    coverage = float(((y >= low) & (y <= high)).mean())
    usable = bool(np.isfinite(r2) and r2 >= R2_STANDARD and coverage >= COVERAGE_LOW)
    return {
        "outcome": name,
        "r2": r2,
        "rmse": rmse,
        "relative_error": rmse / spread if spread > 0 else 0.0,
        "coverage_90": coverage,
        "heldout_runs": len(y),
        "usable": usable,
        "why_not": ""
        if usable
        else (
            f"held-out R² {r2:.3f} < {R2_STANDARD}"
            if not (np.isfinite(r2) and r2 >= R2_STANDARD)
            else f"90% intervals hold {coverage:.0%} of held-out runs (< {COVERAGE_LOW:.0%})"
        ),
    }


# --- reading an emulator back -------------------------------------------------------------------------
def load_emulator(folder: Path) -> Emulator:
    """The emulator in ``folder``; EmulatorError (one line) if it is damaged, unfinished, or was trained on
    other code, data or calibration than this installation's."""
    folder = Path(folder)
    manifest = manifest_of(folder)
    try:
        factors = manifest.get("factors") or manifest["experiment"]["experiment"]["factors"]  # older: only there
        factors = [Factor.model_validate(f) for f in factors]
        outcomes = [r["outcome"] for r in manifest["validation"]]
        stored = manifest["trained_on"]
        sha = manifest["emulator_sha256"]
    except (KeyError, TypeError, ValueError):
        raise EmulatorError(f"{folder}: its {MANIFEST} is damaged; train the emulator again") from None
    check_current(folder, manifest, stored)
    train, fits = load_arrays(folder, outcomes, sha)
    if train.ndim != 2 or train.shape[1] != len(factors):
        raise EmulatorError(f"{folder}: its {MANIFEST} and emulator file disagree; train the emulator again")
    validation = {r["outcome"]: r for r in manifest["validation"]}
    return Emulator(factors, outcomes, train, fits, validation, stored)


def check_current(folder: Path, manifest: dict, stored: dict) -> None:
    from sim.data.regions import data_file_hashes
    from sim.results.runs import model_code_sha256

    if stored.get("model_code_sha256") != model_code_sha256():
        raise EmulatorError(
            f"{folder}: trained on other model code (code changed since); train it again with sim emulate"
        )
    if stored.get("data_files_sha256") != data_file_hashes():
        raise EmulatorError(
            f"{folder}: trained on other packaged data (data changed since); train it again with sim emulate"
        )
    scenario = manifest[manifest.get("trained_for", "experiment")].get("scenario")
    if scenario is not None:
        from sim.data.fits import resolve

        try:
            found = resolve(
                scenario["calibration"], scenario["region"], scenario["base_year"], scenario.get("region_file")
            )
        except (ValueError, KeyError, TypeError):
            found = {"sha256": "its calibration cannot be read"}
        if (found or {}).get("sha256") != stored.get("calibration_sha256"):
            raise EmulatorError(f"{folder}: trained with another calibration (it changed since); train it again")
