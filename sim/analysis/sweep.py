"""Sensitivity sweeps: run every point of an experiment's design (in this process, on local processes or
on a Dask cluster: ``sim.analysis.executors``), store each finished run on disk at once
(``sim.results.files``), and analyse when all are in.

A sweep folder holds:

- ``manifest.json``: the experiment as resolved and its SHA-256, the seed, the design's size, the code
  and data versions, and one entry per session (start, executor, workers, runs, seconds); ``status`` is
  ``running`` until the analysis is written, then ``complete``;
- ``design.parquet``: one row per point, the factor values it applies;
- ``runs/``: the run store, a Parquet dataset of part files, one per finished task (a few runs), each
  written under a temporary name and renamed into place: a part is whole or absent whatever stops the
  process, so a killed sweep loses at most the tasks that were running;
- ``errors/``: for a run that failed, ``point-P-replicate-R.txt`` with its traceback (the one-line error
  names the file);
- when complete: ``outcomes.csv`` (one row per point and replicate: factor values and outcomes),
  ``indices.csv`` (tidy: outcome, factor, index, value, conf), ``convergence.csv`` (the same on nested
  designs) and ``charts/``.

A run is a pure function of (point, replicate): the model's seed and replicate streams come from the
experiment, never from the order or the place runs are done in, so one worker, several, or a Dask
cluster give bitwise the same results, and a resumed sweep the same as an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import math
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.analysis.design import Design, make_design, point_seed
from sim.analysis.executors import Executor, ExecutorError, make_executor
from sim.analysis.experiment import Experiment
from sim.analysis.outcomes import Reader, read_outcomes
from sim.results.files import MANIFEST, OutputError, check_output_dir, write_atomic, write_json, write_text

RUNS = "runs"
ERRORS = "errors"
MODEL_CHUNK = 8  # model runs per task: about 2 s at 100 persons per agent, the most a kill loses per worker
FOLDER_KINDS = {"sweep": "a sweep", "emulator": "an emulator"}  # what a folder of runs holds, in words
TASKS_PER_WORKER = 4  # fewer, larger tasks for cheap runs (test functions, tiny sweeps)


class SweepError(Exception):
    """A sweep that cannot be started or resumed as asked; the message is one line for the user."""


class RunError(Exception):
    """A run that failed: which point and replicate and why, in one line; ``details`` has its traceback."""

    def __init__(self, message: str, point: int, replicate: int, details: str):
        super().__init__(message, point, replicate, details)  # all of them: it is pickled back from a worker
        self.point, self.replicate, self.details = point, replicate, details

    def __str__(self) -> str:
        return self.args[0]


class SweepFailed(SweepError):
    """The sweep stopped because a run failed; the runs finished before are stored."""


@dataclass(frozen=True)
class Job:
    """What every run of a sweep shares: small, sent with each task."""

    base: dict | None  # the resolved base scenario (Python data, year keys as numbers)
    function: str | None  # or a test function
    keys: tuple[str, ...]  # factor key paths, in design order
    readers: tuple[Reader, ...]
    seed: int
    seeds: str

    @classmethod
    def of(cls, exp: Experiment) -> Job:
        return cls(
            base=exp.base.model_dump() if exp.base else None,
            function=exp.spec.model,
            keys=tuple(f.key for f in exp.factors),
            readers=exp.readers,
            seed=exp.spec.seed,
            seeds=exp.spec.seeds,
        )


def evaluate(job: Job, point: int, replicate: int, values: tuple) -> list[float]:
    """One run's outcomes."""
    if job.function is not None:
        from sim.analysis.analytic import FUNCTIONS

        out = FUNCTIONS[job.function].evaluate(**dict(zip(job.keys, values, strict=True)))
        return [float(out[r.indicator]) for r in job.readers]
    from sim.model.model import AgeingModel

    model = AgeingModel(scenario_of(job, point, values), replicate)
    model.run()
    return read_outcomes(model.record, job.readers)


