"""Where work runs: in this process, on a pool of local worker processes, or on the workers of a Dask
distributed cluster. Sweeps (``sim sweep``) and fits (``sim calibrate``, ``sim validate-fit``) use the
same executors.

Every executor offers two ways to run a function over items:

- ``map(fn, items)``: the results in the order of the items (what differential evolution needs), as
  they become available;
- ``as_completed(fn, items)``: (index, result) pairs as each finishes (what a run store needs);
- ``submit(fn, *args)``: one task, as a future with ``result()``, ``done()`` and ``cancel()`` (what the
  app's queue of runs from many users needs).

A failure in ``fn`` is raised by the iteration; leaving an iteration early cancels what has not started.
An executor is a context manager: leaving it shuts the workers down (without waiting for running tasks
if it is left by an exception, e.g. Ctrl-C).

Local workers are started fresh (``spawn``), never forked: forking a process that has started numba's or
BLAS's threads can deadlock, and spawn works the same on every platform. Every process that runs tasks
keeps BLAS to one thread: the model's linear algebra is on 5 x 5 matrices, and on a busy machine an
extra BLAS thread spinning for a core made a run's matrix exponential take 0.8 s instead of 0.6 ms.
Local workers ignore Ctrl-C (the parent handles it: a sweep stores what is finished) and exit if their
parent dies, instead of waiting for tasks forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, ProcessPoolExecutor
from functools import partial
from typing import Any

START_METHOD = "spawn"
DASK_CONNECT_SECONDS = 10
# A scheduler with no worker is waited on this long for one to join (at the start, or after all were lost):
# time for a nanny to restart a killed worker or a batch job to start one; then one line, exit code 2
WORKER_WAIT_SECONDS = 60
WORKER_POLL_SECONDS = 0.1  # how often the scheduler is asked for its workers during that wait
WATCH_SECONDS = 1.0  # while tasks are awaited, how often to make sure the scheduler still has a worker
ORPHAN_CHECK_SECONDS = 1.0


class ExecutorError(Exception):
    """An executor that cannot be started, e.g. an unreachable scheduler; the message is one line."""


def available_cores() -> int:
    """The cores this process may use (where the platform says; not on macOS), else all of them."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores or 1


def _one_blas_thread() -> None:
    """Import the model (and with it numpy's and scipy's BLAS: a limit holds only for libraries loaded),
    then limit BLAS to one thread for good."""
    from threadpoolctl import threadpool_limits

    import sim.model.model  # noqa: F401

    threadpool_limits(1)


def _worker_start(niceness: int = 0) -> None:
    """Each local worker, once: ignore Ctrl-C, stop when orphaned, the model imported, one BLAS thread; at a
    lower priority by ``niceness`` (the app's workers yield to the pages its users are waiting for)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    _one_blas_thread()


class Executor:
    """The common interface; ``workers`` is how many tasks run at once."""

    workers: int = 1

    def describe(self) -> dict:
        """What ran the work, for a manifest."""
        raise NotImplementedError

    def map(self, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
        """``fn(item)`` for every item, yielded in the order of ``items``; ``chunksize`` items are sent to a
        worker at a time where that saves overhead (local processes)."""
        raise NotImplementedError

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        """(index, ``fn(item)``) for every item, in the order they finish."""
        raise NotImplementedError

    def submit(self, fn: Callable, *args):
        """``fn(*args)`` as a future (``result()``, ``done()``, ``cancel()``)."""
        raise NotImplementedError

    def close(self, wait: bool = True) -> None:
        """Release the workers; ``wait=False`` does not wait for running tasks."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.close(wait=kind is None)


