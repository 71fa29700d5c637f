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

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

START_METHOD = "spawn"
DASK_CONNECT_SECONDS = 10
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
    """The workers of a Dask distributed scheduler (they need this package installed)."""

    def __init__(self, address: str):
        from dask.distributed import Client

        self.address = address
        try:
            self.client = Client(address, timeout=DASK_CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as e:
            raise ExecutorError(f"--scheduler = {address!r}: cannot connect ({type(e).__name__}: {e})") from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._refuse_other_code(address)
        self.client.run(_one_blas_thread)  # Dask's nannies also start workers with one BLAS thread (env)

    def _refuse_other_code(self, address: str) -> None:
        """Results are those of one version only if every worker runs the client's code and data."""
        from sim.data.regions import data_file_hashes
        from sim.results.runs import code_version

        mine = {"code": code_version(), "data": data_file_hashes()}
        theirs = self.client.run(lambda: {"code": code_version(), "data": data_file_hashes()})
        for worker, found in sorted(theirs.items()):
            if found != mine:
                what = "code" if found["code"] != mine["code"] else "packaged data"
                self.client.close()
                raise ExecutorError(
                    f"--scheduler = {address!r}: worker {worker} runs other {what} than this client "
                    f"({_describe_code(found['code'])} against {_describe_code(mine['code'])}); start the workers "
                    "from the same installation"
                )

    def describe(self) -> dict:
        from sim.results.runs import code_version

        # the code the workers run: results are those of one version only if they all agree
        versions = {json.dumps(v, sort_keys=True) for v in self.client.run(code_version).values()}
        return {
            "executor": "dask",
            "scheduler": self.address,
            "workers": self.workers,
            "worker_code": [json.loads(v) for v in sorted(versions)],
        }

    def map(self, fn: Callable, items: Iterable, chunksize: int = 1) -> Iterator:
        futures = self.client.map(fn, list(items), pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.cancel(futures)

    def submit(self, fn: Callable, *args):
        return self.client.submit(fn, *args, pure=False)

    def as_completed(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        from dask.distributed import as_completed

        futures = self.client.map(fn, list(items), pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield index[future.key], future.result()
        finally:
            self.client.cancel(futures)

    def close(self, wait: bool = True) -> None:
        self.client.close()


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