def scenario_of(job: Job, point: int, values: tuple):
    """The scenario a design point runs: the base with the point's factor values and seed."""
    from sim.scenario import parse_scenario, set_value

    raw = copy.deepcopy(job.base)
    for key, v in zip(job.keys, values, strict=True):
        set_value(raw, key, v, f"point {point}")
    raw["seed"] = point_seed(job.seed, job.seeds, point)
    return parse_scenario(raw, f"point {point}")


def run_task(job: Job, task: list[tuple[int, int, tuple]]) -> list[tuple]:
    """Worker side: (point, replicate, values) -> (point, replicate, seconds, outcome, ...)."""
    rows = []
    for point, replicate, values in task:
        start = time.perf_counter()
        try:
            outcomes = evaluate(job, point, replicate, values)
        except Exception as e:
            why = " ".join(str(e).split())  # one line, whatever the exception says
            message = f"point {point}, replicate {replicate} {values}: {type(e).__name__}: {why}"
            raise RunError(message, point, replicate, f"{message}\n\n{traceback.format_exc()}") from None
        rows.append((point, replicate, time.perf_counter() - start, *outcomes))
    return rows


def task_size(job: Job, runs: int, workers: int) -> int:
    even = math.ceil(runs / (workers * TASKS_PER_WORKER)) if runs else 1
    return max(1, even if job.function is not None else min(MODEL_CHUNK, even))


