"""The app's runs: one queue for every user of a server, over the executor sweeps use (local worker
processes or a Dask cluster), each run stored by its scenario's content hash.

A run is the same as ``sim run``'s: its replicates are the same tasks (``run_replicate``, each on its own
random streams, so it does not matter which worker runs which), combined and written by the same code
(``combine``, ``write_run``: results, summary, targets, scenario, manifest, English charts), into
``RUNS/app/<key>/``. The key hashes the validated scenario with the code and data versions and the
calibration file it resolves to, so a scenario already run opens at once, and a change of code or data
runs it afresh.

Progress and Cancel go through a folder per running job (``RUNS/app/.jobs/<key>/``): each replicate writes
the year it has reached after every simulated year and stops at the next year once ``cancel`` appears
there, so Cancel stops the work within one simulated year, on whatever local worker runs it; tasks not
started are cancelled in the executor. Dask workers on other machines without that folder give no
yearly progress (replicates done only) and finish a running replicate before Cancel takes effect.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.analysis.executors import Executor
from sim.results.files import MANIFEST, recover
from sim.scenario import Scenario

STORE = "app"
JOBS = ".jobs"
CANCEL = "cancel"
STATES = ("queued", "running", "done", "failed", "cancelled")


class RunCancelled(Exception):
    """Raised inside a replicate when its job was cancelled."""


class QueueFull(Exception):
    """A user asked for more runs at once than the server allows; the message is one line."""


def content_key(scenario: Scenario) -> str:
    """What makes a run's results: the validated scenario, the code, the packaged data and the calibration."""
    from sim.data.regions import data_file_hashes
    from sim.results.runs import calibration_record, code_version

    made_of = {
        "scenario": scenario.model_dump(mode="json"),
        "code": code_version(),
        "data": data_file_hashes(),
        "calibration": (calibration_record(scenario) or {}).get("sha256"),
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:20]


def replicate_task(scenario: Scenario, replicate: int, job_dir: str):
    """One replicate on a worker, reporting its year to ``job_dir`` and stopping once the job is cancelled.
    Returns (table, seconds)."""
    from sim.results.runs import run_replicate

    folder = Path(job_dir)
    mark = folder / f"progress-{replicate}"

    def on_year(year: int) -> None:
        if (folder / CANCEL).exists():
            raise RunCancelled(f"replicate {replicate} stopped at {year}")
        try:
            mark.write_text(str(year))
        except OSError:  # a Dask worker on another machine: no yearly progress, replicates done only
            pass

    start = time.perf_counter()
    if (folder / CANCEL).exists():
        raise RunCancelled(f"replicate {replicate} not started")
    table = run_replicate(scenario, replicate, on_year)
    return table, time.perf_counter() - start


def write_task(scenario: Scenario, tables: list, seconds: list[float], wall: float, folder: str, command, changes):
    """Combine the replicates and write the results folder, on a worker (the server's process stays free
    for the pages); the same code as ``sim run``."""
    from sim.outputs.charts import draw_default_charts
    from sim.results.runs import combine, write_run

    result = combine(scenario, tables, seconds, wall)
    write_run(result, Path(folder), command=command, charts=draw_default_charts, changes=changes)


@dataclass
class Job:
    key: str
    scenario: Scenario
    folder: Path  # where the results go (RUNS/app/<key>)
    job_dir: Path  # progress and cancel marks while it runs
    users: set[str] = field(default_factory=set)
    state: str = "queued"
    error: str = ""
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    replicates_done: int = 0
    futures: list = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def status(self) -> str:
        """queued, running, done, failed or cancelled (running once a replicate has reached a year)."""
        if self.state == "queued" and (self.replicates_done or any(self.job_dir.glob("progress-*"))):
            return "running"
        return self.state

    def progress(self) -> float:
        """Share of the simulated years done, over all replicates (1.0 once written)."""
        if self.state == "done":
            return 1.0
        s = self.scenario
        years = s.horizon - s.base_year
        reached = 0
        for r in range(s.replicates):
            try:
                reached += int((self.job_dir / f"progress-{r}").read_text()) - s.base_year
            except (OSError, ValueError):
                pass
        reached = max(reached, self.replicates_done * years)
        # the last 5% is combining and writing the results folder
        return min(0.95, 0.95 * reached / (years * s.replicates))


