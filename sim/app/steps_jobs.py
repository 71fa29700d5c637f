""" "+N" jobs on the app's queue: the plan run with one lever raised or lowered by given steps, as ``sim steps``
runs it (``sim.analysis.steps``: the same replicates and seeds in the plan and every step, so a difference is
the lever's, not the draw's), on the server's executor and under its limits (a user's jobs at once, replicates
per run, everyone's jobs), stored in ``RUNS/app/steps/<key>/`` (steps.csv, manifest.json, the chart in English
and Chinese) by the content of the plan, the lever and the steps, so the same question opens at once.

The steps a user types are read here, each refused in one line in their language: not a step, more than
``MAX_STEPS``, or one that would take the lever out of its range.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.analysis.steps import NUMERIC, STEP, Step, StepsError, measured, parse_steps, stepped, table
from sim.app.jobs import RunQueue, content_key
from sim.app.texts import t
from sim.catalogues.levers import lever_catalogue
from sim.results.files import MANIFEST
from sim.scenario import Scenario

FOLDER = "steps"
MAX_STEPS = 4  # a "+N" question is a few steps (+10%, +20%, +30%); more is `sim steps`' work
MIN_REPLICATES = 2  # as `sim steps`: the change is told with its 5th-95th percentiles, P(met) as a share


class StepsInputError(ValueError):
    """Steps a user typed that cannot be taken; the message is one line in the user's language."""


def step_levers() -> list[str]:
    """The levers a step can raise or lower: the catalogue's numeric ones."""
    return [k for k, lever in lever_catalogue().levers.items() if lever.type in NUMERIC]


def read_steps(text: str, scenario: Scenario, lever: str, lang: str) -> list[Step]:
    """The steps in ``text`` (``+10%, +20%, +5000``), each checked against the plan; StepsInputError (one line)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise StepsInputError(t("steps_none", lang))
    for part in parts:
        found = STEP.match(part)
        if found is None or float(found.group(2)) == 0:
            raise StepsInputError(t("steps_bad", lang, step=part[:40]))
    if len(parts) > MAX_STEPS:
        raise StepsInputError(t("steps_many", lang, n=len(parts), most=MAX_STEPS))
    if scenario.replicates < MIN_REPLICATES:
        raise StepsInputError(t("steps_replicates", lang, n=scenario.replicates, least=MIN_REPLICATES))
    steps = parse_steps(parts)
    for step in steps:
        try:
            stepped(scenario, lever, step)
        except StepsError:
            label = lever_catalogue()[lever].label(lang)
            raise StepsInputError(t("steps_range", lang, step=step.text, lever=label)) from None
    return steps


def steps_key(scenario: Scenario, lever: str, steps: list[Step]) -> str:
    made_of = "|".join([content_key(scenario), lever, *(s.text for s in steps)])
    return "steps-" + hashlib.sha256(made_of.encode()).hexdigest()[:20]


@dataclass
class StepsJob:
    key: str
    scenario: Scenario
    lever: str
    steps: list[Step]
    folder: Path
    users: set[str] = field(default_factory=set)
    state: str = "queued"
    error: str = ""
    done: int = 0
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    futures: list = field(default_factory=list)
    thread: threading.Thread | None = None  # collects the runs and writes the answer

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def total(self) -> int:
        return (len(self.steps) + 1) * self.scenario.replicates

    def status(self) -> str:
        started = self.done or any(getattr(f, "running", lambda: False)() for f in self.futures)
        return "running" if self.state == "queued" and started else self.state

    def progress(self) -> float:
        """Share of the runs (plan and steps, every replicate) done; the last 5% is writing the table and chart."""
        return 1.0 if self.state == "done" else min(0.95, 0.95 * self.done / self.total)

    def cancel(self) -> None:
        """Stop the runs not started (a started replicate finishes: they are short, a few simulated years)."""
        if self.active:
            self.state = "cancelled"
            for future in self.futures:
                future.cancel()


def stored(folder: Path) -> bool:
    return (folder / "steps.csv").is_file() and (folder / MANIFEST).is_file()


def submit_steps(queue: RunQueue, scenario: Scenario, lever: str, steps: list[Step], user: str) -> StepsJob:
    """The job answering this question: done at once when stored, the one going when another user asked the
    same, else a new one on the queue's executor. QueueFull (one line) past the server's limits."""
    key = steps_key(scenario, lever, steps)
    folder = queue.store / FOLDER / key
    job = StepsJob(key, scenario, lever, steps, folder, {user})
    if stored(folder):
        job.state = "done"
        return job
    if not queue.add(job, user, scenario.replicates):
        return queue.job(key)
    scenarios = {"plan": scenario} | {s.text: stepped(scenario, lever, s) for s in steps}
    tasks = [(name, r) for name in scenarios for r in range(scenario.replicates)]
    job.futures = [queue.executor.submit(measured, scenarios[name], r) for name, r in tasks]
    job.thread = threading.Thread(target=finish, args=(queue, job, list(scenarios), tasks), daemon=True)
    job.thread.start()
    return job


def finish(queue: RunQueue, job: StepsJob, names: list[str], tasks: list[tuple[str, int]]) -> None:
    found: dict[tuple[str, int], dict] = {}
    state = "failed"
    try:
        for task, future in zip(tasks, job.futures, strict=True):
            found[task] = future.result()
            job.done += 1
        if job.state == "cancelled":  # every run had started before Cancel: they ended, nothing is stored
            raise RuntimeError("cancelled")
        frame = table(job.scenario, names, found)
        record = steps_record(job, queue.executor.describe())
        queue.write(write_steps, frame, record, str(job.folder))
        state = "done"
    except BaseException as e:  # noqa: BLE001 - a worker's failure is the job's, never the server's
        if job.state == "cancelled":
            state = "cancelled"
        else:
            job.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        for future in job.futures:
            future.cancel()
    finally:
        job.seconds = time.perf_counter() - job.started
        job.state = state


def steps_record(job: StepsJob, executor: dict) -> dict:
    """The manifest, as ``sim steps`` writes it (with the command that makes the same table)."""
    from sim.data.vintage import data_vintage
    from sim.results.runs import code_version

    s = job.scenario
    record_steps = [p.text for p in job.steps]
    return {
        "scenario": s.model_dump(mode="json"),
        "lever": job.lever,
        "steps": record_steps,
        "seed": s.seed,
        "replicates": s.replicates,
        "common_random_numbers": "every step runs replicates 0..R-1 with SeedSequence(seed, spawn_key=(r,))",
        "executor": executor,
        "code": code_version(),
        "data_vintage": data_vintage(s.region, s.base_year, s.calibration, s.region_file),
        "command": [
            "sim",
            "steps",
            f"{s.name}.yaml",
            "--lever",
            job.lever,
            f"--by={','.join(p.text for p in job.steps)}",
        ],
    }


def write_steps(frame, record: dict, folder: str) -> None:
    """steps.csv, manifest.json and the chart in both languages, swapped in whole (on a worker when local)."""
    import matplotlib.pyplot as plt

    from sim.outputs.charts import save
    from sim.outputs.steps_chart import steps_figure
    from sim.results.files import replace_folder, write_json

    with replace_folder(Path(folder), marker="steps.csv") as tmp:
        frame.to_csv(tmp / "steps.csv", index=False, float_format="%.6g")
        write_json(tmp / MANIFEST, record)
        for language in ("en", "zh"):
            figure = steps_figure(frame, record, language)
            save(figure, tmp / f"steps_{language}.png")
            plt.close(figure)