# --- the run store ------------------------------------------------------------------------------------
class RunStore:
    """Finished runs, one Parquet part file per task, each renamed into place only once complete."""

    def __init__(self, folder: Path, outcomes: list[str]):
        self.folder = Path(folder)
        self.schema = pa.schema(
            [("point", pa.int64()), ("replicate", pa.int64()), ("session", pa.int64()), ("seconds", pa.float64())]
            + [(name, pa.float64()) for name in outcomes]
        )

    def clean(self) -> None:
        """Remove parts a killed process left half-written."""
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink()

    def append(self, rows: list[tuple], session: int, task: int) -> None:
        """Store a task's rows (point, replicate, seconds, outcomes ...) as run in ``session``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        columns = self.schema.names
        records = [
            dict(zip(columns, (point, replicate, session, *rest), strict=True)) for point, replicate, *rest in rows
        ]
        table = pa.Table.from_pylist(records, self.schema)
        write_atomic(self.folder / f"part-{session:03d}-{task:06d}.parquet", lambda p: pq.write_table(table, p))

    def read(self) -> pd.DataFrame:
        """Every stored run, once each, by point and replicate."""
        parts = sorted(self.folder.glob("part-*.parquet")) if self.folder.exists() else []
        if not parts:
            return self.schema.empty_table().to_pandas()
        table = pa.concat_tables([pq.read_table(p, schema=self.schema) for p in parts])
        runs = table.to_pandas()
        return runs.drop_duplicates(["point", "replicate"]).sort_values(["point", "replicate"], ignore_index=True)


# --- the sweep ----------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    out: Path
    outcomes: pd.DataFrame  # one row per point and replicate
    indices: pd.DataFrame
    convergence: pd.DataFrame
    notes: list[str]
    runs_now: int  # runs done by this call (the rest were stored before)
    wall_seconds: float


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_sweep_folder(out: Path, exp: Experiment, resume: bool, kind: str = "sweep") -> dict | None:
    """The stored manifest to resume from, None for a new sweep; SweepError if the folder is not ours,
    holds a sweep and --resume was not given, or holds a sweep of another experiment or data. ``kind``:
    what the folder holds (a sweep, or an emulator's training runs)."""
    from sim.data.regions import data_file_hashes

    out = Path(out)
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        try:
            check_output_dir(out)  # the place can be created and written
        except OutputError as e:
            raise SweepError(str(e)) from None
        return None
    stored = None
    if (out / MANIFEST).is_file():
        try:
            stored = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            stored = None
    if not isinstance(stored, dict) or stored.get("kind") != kind:
        raise SweepError(f"{out}: exists and is not {FOLDER_KINDS[kind]} folder of this tool; choose another --out")
    if stored.get("emulated"):  # no runs to resume or analyse again: its numbers are the emulator's
        raise SweepError(f"{out}: holds an emulated sweep (no model runs); choose another --out")
    if not resume:
        raise SweepError(
            f"{out}: holds {FOLDER_KINDS[kind]} already ({stored.get('status')}); add --resume to continue it "
            "(or to analyse it again), or choose another --out"
        )
    if stored.get("experiment_sha256") != exp.fingerprint():
        raise SweepError(
            f"{out}: the stored sweep is of another experiment (sha256 {str(stored.get('experiment_sha256'))[:12]}, "
            f"this one {exp.fingerprint()[:12]}); a changed experiment cannot be resumed: choose another --out"
        )
    if stored.get("data_files_sha256") != data_file_hashes():
        raise SweepError(f"{out}: the packaged data changed since the sweep started; it cannot be resumed")
    return stored


def new_manifest(exp: Experiment, design: Design) -> dict:
    from sim.data.regions import data_file_hashes
    from sim.results.runs import environment

    m = exp.spec.method
    return {
        "kind": "sweep",
        "name": exp.name,
        "status": "running",
        "experiment_file": str(exp.path),
        "experiment_sha256": exp.fingerprint(),
        "seed": exp.spec.seed,
        "design": {
            "method": m.name,
            "settings": m.model_dump(mode="json", exclude_none=True),
            "points": design.points,
            "replicates": exp.spec.replicates,
            "runs": design.points * exp.spec.replicates,
            "blocks": design.blocks,
            "points_per_block": design.block,
            "streams": "design: SeedSequence(seed, spawn_key=(2**32, 0)); bootstrap: (2**32, 1); run (point, r): "
            "the model's replicate r of seed (seeds: common) or of the point's seed (2**32, 2, point)",
        },
        "experiment": exp.resolved(),
        "data_files_sha256": data_file_hashes(),
        "environment": environment(),
        "created_utc": _now(),
        "sessions": [],
    }


def run_sweep(
    exp: Experiment,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    chunk: int | None = None,
    charts: Callable[..., object] | None = None,
    progress: Callable[[int, int], None] | None = None,
    command: list[str] | None = None,
) -> SweepResult:
    """Run what is not stored yet, then analyse; ``charts(exp, indices, convergence, runs, folder)`` draws
    the charts (``sim.outputs.sweep_charts.save_sweep_charts``). Nothing is written before the folder is
    checked and the executor is reached."""
    start = time.perf_counter()
    out = Path(out)
    stored = check_sweep_folder(out, exp, resume)
    design = make_design(exp)
    try:
        executor = make_executor(workers, scheduler)
    except ExecutorError as e:
        raise SweepError(str(e)) from None
    with executor:
        manifest = stored or new_manifest(exp, design)
        planned = planned_runs(design, exp.spec.replicates)
        runs_now = run_session(
            exp, Job.of(exp), planned, design.frame(exp), out, manifest, executor, chunk, progress, command
        )
    outcomes, indices, convergence, notes = analyse_sweep(exp, design, out, manifest, charts)
    return SweepResult(out, outcomes, indices, convergence, notes, runs_now, time.perf_counter() - start)


def planned_runs(design: Design, replicates: int) -> list[tuple[int, int, tuple]]:
    """A sweep's runs: every replicate of every point of its design, as (point, replicate, values)."""
    return [(p, r, design.values[p]) for p in range(design.points) for r in range(replicates)]


def run_session(
    exp: Experiment,
    job: Job,
    planned: list[tuple[int, int, tuple]],
    design_frame: pd.DataFrame,
    out: Path,
    manifest: dict,
    executor: Executor,
    chunk: int | None,
    progress: Callable[[int, int], None] | None,
    command: list[str] | None,
    work: Callable[[object, list], list] = run_task,
) -> int:
    """One session: run every planned (point, replicate, values) not in the store, storing each task's
    runs as it finishes; the manifest records the session (also if it fails), the folder keeps
    ``design_frame`` (the factor values of each point). Returns the runs done. ``work(job, task)`` runs a
    task on a worker (another study's runs, e.g. a policy-search problem's plans, bring their own)."""
    from sim.results.runs import code_version

    out.mkdir(parents=True, exist_ok=True)
    store = RunStore(out / RUNS, [r.name for r in exp.readers])
    store.clean()
    stored_runs = store.read()
    finished = set(stored_runs[["point", "replicate"]].itertuples(index=False, name=None))
    for i, earlier in enumerate(manifest["sessions"]):  # what the store says each session finished
        earlier["runs_done"] = int((stored_runs.session == i).sum())
        if "wall_seconds" not in earlier:
            earlier["interrupted"] = True  # killed: it could not record its end
    todo = [run for run in planned if run[:2] not in finished]
    total = len(planned)
    size = chunk or task_size(job, len(todo), executor.workers)
    session = {
        "started_utc": _now(),
        **executor.describe(),
        "runs_per_task": size,
        "runs_stored_before": len(finished),
        "runs_done": 0,
        "command": command,
        "code": code_version(),
    }
    manifest["sessions"].append(session)
    manifest["code"] = session["code"]  # of the latest session; each session keeps its own
    number = len(manifest["sessions"]) - 1
    write_json(out / MANIFEST, manifest)
    if not (out / "design.parquet").exists():
        write_atomic(out / "design.parquet", lambda p: design_frame.to_parquet(p, index=False))
    if progress:
        progress(len(finished), total)
    tasks = [todo[i : i + size] for i in range(0, len(todo), size)]
    done = len(finished)
    session_start = time.perf_counter()
    try:
        for k, (_, rows) in enumerate(executor.as_completed(partial(work, job), tasks)):
            store.append(rows, number, k)
            done += len(rows)
            session["runs_done"] += len(rows)
            if progress:
                progress(done, total)
    except RunError as e:
        session["error"] = str(e)
        (out / ERRORS).mkdir(exist_ok=True)
        details = write_text(out / ERRORS / f"point-{e.point}-replicate-{e.replicate}.txt", e.details)
        raise SweepFailed(
            f"{exp.path}: a run failed: {e}; its traceback is in {details}; the {done} finished runs are stored"
        ) from None
    except ExecutorError as e:  # e.g. no worker left on the Dask scheduler
        session["error"] = str(e)
        raise SweepError(f"{e}; the {done} finished runs are stored: continue with --resume") from None
    finally:
        session["wall_seconds"] = round(time.perf_counter() - session_start, 3)
        write_json(out / MANIFEST, manifest)
    return session["runs_done"]


def analyse_sweep(
    exp: Experiment, design: Design, out: Path, manifest: dict, charts: Callable[..., object] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Once every run is stored: the outcomes table, indices and convergence, written with the charts;
    the manifest marked complete. SweepError if runs are missing."""
    from sim.analysis.sensitivity import analyse

    runs = RunStore(out / RUNS, [r.name for r in exp.readers]).read()
    total = design.points * exp.spec.replicates
    if len(runs) != total:
        raise SweepError(f"{out}: {len(runs)} of {total} runs are stored; run again with --resume")
    outcomes_table = design.frame(exp).merge(runs.drop(columns=["session", "seconds"]), on="point")
    outcomes_table.insert(1, "replicate", outcomes_table.pop("replicate"))
    names = [r.name for r in exp.readers]
    means = runs.groupby("point", sort=True)[names].mean()
    analysis_start = time.perf_counter()
    indices, convergence, notes = analyse(exp, design, means)
    write_atomic(out / "outcomes.csv", lambda p: outcomes_table.to_csv(p, index=False))
    write_atomic(out / "indices.csv", lambda p: indices.to_csv(p, index=False))
    write_atomic(out / "convergence.csv", lambda p: convergence.to_csv(p, index=False))
    if charts is not None:
        charts(exp, indices, convergence, total, out / "charts")
    manifest.update(
        status="complete",
        completed_utc=_now(),
        notes=notes,
        timings={
            "runs": total,
            "run_seconds_mean": round(float(runs.seconds.mean()), 6),
            "run_seconds_total": round(float(runs.seconds.sum()), 1),
            "wall_seconds_all_sessions": round(sum(s.get("wall_seconds", 0.0) for s in manifest["sessions"]), 1),
            "analysis_seconds": round(time.perf_counter() - analysis_start, 1),
        },
    )
    write_json(out / MANIFEST, manifest)
    return outcomes_table, indices, convergence, notes
