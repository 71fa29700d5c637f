"""Loaded into the test's Dask workers (`dask worker --preload tests/dask_hold.py`, with SIM_TEST_HOLD naming
a folder): holds a worker at a moment a test chose, so that the test can kill it exactly then, whatever the
machine's speed.

A test names a moment by creating the file MOMENT in that folder (its text: how many calls to let through
first, default none). The first worker to reach that moment takes the file (a rename: one worker only),
writes MOMENT.held (its process id and address) and waits there until the test kills it or removes
MOMENT.held. A worker restarted by its nanny finds no file and carries on.
"""

import importlib
import json
import os
import time
from pathlib import Path

# where each moment is: the function a worker is running then
MOMENTS = {
    "check": ("sim.analysis.executors", "_start_worker"),  # the client's code check (and a first task)
    "task": ("sim.analysis.sweep", "run_task"),  # a sweep task, before its runs
    "evaluation": ("sim.analysis.evaluation", "_run"),  # one run of an evaluation's ensemble
    "calibration": ("sim.analysis.fitting", "_objective_job"),  # one candidate of a calibration
    "province": ("sim.analysis.national", "run_province"),  # one province of a region made of regions
}
CALLS: dict[str, int] = {}


def _hold(moment: str, address: str) -> None:
    folder = Path(os.environ["SIM_TEST_HOLD"])
    CALLS[moment] = CALLS.get(moment, 0) + 1
    try:
        text = (folder / moment).read_text()
    except FileNotFoundError:
        return
    if CALLS[moment] <= int(text or 0):
        return
    try:
        os.rename(folder / moment, folder / f"{moment}.taken")
    except FileNotFoundError:  # another worker took it
        return
    held = folder / f"{moment}.held"
    (folder / f"{moment}.tmp").write_text(json.dumps({"pid": os.getpid(), "address": address}))
    os.replace(folder / f"{moment}.tmp", held)  # whole when the test sees it
    while held.exists():
        time.sleep(0.05)


def _holding(moment: str, function, address: str):
    def held(*args, **kwargs):
        _hold(moment, address)
        return function(*args, **kwargs)

    return held


def dask_setup(worker) -> None:
    for moment, (module_name, name) in MOMENTS.items():
        module = importlib.import_module(module_name)
        setattr(module, name, _holding(moment, getattr(module, name), worker.address))