class InProcess(Executor):
    """Runs every task in this process, one after the other, with one BLAS thread while it does."""

    def describe(self) -> dict:
        return {"executor": "in-process", "workers": 1}

    def map(self, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
        for _, result in self.as_completed(fn, items):
            yield result

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        from threadpoolctl import threadpool_limits

        import sim.model.model  # noqa: F401  (its BLAS libraries loaded, so that the limit holds for them)

        with threadpool_limits(1):
            for i, item in enumerate(items):
                yield i, fn(item)


class LocalProcesses(Executor):
    """A pool of ``workers`` processes on this machine, started at first use and kept until closed."""

    def __init__(self, workers: int, niceness: int = 0):
        self.workers = workers
        self.niceness = niceness
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> dict:
        return {"executor": "local processes", "workers": self.workers}

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context(START_METHOD)
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_worker_start, initargs=(self.niceness,)
            )
        return self._pool

    def map(self, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
        yield from self.pool().map(fn, items, chunksize=chunksize)  # cancels the rest if left early

    def submit(self, fn: Callable, *args):
        return self.pool().submit(fn, *args)

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        from concurrent.futures import as_completed

        pool = self.pool()
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None


class DaskCluster(Executor):
    """The workers of a Dask distributed scheduler (they need this package installed).

    Workers may be lost at any moment (a killed process, its machine gone) and others may join (a nanny
    restarting the one it watches, a new ``dask worker``). At the start every worker is asked which code
    and data it runs: one that answers with others is refused (ExecutorError, one line), one lost while
    asked is skipped. A worker that joins later is asked by its first task, which refuses to run on other
    code. Tasks of a lost worker are run again by the others (Dask does this), and a result lost with its
    worker before it was fetched is computed again. With no worker at all, at the start or later, the
    executor waits up to WORKER_WAIT_SECONDS for one to join, then stops with ExecutorError.
    """

    def __init__(self, address: str):
        from dask.distributed import Client

        self.address = address
        logging.getLogger("distributed.client").addFilter(_quiet_refetch)
        try:
            self.client = Client(address, timeout=DASK_CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutorError(f"--scheduler = {address!r}: cannot connect ({type(e).__name__}: {e})") from None
        try:
            self._identity = _code_and_data()  # the client's, and so what every worker must run
            self._digest = _digest(self._identity)
            threads = self._check_workers()
        except BaseException:
            self.client.close()
            raise
        self.workers = sum(threads.values())

    def _check_workers(self) -> dict[str, int]:
        """Ask every worker which code and data it runs; refuse one that answers with others than the
        client's, skip one lost while asked; wait for one that answers. Returns the threads of each."""
        deadline = time.monotonic() + WORKER_WAIT_SECONDS
        lost: set[str] = set()
        while True:
            threads = self._live_workers(deadline, lost)
            answers = self.client.run(_start_worker, workers=sorted(threads), on_error="return")
            for worker, answer in sorted(answers.items()):
                if isinstance(answer, OSError):  # no answer: the worker died or cannot be reached
                    lost.add(worker)
                elif isinstance(answer, BaseException):
                    raise ExecutorError(
                        f"--scheduler = {self.address!r}: worker {worker} cannot run this client's code "
                        f"({type(answer).__name__}: {_one_line(answer)}); start the workers from the same installation"
                    )
                elif answer != self._identity:
                    raise ExecutorError(self._other_code(worker, answer))
            answered = {w: n for w, n in threads.items() if w in answers and w not in lost}
            if answered:
                return answered

    def _live_workers(self, deadline: float, lost: set[str]) -> dict[str, int]:
        """The scheduler's workers (address: threads) but those found lost; while it has none, wait for one
        to join until ``deadline`` (asking the scheduler every WORKER_POLL_SECONDS, as Dask's own
        ``wait_for_workers`` does), then ExecutorError."""
        while True:
            threads = {w: n for w, n in self.client.nthreads().items() if w not in lost}
            if threads:
                return threads
            if time.monotonic() > deadline:
                raise ExecutorError(self._no_worker())
            time.sleep(WORKER_POLL_SECONDS)

    def _no_worker(self) -> str:
        return (
            f"--scheduler = {self.address!r}: no worker (none joined within {WORKER_WAIT_SECONDS} s); "
            f"start workers with `dask worker {self.address}` from this installation"
        )

    def _other_code(self, worker: str, found: dict) -> str:
        mine = self._identity
        what = "code" if found["code"] != mine["code"] else "packaged data"
        return (
            f"--scheduler = {self.address!r}: worker {worker} runs other {what} than this client "
            f"({_describe_code(found['code'])} against {_describe_code(mine['code'])}); start the workers "
            "from the same installation"
        )

    def _submit_all(self, fn: Callable, items: Iterable) -> list:
        return self.client.map(partial(_checked_task, self._digest, fn), list(items), pure=False)

    def _result(self, future, watch: _Watch) -> Any:
        """A task's result (Dask runs it again if its worker, or the worker holding its result, is lost);
        ExecutorError, one line, for what the workers or the scheduler did rather than the task."""
        from dask.distributed import KilledWorker

        try:
            return future.result()
        except OtherCode as e:
            raise ExecutorError(self._other_code(e.worker, e.found)) from None
        except KilledWorker:
            raise ExecutorError(
                f"--scheduler = {self.address!r}: one task was running on each of several workers when they "
                "died (it may use more memory than a worker has); see the workers' logs"
            ) from None
        except (CancelledError, OSError) as e:
            if future.status == "error":  # the task's own OSError
                raise
            raise ExecutorError(watch.reason or self._lost_scheduler(e)) from None

    def _lost_scheduler(self, error: BaseException) -> str:
        return (
            f"--scheduler = {self.address!r}: lost the scheduler ({type(error).__name__}: {_one_line(error)}); "
            "start it and its workers again"
        )

    def describe(self) -> dict:
        # what the start learned: asking the workers again could fail on one lost since
        return {
            "executor": "dask",
            "scheduler": self.address,
            "workers": self.workers,
            "worker_code": [self._identity["code"]],  # every worker answered with it, or was refused
        }

    def map(self, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
        futures = self._submit_all(fn, items)
        with _Watch(self, futures) as watch:
            del futures  # the watch holds those not fetched yet
            for key in list(watch.pending):
                yield self._result(watch.pending[key], watch)
                watch.fetched(key)

    def submit(self, fn: Callable, *args):
        return self.client.submit(_checked_task, self._digest, fn, *args, pure=False)

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        futures = self._submit_all(fn, items)
        index = {future.key: i for i, future in enumerate(futures)}
        finished: queue.SimpleQueue = queue.SimpleQueue()
        for future in futures:
            future.add_done_callback(lambda f: finished.put(f.key))  # also when the watch cancels it
        with _Watch(self, futures) as watch:
            del futures
            for _ in range(len(index)):
                key = finished.get()
                yield index[key], self._result(watch.pending[key], watch)
                watch.fetched(key)

    def close(self, wait: bool = True) -> None:
        self.client.close()


class _Watch:
    """While a DaskCluster's tasks are awaited: a thread that makes sure the scheduler has a worker to run
    them. With none for WORKER_WAIT_SECONDS, or the scheduler lost, it cancels the tasks not fetched yet (that
    ends any wait for them) and ``reason`` says why. Leaving the watch cancels what was not fetched."""

    def __init__(self, cluster: DaskCluster, futures: list):
        self.cluster = cluster
        self.pending = {future.key: future for future in futures}  # a fetched result is let go: see fetched()
        self.reason: str | None = None
        self._lock = threading.Lock()  # pending is changed by the caller's thread, read by the watch's
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._cancel()

    def fetched(self, key) -> None:
        """Its result is here: the cluster may forget it (a worker lost later has nothing to run again)."""
        with self._lock:
            del self.pending[key]

    def _cancel(self) -> None:
        from distributed.client import ClosedClientError

        with self._lock:
            futures = list(self.pending.values())
        try:
            if futures:
                self.cluster.client.cancel(futures)
        except (ClosedClientError, OSError):  # the client gave the lost scheduler up: nothing runs to cancel
            pass

    def _watch(self) -> None:
        since = None  # when the scheduler was first seen without a worker
        while not self._stop.wait(WORKER_POLL_SECONDS if since else WATCH_SECONDS):
            try:
                workers = self.cluster.client.nthreads()
            except OSError as e:
                self.reason = self.cluster._lost_scheduler(e)
            else:
                if workers:
                    since = None
                    continue
                since = since or time.monotonic()
                if time.monotonic() - since < WORKER_WAIT_SECONDS:
                    continue
                self.reason = self.cluster._no_worker()
            self._cancel()
            return


def _quiet_refetch(record: logging.LogRecord) -> bool:
    """Dask warns when a result was lost with its worker before it was fetched, and runs it again: expected
    here, and the warning would break the one-line messages of `sim`."""
    return not record.getMessage().startswith("Couldn't gather")


class OtherCode(Exception):
    """Raised by a task on a worker that runs other code or data than the client."""

    def __init__(self, worker: str, found: dict):
        super().__init__(worker, found)
        self.worker, self.found = worker, found


def _code_and_data() -> dict:
    """The code and data this process runs."""
    from sim.data.regions import data_file_hashes
    from sim.results.runs import code_version

    return {"code": code_version(), "data": data_file_hashes()}


def _start_worker() -> dict:
    """On a Dask worker, once: one BLAS thread (Dask's nannies set that in the environment, but a worker may
    run without one); returns the code and data it runs."""
    _one_blas_thread()
    return _code_and_data()


def _digest(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


_IDENTITY: dict | None = None  # this worker process's, once its first task has asked


def _checked_task(digest: str, fn: Callable, *args) -> Any:
    """On a Dask worker: ``fn(*args)`` if this worker runs the client's code and data (asked once per process:
    a worker that joined after the client started was not asked then), else OtherCode."""
    global _IDENTITY
    if _IDENTITY is None:
        _IDENTITY = _start_worker()
    if _digest(_IDENTITY) != digest:
        from dask.distributed import get_worker

        raise OtherCode(get_worker().address, _IDENTITY)
    return fn(*args)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _describe_code(code: dict) -> str:
    commit = (code.get("git_commit") or "")[:10]
    return (
        f"sim {code['package']}" + (f" {commit}" if commit else "") + (" with changes" if code.get("git_dirty") else "")
    )


def make_executor(workers: int | None = None, scheduler: str | None = None) -> Executor:
    """A Dask cluster if ``scheduler`` is given; else ``workers`` local processes (default: one per
    available core), or this process for one worker. ExecutorError if the scheduler cannot be reached."""
    if scheduler is not None:
        return DaskCluster(scheduler)
    workers = workers or available_cores()
    return InProcess() if workers == 1 else LocalProcesses(workers)
