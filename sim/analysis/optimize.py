"""`sim optimize`: the plans that meet a problem's targets at the least cost (``sim.analysis.problem``), found
by NSGA-II (pymoo, in ask-and-tell mode, constraint-dominance for the targets) over the problem's levers.

Each candidate plan is run on the same random streams (common random numbers: replicate r of every plan
uses the problem's seed and stream r, and so the same ensemble member), a few runs first
(``replicates.first``). More runs (``replicates.step`` at a time, up to ``replicates.most``) go only where
they can change the front: to a plan whose feasibility is undecided (no target's Clopper-Pearson interval of
P(met) wholly below p, some target's straddling it) and that no feasible plan beats on the first runs. A plan
clearly missing a target, or beaten, keeps its first runs and is never reported feasible. Plans are compared
by the search on their first runs (the same streams for all); the front reports each plan's estimates over
all its runs. A candidate's objectives are the mean (or quantile) over its runs; its constraint for each
target is p - P(met).

Every run is stored as it finishes (``sim.analysis.sweep.RunStore``: one Parquet part per task, renamed into
place), through the executor sweeps use (this process, local processes or a Dask cluster). The search itself
is replayed from the start on --resume: pymoo's random generator is seeded by the problem, a run is a pure
function of (plan, replicate), and so the same candidates are asked in the same order, stored runs answer
them and only the missing ones run. A killed search resumed gives the same front, bit for bit, on any
number of workers.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np

from sim.analysis.executors import Executor, ExecutorError, make_executor
from sim.analysis.plan_estimate import Estimate, estimate
from sim.analysis.problem import Problem
from sim.analysis.sweep import RunError, RunStore
from sim.results.files import MANIFEST, OutputError, check_output_dir, write_json, write_text

RUNS = "runs"
ERRORS = "errors"
RUNS_PER_TASK = 4  # the most a kill loses per worker


class OptimizeError(Exception):
    """A search that cannot be started, resumed or finished as asked; the message is one line."""


@dataclass(frozen=True)
class Job:
    """What every run shares (sent with each task): the problem and the seed of its streams."""

    problem: Problem
    seed: int


def run_task(job: Job, task: list[tuple[int, int, tuple]]) -> list[tuple]:
    """Worker side: (plan, replicate, lever values) -> (plan, replicate, seconds, outcome ...)."""
    import traceback

    from sim.analysis.outcomes import read_outcomes
    from sim.model.model import AgeingModel

    readers = tuple(o.reader for o in job.problem.objectives) + job.problem.target_readers
    rows = []
    for plan, replicate, values in task:
        start = time.perf_counter()
        try:
            model = AgeingModel(job.problem.plan_scenario(values, seed=job.seed), replicate)
            model.run()
            outcomes = read_outcomes(model.record, readers)
        except Exception as e:
            message = f"plan {plan}, replicate {replicate}: {type(e).__name__}: {' '.join(str(e).split())}"
            raise RunError(message, plan, replicate, f"{message}\n\n{traceback.format_exc()}") from None
        rows.append((plan, replicate, time.perf_counter() - start, *outcomes))
    return rows


@dataclass
class Search:
    """The state of one search: the plans asked so far and the runs each needs."""

    problem: Problem
    stored: dict[tuple[int, int], tuple]  # (plan, replicate) -> outcomes
    codes: dict[int, set] = field(default_factory=dict)  # plan -> the plan codes stored with its runs
    plans: dict[tuple, int] = field(default_factory=dict)  # a plan's key -> its number
    values: list[tuple] = field(default_factory=list)  # by number: each lever's {level, profile}
    need: dict[int, int] = field(default_factory=dict)  # plan -> runs it needs
    requested: int = 0  # runs the search has asked for (stored before or not): what the budget counts
    generations: list[list[int]] = field(default_factory=list)  # the plans asked in each generation
    runs_by_generation: list[int] = field(default_factory=list)  # runs requested by the end of each

    def plan_of(self, x: np.ndarray) -> int:
        values = self.problem.decode(x)
        key = tuple((v["level"], v["profile"]) for v in values)
        if key not in self.plans:
            number = len(self.values)
            if number in self.codes and self.codes[number] != {self.problem.plan_code(values)}:
                raise OptimizeError(
                    f"the stored runs of plan {number} are of another plan than this search asks (a search started by "
                    "another version of sim?); it cannot be resumed: choose another --out"
                )
            self.plans[key] = number
            self.values.append(values)
        return self.plans[key]

    estimates: dict[tuple[int, int], Estimate] = field(default_factory=dict)  # (plan, runs) -> its estimate

    def outcomes(self, plan: int, runs: int | None = None) -> np.ndarray:
        return np.array([self.stored[plan, r] for r in range(runs or self.need[plan])], dtype=float)

    def estimate(self, plan: int, runs: int | None = None) -> Estimate:
        """From the plan's runs so far, or from its first ``runs``."""
        key = (plan, runs or self.need[plan])
        if key not in self.estimates:
            self.estimates[key] = estimate(self.problem, self.outcomes(*key))
        return self.estimates[key]

    def screening(self, plan: int) -> np.ndarray:
        """The plan's objectives on the first runs every plan has (the same streams for all: common random
        numbers), signed to be minimised: what plans are compared on while the search runs."""
        return self.estimate(plan, self.problem.spec.search.replicates.first).objectives * self.problem.signs

    def settled(self, plan: int) -> bool:
        """Its feasibility decided, or as many runs as a plan gets."""
        return self.need[plan] >= self.problem.spec.search.replicates.most or not self.undecided(plan)

    def feasible(self, plan: int) -> bool:
        """Settled, and every target met in at least the required share of its runs. A plan left unsettled
        because a feasible plan beat it on the first runs (``beaten``) is not reported as feasible."""
        p = self.problem.spec.constraints.probability
        return self.settled(plan) and bool(np.all(self.estimate(plan).probability >= p))

    def beaten(self, plan: int, feasible: list[int]) -> bool:
        """Whether one of the feasible plans is at least as good on every objective and better on one, on the
        first runs: then no number of runs can make the plan part of the front, and none are spent on it."""
        if not feasible:
            return False
        mine, theirs = self.screening(plan), np.array([self.screening(q) for q in feasible if q != plan])
        return bool(len(theirs) and np.any(np.all(theirs <= mine, axis=1) & np.any(theirs < mine, axis=1)))

    def undecided(self, plan: int) -> bool:
        """Whether more runs could change the plan's feasibility: no target is clearly missed (its interval
        wholly below p: the plan is infeasible whatever the others do) and some target's interval straddles p."""
        p = self.problem.spec.constraints.probability
        e = self.estimate(plan)
        return bool(np.all(e.high >= p) and np.any(e.low < p))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_folder(out: Path, problem: Problem, resume: bool) -> dict | None:
    """The stored manifest to resume, None for a new search; OptimizeError if the folder is not a search of
    this problem, or holds one and --resume was not given."""
    from sim.data.regions import data_file_hashes

    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        try:
            check_output_dir(out)
        except OutputError as e:
            raise OptimizeError(str(e)) from None
        return None
    try:
        stored = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        stored = None
    if not isinstance(stored, dict) or stored.get("kind") != "optimize":
        raise OptimizeError(f"{out}: exists and is not a search folder of this tool; choose another --out")
    if not resume:
        raise OptimizeError(
            f"{out}: holds a search already ({stored.get('status')}); add --resume or choose another --out"
        )
    if stored.get("problem_sha256") != problem.fingerprint():
        raise OptimizeError(f"{out}: the stored search is of another problem; a changed problem cannot be resumed")
    if stored.get("data_files_sha256") != data_file_hashes():
        raise OptimizeError(f"{out}: the packaged data changed since the search started; it cannot be resumed")
    return stored


