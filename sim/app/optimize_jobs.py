""" "Find a plan" jobs on the app's queue: the search for the cheapest plan meeting a scenario's targets
(``sim.analysis.plan_search``), run as ``sim optimize`` runs a problem file (``run_search``, ``finish``, the
charts) on the server's executor and under its limits: the budget at most ``max_search_runs`` model runs, a
plan's runs at most the replicates one run may have, the user's and everyone's jobs at once.

A search is stored in ``RUNS/app/optimize/<key>/`` as ``sim optimize`` stores it (runs, evaluations.csv,
front.csv, verified.csv, cheapest.yaml, charts, manifest.json); the key hashes the problem (its scenario, levers,
budget and seed) with the code and data, so the same question opens at once, and a search cancelled or cut
short by a restart goes on from its stored runs the next time it is asked.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.analysis.plan_search import MOST_REPLICATES, plan_problem
from sim.analysis.problem import Problem
from sim.app.jobs import QueueFull, RunQueue
from sim.catalogues.indicators import LANGS
from sim.outputs.optimize_report import CHARTS
from sim.results.files import MANIFEST
from sim.scenario import Scenario

FOLDER = "optimize"
BUDGETS = (200, 1000, 3000)  # model runs of a search offered: a first look, a usual search, a thorough one


class SearchCancelled(Exception):
    """Raised in a search whose job was cancelled, at the next finished task of its runs."""


def budgets(most: int) -> list[int]:
    """The budgets offered on a server allowing ``most`` runs a search: those within it, and ``most`` itself
    in place of those above."""
    return sorted({min(b, most) for b in BUDGETS})


def search_key(problem: Problem) -> str:
    from sim.data.regions import data_file_hashes
    from sim.results.runs import code_version

    made_of = {
        "problem": problem.fingerprint(),
        "verify": problem.spec.verify.model_dump(),
        "code": code_version(),
        "data": data_file_hashes(),
    }
    return "search-" + hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:20]


def finished(folder: Path) -> bool:
    """A search written to its end: its manifest says so and its charts, drawn last, are there."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    charts = all((folder / "charts" / lang / f"{name}.png").is_file() for lang in LANGS for name in CHARTS)
    return manifest.get("status") in ("complete", "infeasible") and charts


@dataclass
class SearchJob:
    key: str
    problem: Problem
    folder: Path
    users: set[str] = field(default_factory=set)
    state: str = "queued"
    error: str = ""
    done: int = 0  # runs finished in this session (stored ones answer at once and are not counted)
    cancel_asked: bool = False
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Until its thread has ended: a cancelled search still writes its last runs, and the same search asked
        again meanwhile joins it instead of writing beside it."""
        return self.state in ("queued", "running")

    @property
    def total(self) -> int:
        """Runs at most: the search's budget and the verification's."""
        spec = self.problem.spec
        return spec.search.runs + spec.verify.runs * spec.verify.plans

    def status(self) -> str:
        if self.active and self.cancel_asked:
            return "stopping"
        return "running" if self.state == "queued" and self.done else self.state

    def progress(self) -> float:
        """Share of the runs at most done; the last 5% is the tables and charts."""
        return 1.0 if self.state == "done" else min(0.95, 0.95 * self.done / self.total)

    def cancel(self) -> None:
        """Stop at the next finished task (a task's few runs end; those not started are dropped)."""
        if self.active:
            self.cancel_asked = True

    def advance(self, runs: int) -> None:
        self.done += runs
        if self.cancel_asked:
            raise SearchCancelled()


def submit_search(queue: RunQueue, scenario: Scenario, runs: int, user: str) -> SearchJob:
    """The job finding a plan for the scenario with a budget of ``runs``: done at once when stored, the one
    going when another user asked the same, else a new one. QueueFull (one line) past the server's limits,
    checked before any work; ProblemError (one line) for a scenario that cannot be searched."""
    if runs > queue.max_search_runs:
        most = queue.max_search_runs
        raise QueueFull(f"runs = {runs}: a search on this server spends at most {most}; more with `sim optimize`")
    problem = plan_problem(scenario, runs, min(queue.max_replicates, MOST_REPLICATES))
    key = search_key(problem)
    folder = queue.store / FOLDER / key
    job = SearchJob(key, problem, folder, {user})
    if finished(folder):
        job.state = "done"
        return job
    if not queue.add(job, user, problem.spec.search.replicates.most):
        return queue.job(key)
    job.thread = threading.Thread(target=search, args=(queue, job), daemon=True, name=f"search-{key}")
    job.thread.start()
    return job


def search(queue: RunQueue, job: SearchJob) -> None:
    """The search, resumed from its stored runs, its tables and the charts (drawn on a worker when local, as
    the app's runs are written)."""
    from sim.analysis.optimize import OptimizeError, run_search
    from sim.analysis.optimum import finish

    state = "failed"
    try:
        if job.folder.exists() and not (job.folder / MANIFEST).is_file():
            shutil.rmtree(job.folder)  # a search killed before its manifest was written: nothing to resume
        resume = (job.folder / MANIFEST).is_file()
        result = run_search(
            job.problem, job.folder, resume=resume, progress=job.advance, executor=queue.executor, command=None
        )
        if job.cancel_asked:
            raise SearchCancelled()
        found = finish(result, progress=job.advance, executor=queue.executor)
        queue.write(draw, result, found, str(job.folder))
        state = "done"
    except SearchCancelled:
        state = "cancelled"
    except OptimizeError as e:
        job.error = str(e).splitlines()[0][:300]
    except BaseException as e:  # noqa: BLE001 - a worker's failure is the job's, never the server's
        job.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
    finally:
        job.seconds = time.perf_counter() - job.started
        job.state = state


def draw(result, found, folder: str) -> None:
    """The search's charts in every language, as `sim optimize` draws them, put in place whole (a search's
    last files: a chart cut short by a kill would pass for a finished search)."""
    from sim.outputs.optimize_charts import save_optimize_charts

    charts, drawing = Path(folder) / "charts", Path(folder) / "charts.drawing"
    shutil.rmtree(drawing, ignore_errors=True)
    save_optimize_charts(result, found, drawing)
    shutil.rmtree(charts, ignore_errors=True)
    drawing.rename(charts)
