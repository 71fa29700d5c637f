"""Executors: the same results in order or as completed, on one process, local processes or Dask, and
workers that keep BLAS to one thread and leave Ctrl-C to the parent."""

import logging
import math
import signal

import pytest

from sim.analysis.executors import InProcess, LocalProcesses, make_executor


def slow_square(x: int) -> int:
    import time

    time.sleep(0.01 * (x % 3))  # finish out of order
    return x * x


def fails_at_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


def environment(_) -> tuple[bool, int]:
    """Whether Ctrl-C is ignored here, and the most threads any BLAS library may use."""
    from threadpoolctl import threadpool_info

    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN, max(blas, default=1)


@pytest.fixture(scope="module", params=["in-process", "local"])
def executor(request):
    with InProcess() if request.param == "in-process" else LocalProcesses(2) as ex:
        yield ex


def test_map_keeps_the_order_and_as_completed_gives_every_index(executor):
    items = list(range(20))
    assert list(executor.map(slow_square, items, chunksize=3)) == [x * x for x in items]
    done = dict(executor.as_completed(slow_square, items))
    assert done == {i: i * i for i in items}
    assert list(executor.map(slow_square, [])) == []


def test_a_failure_is_raised_and_the_executor_still_works(executor):
    with pytest.raises(ValueError, match="three"):
        list(executor.map(fails_at_three, range(6)))
    with pytest.raises(ValueError, match="three"):
        dict(executor.as_completed(fails_at_three, range(6)))
    assert list(executor.map(slow_square, [2, 3])) == [4, 9]


def test_leaving_early_cancels_the_rest(executor):
    first = next(iter(executor.as_completed(slow_square, range(50))))
    assert first[1] == first[0] ** 2
    assert list(executor.map(slow_square, [5])) == [25]


def test_local_workers_use_one_blas_thread_and_leave_ctrl_c_to_the_parent():
    with LocalProcesses(2) as ex:
        assert set(ex.map(environment, range(4))) == {(True, 1)}
        assert ex.describe() == {"executor": "local processes", "workers": 2}
    with InProcess() as ex:
        assert next(ex.map(environment, [0]))[1] == 1  # one BLAS thread while it runs tasks


def test_make_executor():
    assert isinstance(make_executor(1), InProcess)
    assert isinstance(make_executor(3), LocalProcesses) and make_executor(3).workers == 3
    assert make_executor(None).workers >= 1


def test_dask_map_keeps_the_order():
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        with make_executor(scheduler=cluster.scheduler_address) as ex:
            items = list(range(30, 0, -1))
            assert list(ex.map(math.factorial, items)) == [math.factorial(x) for x in items]
            assert dict(ex.as_completed(math.factorial, items)) == {i: math.factorial(x) for i, x in enumerate(items)}
            assert ex.describe()["workers"] == 2


def test_a_dask_worker_that_joined_later_is_asked_by_its_first_task_and_refused_in_one_line():
    """A worker that joins after the start (a new `dask worker`) was not asked which code it runs: its first task
    asks, and runs nothing on code other than the client's. Simulated by a client that believes itself at
    another commit."""
    from dask.distributed import LocalCluster

    from sim.analysis.executors import ExecutorError, _digest

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        with make_executor(scheduler=cluster.scheduler_address) as ex:
            ex._identity = {**ex._identity, "code": {**ex._identity["code"], "git_commit": "0" * 40}}
            ex._digest = _digest(ex._identity)
            for run in (lambda: list(ex.map(abs, [-1, -2])), lambda: dict(ex.as_completed(abs, [-1, -2]))):
                with pytest.raises(ExecutorError) as refused:
                    run()
                message = str(refused.value)
                assert "\n" not in message
                assert f"--scheduler = '{cluster.scheduler_address}': worker tcp://" in message
                assert "runs other code than this client" in message and " against sim " in message
                assert " 0000000000" in message and message.endswith("; start the workers from the same installation")