def new_manifest(problem: Problem) -> dict:
    from sim.data.regions import data_file_hashes
    from sim.results.runs import environment

    return {
        "kind": "optimize",
        "name": problem.name,
        "status": "running",
        "problem_file": str(problem.path),
        "problem_sha256": problem.fingerprint(),
        "scenario": problem.spec.scenario,
        "seed": problem.spec.seed,
        "streams": "run (plan, replicate r): the model's replicate r of the problem's seed (common random numbers); "
        "verification: replicate r of SeedSequence(seed, spawn_key=(2**32, 7))",
        "resolved": problem.resolved(),
        "data_files_sha256": data_file_hashes(),
        "environment": environment(),
        "created_utc": _now(),
        "sessions": [],
    }


class Runner:
    """Runs what the store lacks on the executor, storing each task's rows as it finishes."""

    def __init__(
        self,
        job: Job,
        store: RunStore,
        stored: dict,
        executor: Executor,
        session: dict,
        number: int,
        out: Path,
        progress: Callable[[int], None] | None,
    ):
        self.job, self.store, self.stored, self.executor = job, store, stored, executor
        self.session, self.number, self.out, self.progress = session, number, out, progress
        self.tasks = 0

    def run(self, wanted: list[tuple[int, int, tuple]]) -> None:
        todo = [w for w in wanted if (w[0], w[1]) not in self.stored]
        size = max(1, min(RUNS_PER_TASK, math.ceil(len(todo) / max(1, self.executor.workers * 2))))
        tasks = [todo[i : i + size] for i in range(0, len(todo), size)]
        try:
            for _, rows in self.executor.as_completed(partial(run_task, self.job), tasks):
                values = {plan: v for plan, _, v in wanted}
                coded = [(*row, *self.job.problem.plan_code(values[row[0]])) for row in rows]
                self.store.append(coded, self.number, self.tasks)
                self.tasks += 1
                for plan, replicate, _seconds, *outcomes in rows:
                    self.stored[plan, replicate] = tuple(outcomes)
                self.session["runs_done"] += len(rows)
                if self.progress:
                    self.progress(len(rows))
        except RunError as e:
            self.session["error"] = str(e)
            (self.out / ERRORS).mkdir(exist_ok=True)
            details = write_text(self.out / ERRORS / f"plan-{e.point}-replicate-{e.replicate}.txt", e.details)
            raise SearchFailed(f"a run failed: {e}; its traceback is in {details}") from None
        except ExecutorError as e:
            self.session["error"] = str(e)
            raise SearchFailed(f"{e}; the finished runs are stored: continue with --resume") from None


