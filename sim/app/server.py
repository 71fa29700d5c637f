"""``sim app``: the Solara server of the scenario explorer, for one planner or a bureau.

Solara's front end is served from this package (``assets/cdn``, see its README) and its usage telemetry
is off, so the app works with no internet. Runs go to one queue for every user (``RunQueue``) over the
executor sweeps use: local worker processes, or a Dask cluster with ``--scheduler``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).parent / "assets" / "cdn"


@dataclass
class AppConfig:
    runs: Path = Path("runs")
    scenarios: Path = Path("scenarios")
    region_files: Path | None = None
    workers: int = 1
    scheduler: str | None = None
    per_user: int = 2


CONFIG = AppConfig()
_QUEUE = None


def queue():
    """The server's one run queue, started at first use."""
    global _QUEUE
    if _QUEUE is None:
        from sim.analysis.executors import DaskCluster, LocalProcesses
        from sim.app.jobs import RunQueue

        # never in the server's own process: a run there would hold up every user's page
        # local workers a little below the server's priority: pages stay quick while runs go on
        executor = DaskCluster(CONFIG.scheduler) if CONFIG.scheduler else LocalProcesses(CONFIG.workers, niceness=5)
        if isinstance(executor, LocalProcesses):  # start the workers (and import the model) before the first run
            for _ in range(executor.workers):
                executor.submit(int)
        _QUEUE = RunQueue(CONFIG.runs, executor, CONFIG.per_user)
    return _QUEUE


def solara_environment() -> None:
    """Solara reads its settings from the environment when it is imported: set them first."""
    os.environ["SOLARA_APP"] = "sim.app.pages"
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SOLARA_ASSETS_PROXY"] = "True"
    os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(ASSETS)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_CHECK_VERSION"] = "False"
    from sim.outputs.fonts import source_font

    # /static/assets/NotoSansSC-Regular.otf: the Chinese web font of the pages (see pages.STYLE)
    os.environ["SOLARA_ASSETS_EXTRA_LOCATIONS"] = str(source_font().parent)


def serve(host: str, port: int, config: AppConfig) -> None:
    """Serve until interrupted (the caller has checked the options)."""
    import logging

    import uvicorn

    # the app's own lines (pages drawn, runs, failures with their tracebacks) on the server's console
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    app_log = logging.getLogger("sim.app")
    app_log.addHandler(handler)
    app_log.setLevel(logging.INFO)
    global CONFIG
    CONFIG = config
    solara_environment()
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    queue()  # an unreachable scheduler fails here, before the server listens
    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning", ws_max_size=4 * 2**20)
