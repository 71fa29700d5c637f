"""Benchmark: the browser app under load, as people use it, in real headless Chromium browsers.

    python benchmarks/bench_app.py [--readers 10] [--runners 2] [--workers 2]

Starts `sim app` on 127.0.0.1 with a fresh results folder, and prints:

1. `sim run` of a new Tianjin scenario at the default scale (one agent per person), the whole command,
   for reference;
2. one user: the time to first chart of a stored scenario (from opening its link to its first chart
   drawn, and from pressing Results to the chart), and a new Tianjin run at the default scale (Run pressed
   -> progress shown -> done);
3. the load: ``--readers`` users (each its own browser, so its own session) opening a stored scenario by
   its link and reading its charts, while ``--runners`` users each run a new Tianjin scenario at the
   default scale; every user's times, their median and maximum, and the errors (pages that did not show
   what they should, or a server traceback).

The browsers stand in for the users' own computers, but here they share the server's two cores: they run
at a lower priority (nice 10) than the server and its workers, so that the server's times are measured
rather than those of a machine also drawing twelve pages of charts (times in the browsers still include
their own wait for the CPU).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import app_driver  # noqa: E402
from app_driver import chart_shown, chromium, panel, run_and_wait, start_app, status, tab, text, wait  # noqa: E402

STORED = "?from=scenario%3Atianjin-14th-fyp"  # the plan, at the default scale


def new_run_link(seed: int) -> str:
    return f"?from=region%3Atianjin&set=seed%3D{seed}"


def sim_run_seconds(folder: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "sim"), "run", "scenarios/tianjin-baseline.yaml", "--seed", "424242",
         "--out", str(folder / "cli-run")],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def read_stored(url: str, folder: Path) -> dict:
    """Open the stored scenario's link, then its results: seconds to the first chart."""
    d = chromium(folder)
    try:
        start = time.perf_counter()
        d.get(url + STORED)
        wait(lambda: any(w in status(d) for w in ("Stored results", "Done in")), 600)
        opened = time.perf_counter() - start
        wait(lambda: panel(d, "older_people"), 600)  # drawn, out of sight, as the scenario opens
        drawn = time.perf_counter() - start
        pressed = time.perf_counter()
        tab(d, "Results")
        wait(lambda: chart_shown(d, "older_people"), 600)
        done = time.perf_counter()
        return {"page_to_chart": drawn, "opened": opened, "results_to_chart": done - pressed}
    finally:
        d.quit()


def run_new(url: str, folder: Path, seed: int) -> dict:
    d = chromium(folder)
    try:
        d.get(url + new_run_link(seed))
        wait(lambda: f"seed={seed}" in text(d) and "Not run yet" in status(d), 600)
        start = time.perf_counter()
        progress = run_and_wait(d, 600)
        return {"progress": progress, "run": time.perf_counter() - start}
    finally:
        d.quit()


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            pass
    return found


def server_times(log: str) -> list[tuple[datetime, str, float]]:
    """(time, line, seconds) of the app's timing lines in the server's log ("... drawn on the server in S s")."""
    found = []
    for line in log.splitlines():
        if " drawn on the server in " in line:
            when = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            found.append((when, line, float(line.rsplit(" in ", 1)[1].split()[0])))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--runners", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    app_driver.TIMEOUT = 600.0  # under load a page is slow, not failed: the times are the result
    os.nice(10)  # this process and the browsers it starts; the server is started back at its priority
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"sim run, a new Tianjin scenario at one agent per person (whole command): {sim_run_seconds(tmp):.1f} s")
        process, url = start_app(tmp / "runs", args.workers, niceness=-10)
        try:
            alone = run_new(url, tmp / "first", 1)  # also makes nothing stored: the plan is stored next
            print(
                f"one user, a new Tianjin run: progress after {alone['progress']:.2f} s, done in {alone['run']:.1f} s"
            )
            d = chromium(tmp / "warm")
            d.get(url + STORED)
            wait(lambda: "Not run yet" in status(d) or "Stored" in status(d), 120)
            if "Not run yet" in status(d):
                run_and_wait(d, 600)
            d.quit()
            one = read_stored(url, tmp / "one")
            print(
                f"one user, a stored scenario: link to first chart drawn {one['page_to_chart']:.2f} s "
                f"(page and scenario open {one['opened']:.2f} s; "
                f"Results pressed to chart {one['results_to_chart']:.2f} s)"
            )
            results: dict[str, list] = {"readers": [], "runners": [], "errors": []}

            def user(kind: str, i: int) -> None:
                try:
                    if kind == "readers":
                        results[kind].append(read_stored(url, tmp / f"r{i}"))
                    else:
                        results[kind].append(run_new(url, tmp / f"n{i}", 1000 + i))
                except Exception as e:  # noqa: BLE001 - counted and reported
                    results["errors"].append(f"{kind} {i}: {type(e).__name__}: {e}")

            threads = [threading.Thread(target=user, args=("runners", i)) for i in range(args.runners)]
            threads += [threading.Thread(target=user, args=("readers", i)) for i in range(args.readers)]
            load_started = datetime.now()  # the server's log lines from here on are the load phase's
            workers = children(process.pid)
            cpu_before = cpu_seconds(process.pid), sum(cpu_seconds(w) for w in workers)
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            server_cpu = cpu_seconds(process.pid) - cpu_before[0]
            workers_cpu = sum(cpu_seconds(w) for w in workers) - cpu_before[1]
        finally:
            process.terminate()
            log = process.communicate(timeout=30)[0]
        print(f"load: {args.readers} readers and {args.runners} runners at once, {wall:.1f} s in all")
        print(
            f"  CPU used meanwhile: the server's process {server_cpu:.1f} s, "
            f"its {len(workers)} child processes (the workers) "
            f"{workers_cpu:.1f} s, of {2 * wall:.0f} s on two cores (the rest: the browsers)"
        )
        for key, label in (
            ("page_to_chart", "readers, link to first chart drawn"),
            ("results_to_chart", "readers, Results pressed to chart in sight"),
        ):
            values = sorted(r[key] for r in results["readers"])
            if values:
                print(
                    f"  {label}: median {statistics.median(values):.2f} s, max {values[-1]:.2f} s ({len(values)} users)"
                )
        for key, label in (("progress", "runners, Run to progress"), ("run", "runners, Run to done")):
            values = sorted(r[key] for r in results["runners"])
            if values:
                print(
                    f"  {label}: median {statistics.median(values):.2f} s, max {values[-1]:.2f} s ({len(values)} users)"
                )
        for what in ("session's first page drawn", "results drawn", "page 1 drawn"):
            values = sorted(
                seconds for when, line, seconds in server_times(log) if what in line and when >= load_started
            )
            if values:
                print(
                    f"  server side, {what}: median {statistics.median(values):.3f} s, max {values[-1]:.3f} s "
                    f"({len(values)} times)"
                )
        tracebacks = log.count("Traceback")
        print(f"  errors: {len(results['errors'])} users; server tracebacks: {tracebacks}")
        for e in results["errors"]:
            print("   ", e)


if __name__ == "__main__":
    main()