class SearchFailed(OptimizeError):
    """A run failed or the workers were lost; the runs finished before are stored."""


def evaluate_generation(search: Search, ids: list[int], runner: Runner) -> None:
    """Run the generation's plans: ``first`` replicates each, then ``step`` more, round by round, for those
    whose feasibility is undecided (``Search.undecided``) and that no feasible plan beats on the first runs
    (``Search.beaten``), until none is left or they have ``most`` (or the budget is spent). A plan beaten only
    by another undecided plan that meets every target so far waits: if that one proves feasible, the plan's
    feasibility cannot matter; if not, the plan's turn comes. Runs go where they decide the front."""
    spec = search.problem.spec.search
    p = search.problem.spec.constraints.probability
    fresh = [i for i in dict.fromkeys(ids) if i not in search.need]
    for plan in fresh:
        search.need[plan] = spec.replicates.first
        search.requested += spec.replicates.first
    batch = fresh
    while batch:
        runner.run([(q, r, search.values[q]) for q in batch for r in range(search.need[q])])
        open_ = [q for q in fresh if search.need[q] < spec.replicates.most and search.undecided(q)]
        feasible = [q for q in search.need if search.feasible(q)]
        hopeful = [q for q in open_ if bool(np.all(search.estimate(q).probability >= p))]
        batch = []
        for plan in open_:
            step = min(spec.replicates.step, spec.replicates.most - search.need[plan])
            if search.requested + step <= spec.runs and not search.beaten(plan, feasible + hopeful):
                search.need[plan] += step
                search.requested += step
                batch.append(plan)