class RunQueue:
    """Runs for every user of one server: stored by content, at most ``per_user`` queued or running per
    user, as many at once as the executor has workers."""

    def __init__(
        self,
        runs: Path,
        executor: Executor,
        per_user: int = 2,
        max_replicates: int = 20,
        max_queued: int = 16,
        max_search_runs: int = 3000,
    ):
        from sim.analysis.executors import LocalProcesses

        self.store = Path(runs) / STORE
        self.executor = executor
        # local workers share this machine's folders: they write the results too (a Dask worker may not)
        self.write_on_workers = isinstance(executor, LocalProcesses)
        self.per_user = per_user
        self.max_replicates = max_replicates
        self.max_queued = max_queued
        self.max_search_runs = max_search_runs  # model runs one "Find a plan" search may spend
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # matplotlib's pyplot (the charts) is not thread-safe

    def folder(self, key: str) -> Path:
        return self.store / key

    def stored(self, key: str) -> Path | None:
        """The results folder of a run already made, or None."""
        folder = self.folder(key)
        recover(folder)  # a write killed between its two renames left the previous results aside
        return folder if (folder / MANIFEST).is_file() else None

    def job(self, key: str) -> Job | None:
        return self.jobs.get(key)

    def active_for(self, user: str) -> list[Job]:
        return [j for j in self.jobs.values() if j.active and user in j.users]

    def submit(self, scenario: Scenario, user: str, command: list[str], changes: list[str]) -> Job:
        """The job that makes this scenario's results: done at once when stored, the running one when another
        user asked for the same, else a new one. QueueFull when the user has ``per_user`` runs going."""
        key = content_key(scenario)
        with self._lock:
            job = self.jobs.get(key)
            if job is not None and job.active:
                job.users.add(user)
                return job
            if self.stored(key):
                job = Job(key, scenario, self.folder(key), self.store / JOBS / key, {user}, state="done")
                self.jobs[key] = job
                return job
            self.check_room(user, scenario.replicates)
            job = Job(key, scenario, self.folder(key), self.store / JOBS / key, {user})
            shutil.rmtree(job.job_dir, ignore_errors=True)
            job.job_dir.mkdir(parents=True)
            job.futures = [
                self.executor.submit(replicate_task, scenario, r, str(job.job_dir)) for r in range(scenario.replicates)
            ]
            self.jobs[key] = job
        threading.Thread(target=self._finish, args=(job, command, changes), daemon=True).start()
        return job

    def check_room(self, user: str, replicates: int) -> None:
        """QueueFull (one line) unless the user may start one more job of ``replicates`` replicates (a run's, or
        each step's of a "+N" job): at most ``per_user`` of theirs and ``max_queued`` of everyone's going."""
        going = self.active_for(user)
        if len(going) >= self.per_user:
            raise QueueFull(
                f"runs: {len(going)} of yours are queued or running (at most {self.per_user} at once on this "
                "server); wait for one to finish or cancel it"
            )
        if replicates > self.max_replicates:
            raise QueueFull(
                f"replicates = {replicates}: at most {self.max_replicates} in one run on this server; "
                "run more with `sim run`"
            )
        everyone = sum(1 for j in self.jobs.values() if j.active)
        if everyone >= self.max_queued:
            raise QueueFull(
                f"runs: {everyone} are queued or running on this server (at most {self.max_queued}); try again "
                "when one has finished"
            )

    def add(self, job, user: str, replicates: int) -> bool:
        """Register another kind of job (a "+N" job: anything with ``key``, ``users`` and ``active``) under the
        same limits as runs; False when the same job is already going (the user joins it); QueueFull else."""
        with self._lock:
            going = self.jobs.get(job.key)
            if going is not None and going.active:
                going.users.add(user)
                return False
            self.check_room(user, replicates)
            self.jobs[job.key] = job
            return True

    def write(self, function, *args) -> None:
        """Write a job's results (tables and charts): on a local worker, which shares this machine's folders,
        else in the server's own process under a lock (matplotlib's pyplot is not thread-safe)."""
        if self.write_on_workers:
            self.executor.submit(function, *args).result()
        else:
            with self._write_lock:
                function(*args)

    def cancel(self, key: str) -> None:
        """Stop a job: running replicates at their next simulated year, queued ones before they start."""
        job = self.jobs.get(key)
        if job is None or not job.active:
            return
        (job.job_dir / CANCEL).touch()
        for future in job.futures:
            future.cancel()

    def _finish(self, job: Job, command: list[str], changes: list[str]) -> None:
        tables, seconds = [None] * len(job.futures), [0.0] * len(job.futures)
        state = "failed"
        try:
            for r, future in enumerate(job.futures):
                tables[r], seconds[r] = future.result()
                job.replicates_done += 1
            wall = time.perf_counter() - job.started
            self.write(write_task, job.scenario, tables, seconds, wall, str(job.folder), command, changes)
            state = "done"
        except BaseException as e:  # noqa: BLE001 - a worker's failure is the job's, never the server's
            cancelled = (job.job_dir / CANCEL).exists()
            job.error = "" if cancelled else f"{type(e).__name__}: {e}".splitlines()[0][:300]
            (job.job_dir / CANCEL).touch()  # a failed replicate stops its siblings too
            for future in job.futures:
                future.cancel()
            for future in job.futures:  # the running ones stop at their next year: wait, so none outlives its job
                try:
                    future.result()
                except BaseException:  # noqa: BLE001, S110 - cancelled or stopped, as asked
                    pass
            state = "cancelled" if cancelled else "failed"
        finally:
            job.seconds = time.perf_counter() - job.started
            shutil.rmtree(job.job_dir, ignore_errors=True)
            job.state = state  # last: once a job is no longer active, nothing of it is left to clean up
