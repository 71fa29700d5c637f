"""sim app: the scenario explorer served to browsers."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    app,
    at_least,
    console,
    fail,
)
from sim.common.errors import show


@app.command("app")
def app_(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    runs: Annotated[Path, typer.Option(help="Results folder: runs are stored in RUNS/app/<hash>.")] = Path("runs"),
    scenarios: Annotated[Path, typer.Option(help="Folder of scenario files offered as starting points.")] = Path(
        "scenarios"
    ),
    region_files: Annotated[
        Path | None, typer.Option(help="Folder of your own cities' region files (sim region-template).")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Run on a Dask cluster: the scheduler's address.")] = None,
    per_user: Annotated[int, typer.Option(help="Runs one user may have queued or running at once.")] = 2,
    max_replicates: Annotated[int, typer.Option(help="Replicates one run may ask for.")] = 20,
    max_queued: Annotated[int, typer.Option(help="Runs queued or running at once, all users together.")] = 16,
    max_search_runs: Annotated[
        int, typer.Option(help="Model runs one 'Find a plan' search may spend (its budgets are offered up to this).")
    ] = 3000,
    emulator: Annotated[
        list[Path] | None,
        typer.Option(
            help="An emulator folder (sim emulate) whose scenario gets an emulated preview of the key charts as "
            "levers move; repeat for several."
        ),
    ] = None,
    root_path: Annotated[
        str, typer.Option(help="Path a reverse proxy serves the app under, e.g. /sim (default: the site's root).")
    ] = "",
) -> None:
    """The scenario explorer in the browser: pick a region and a plan, change the levers, run, compare,
    download; for one planner, or a bureau's server with many users."""
    import socket

    from sim.analysis.executors import ExecutorError, available_cores
    from sim.app.server import AppConfig, serve

    if not 1 <= port <= 65535:
        fail(f"--port = {port}: must be from 1 to 65535")
    at_least("--workers", workers, 1)
    at_least("--per-user", per_user, 1)
    at_least("--max-replicates", max_replicates, 1)
    at_least("--max-queued", max_queued, 1)
    at_least("--max-search-runs", max_search_runs, 4)  # one generation of the smallest search: 4 plans, 1 run each
    if root_path and not re.fullmatch(r"(/[\w.~-]+)+", root_path):
        fail(f"--root-path = {show(root_path)}: must be a path like /sim (letters, digits, '-', '_', '.', '~')")
    for option, folder in (("--scenarios", scenarios), ("--region-files", region_files)):
        if folder is not None and not folder.is_dir():
            fail(f"{option} = '{folder}': not a folder")
    runs.mkdir(parents=True, exist_ok=True) if runs.parent.is_dir() else None
    if not runs.is_dir() or not os.access(runs, os.W_OK):
        fail(f"--runs = '{runs}': not a writable folder")
    previews = load_previews(emulator or [])
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a port just left is free
        try:
            probe.bind((host, port))
        except OSError as e:
            fail(f"--port = {port}: cannot listen on {host}:{port} ({e.strerror or e}); choose another port")
    config = AppConfig(
        runs, scenarios, region_files, workers or available_cores(), scheduler, per_user, max_replicates, max_queued,
        max_search_runs, root_path, previews,
    )  # fmt: skip
    console.print(f"sim app on http://{host}:{port}/ (runs in {runs / 'app'}; Ctrl-C stops it)")
    try:
        serve(host, port, config)
    except ExecutorError as e:
        fail(str(e))


def load_previews(folders: list[Path]) -> tuple:
    """Every --emulator folder loaded before the server listens; one line and exit 2 for one that cannot be used."""
    from sim.analysis.emulator import EmulatorError
    from sim.analysis.preview import Preview

    previews = []
    for folder in folders:
        try:
            previews.append(Preview.load(folder))
        except EmulatorError as e:
            fail(f"--emulator = '{folder}': {str(e).removeprefix(f'{folder}: ')}")
    return tuple(previews)