def nsga2(problem: Problem, generations: int):
    """NSGA-II (pymoo, ask-and-tell) over the problem's variables, and its search space. The first generation:
    the starting plan, the ends of the box (every lever at the low end of its range, then at the high end:
    NSGA-II's operators seldom reach a bound, and the front often ends on one), and random others, from a
    generator of the problem's seed."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.termination.max_gen import MaximumGenerationTermination

    spec = problem.spec.search
    space = PymooProblem(
        n_var=problem.variables, n_obj=len(problem.objectives), n_ieq_constr=len(problem.targets), xl=0.0, xu=1.0
    )
    first = np.random.default_rng(problem.spec.seed).random((spec.population, problem.variables))
    first[0] = problem.start_point()
    first[1], first[2] = 0.0, 1.0
    algorithm = NSGA2(pop_size=spec.population, sampling=first, eliminate_duplicates=True)
    algorithm.setup(space, termination=MaximumGenerationTermination(generations), seed=problem.spec.seed)
    return algorithm, space


def tell(algorithm, space, population, objectives: np.ndarray, probabilities: np.ndarray) -> None:
    """Give NSGA-II a generation's answers: objectives signed to be minimised, and per target p - P(met)
    (feasible when <= 0: constraint-dominance)."""
    from pymoo.core.evaluator import Evaluator
    from pymoo.problems.static import StaticProblem

    answers = {"F": np.where(np.isfinite(objectives), objectives, np.finfo(float).max / 1e6)}
    if space.n_ieq_constr:
        answers["G"] = probabilities
    Evaluator().eval(StaticProblem(space, **answers), population)
    algorithm.tell(infills=population)


def search_plans(search: Search, runner: Runner) -> None:
    """NSGA-II, asked and told generation by generation until the generations or the run budget are spent."""
    problem = search.problem
    spec = problem.spec.search
    algorithm, space = nsga2(problem, spec.generations)
    p = problem.spec.constraints.probability
    for _ in range(spec.generations):
        if search.requested + spec.population * spec.replicates.first > spec.runs:
            break
        population = algorithm.ask()
        ids = [search.plan_of(x) for x in population.get("X")]
        search.generations.append(ids)
        evaluate_generation(search, ids, runner)
        estimates = [search.estimate(i) for i in ids]
        objectives = np.array([search.screening(i) for i in ids])
        tell(algorithm, space, population, objectives, np.array([p - e.probability for e in estimates]))
        search.runs_by_generation.append(search.requested)


@dataclass
class SearchResult:
    out: Path
    search: Search
    runs_now: int
    wall_seconds: float
    manifest: dict


def run_search(
    problem: Problem,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    command: list[str] | None = None,
    executor: Executor | None = None,
) -> SearchResult:
    """The search (resumed from what is stored), on ``executor`` if given (left open: the app's serves others
    too), else on one made from ``workers`` or ``scheduler``; nothing is written before the folder is checked
    and the executor reached. An exception raised by ``progress`` stops the search (the app's Cancel): the
    runs finished are stored, and a search resumed goes on from them."""
    from sim.results.runs import code_version

    start = time.perf_counter()
    out = Path(out)
    stored_manifest = check_folder(out, problem, resume)
    with open_executor(executor, workers, scheduler) as executor:
        manifest = stored_manifest or new_manifest(problem)
        out.mkdir(parents=True, exist_ok=True)
        store = RunStore(out / RUNS, store_columns(problem))
        store.clean()
        stored, codes = read_store(store, problem)
        for earlier in manifest["sessions"]:
            if "wall_seconds" not in earlier:
                earlier["interrupted"] = True  # killed: it could not record its end
        session = {
            "started_utc": _now(),
            **executor.describe(),
            "runs_stored_before": len(stored),
            "runs_done": 0,
            "command": command,
            "code": code_version(),
        }
        manifest["sessions"].append(session)
        manifest["code"] = session["code"]
        write_json(out / MANIFEST, manifest)
        search = Search(problem, stored, codes)
        runner = Runner(
            Job(problem, problem.spec.seed),
            store,
            stored,
            executor,
            session,
            len(manifest["sessions"]) - 1,
            out,
            progress,
        )
        session_start = time.perf_counter()
        try:
            search_plans(search, runner)
        finally:
            session["wall_seconds"] = round(time.perf_counter() - session_start, 3)
            write_json(out / MANIFEST, manifest)
    return SearchResult(out, search, session["runs_done"], time.perf_counter() - start, manifest)


def open_executor(executor: Executor | None, workers: int | None, scheduler: str | None):
    """The executor given, left open when done (it is its owner's), or a new one, shut down when done."""
    if executor is not None:
        return contextlib.nullcontext(executor)
    try:
        return make_executor(workers, scheduler)
    except ExecutorError as e:
        raise OptimizeError(str(e)) from None


def verification_seed(seed: int) -> int:
    """Fresh streams for verification: other random draws and other ensemble members than the search's."""
    from sim.analysis.design import stream_int

    return stream_int(seed, (2**32, 7))


def verify_plans(
    result: SearchResult,
    plans: list[int],
    workers: int | None,
    scheduler: str | None,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> dict[int, Estimate]:
    """Each plan re-run ``verify.runs`` times on fresh streams (stored in DIR/verify, resumed like the
    search); its estimates. ``executor``: as for ``run_search``."""
    problem = result.search.problem
    runs = problem.spec.verify.runs
    store = RunStore(result.out / "verify", store_columns(problem))
    store.clean()
    stored, _ = read_store(store, problem)
    session = result.manifest["sessions"][-1]
    session.setdefault("verification_runs_done", 0)
    counter = {"runs_done": 0}
    with open_executor(executor, workers, scheduler) as executor:
        runner = Runner(
            Job(problem, verification_seed(problem.spec.seed)),
            store,
            stored,
            executor,
            counter,
            len(result.manifest["sessions"]) - 1,
            result.out,
            progress,
        )
        runner.run([(p, r, result.search.values[p]) for p in plans for r in range(runs)])
    session["verification_runs_done"] += counter["runs_done"]
    write_json(result.out / MANIFEST, result.manifest)
    return {p: estimate(problem, np.array([stored[p, r] for r in range(runs)], dtype=float)) for p in plans}


def store_columns(problem: Problem) -> list[str]:
    """A stored run's columns after its plan, replicate, session and seconds: its outcomes (objectives, then
    the targets' indicators), then its plan as numbers (``Problem.plan_code``)."""
    outcomes = [o.reader.name for o in problem.objectives] + [r.name for r in problem.target_readers]
    return outcomes + problem.code_columns()


def read_store(store: RunStore, problem: Problem) -> tuple[dict, dict]:
    """(plan, replicate) -> outcomes, and plan -> the plan codes stored with its runs (one, unless the store
    holds runs of another search)."""
    width = len(problem.objectives) + len(problem.target_readers)
    stored, codes = {}, {}
    for row in store.read().itertuples(index=False, name=None):
        stored[int(row[0]), int(row[1])] = tuple(row[4 : 4 + width])
        codes.setdefault(int(row[0]), set()).add(tuple(row[4 + width :]))
    return stored, codes
