"""``sim app``: the Solara server of the scenario explorer, for one planner or a bureau.

Solara's front end is served from this package (``assets/cdn``, see its README) and its usage telemetry
is off, so the app works with no internet. Runs go to one queue for every user (``RunQueue``) over the
executor sweeps use: local worker processes, or a Dask cluster with ``--scheduler``.

Every request goes through one door (``Door``) before Solara sees it: only the routes the app's pages use
are answered (its page, Solara's websocket and static files, the front end's files read-only from
``assets/cdn``); a header cannot move the app's root path (fixed at start, ``--root-path``) or its
address; a request line longer than ``MAX_URL`` is refused before it is read. What the server writes goes
under its runs folder (IPython's folder included).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).parent / "assets" / "cdn"
MAX_URL = 16_384  # bytes of a request's path and query: a link's changes take a few hundred


@dataclass
class AppConfig:
    runs: Path = Path("runs")
    scenarios: Path = Path("scenarios")
    region_files: Path | None = None
    workers: int = 1
    scheduler: str | None = None
    per_user: int = 2
    max_replicates: int = 20  # replicates of one run a user may ask for
    max_queued: int = 16  # runs queued or running on the server at once, all users together
    max_search_runs: int = 3000  # model runs one "Find a plan" search may spend
    root_path: str = ""  # where a reverse proxy serves the app, e.g. /sim
    previews: tuple = ()  # emulators (sim.analysis.preview.Preview) loaded at start, for the Scenario page's preview


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
        _QUEUE = RunQueue(
            CONFIG.runs, executor, CONFIG.per_user, CONFIG.max_replicates, CONFIG.max_queued, CONFIG.max_search_runs
        )
    return _QUEUE


def solara_environment(config: AppConfig) -> None:
    """Solara reads its settings from the environment when it is imported: set them first."""
    os.environ["SOLARA_APP"] = "sim.app.pages"
    os.environ["SOLARA_MODE"] = "production"
    os.environ["SOLARA_ASSETS_PROXY"] = "True"  # the pages ask this server for the front end (the Door serves it)
    os.environ["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(ASSETS)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_CHECK_VERSION"] = "False"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"  # its corner badge covered the download buttons
    # what the server and its libraries keep (IPython's folder for Solara's kernels, Solara's server id,
    # matplotlib's and the Chinese font's caches) goes in the runs folder, never in the home folder
    state = config.runs / "app" / ".state"
    for name in ("ipython", "solara", "matplotlib", "cache"):
        (state / name).mkdir(parents=True, exist_ok=True)
    os.environ["IPYTHONDIR"] = str(state / "ipython")
    os.environ["SOLARA_HOME"] = str(state / "solara")
    os.environ["SOLARA_TELEMETRY_SERVER_USER_ID"] = "sim-app"  # no id file to write: telemetry is off anyway
    os.environ["MPLCONFIGDIR"] = str(state / "matplotlib")
    os.environ["SIM_CACHE_DIR"] = str(state / "cache")
    from sim.outputs.fonts import source_font

    # /static/assets/NotoSansSC-Regular.otf: the Chinese web font of the pages (see pages.STYLE)
    os.environ["SOLARA_ASSETS_EXTRA_LOCATIONS"] = str(source_font().parent)


# The routes the app's pages use (method, path pattern); anything else gets 404 before Solara sees it.
ROUTES = (
    ({"GET", "HEAD"}, re.compile(r"/")),  # the page (its link's query is the draft)
    ({"GET", "HEAD"}, re.compile(r"/readyz")),  # liveness, for a bureau's monitoring
    ({"GET", "HEAD"}, re.compile(r"/static/.+")),  # Solara's own files and the font (read-only)
    ({"GET", "HEAD"}, re.compile(r"/jupyter/nbextensions/.+")),  # the widgets' code, from installed packages
    ({"GET", "HEAD"}, re.compile(r"/_solara/cdn/.+")),  # the front end: answered by the Door from assets/cdn
    ({"POST"}, re.compile(r"/_solara/api/close/[\w-]+")),  # a page closed: its session ends
    ({"WEBSOCKET"}, re.compile(r"/jupyter/api/kernels/[\w-]+/[\w-]+")),  # the page's connection
)


class Door:
    """The ASGI app in front of Solara's: answers only ``ROUTES``, serves the front end read-only, fixes
    the root path whatever a request's headers say, and refuses over-long request lines."""

    def __init__(self, solara_app, root_path: str):
        self.solara_app = solara_app
        self.root_path = root_path
        self.assets = ASSETS.resolve()

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):  # lifespan: Solara's start and stop
            return await self.solara_app(scope, receive, send)
        method = "WEBSOCKET" if scope["type"] == "websocket" else scope["method"]
        path = scope["path"]
        if self.root_path and path.startswith(self.root_path + "/"):
            path = path[len(self.root_path) :]
        if len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") > MAX_URL:
            return await self._refuse(scope, receive, send, 414)
        if not any(method in methods and pattern.fullmatch(path) for methods, pattern in ROUTES):
            return await self._refuse(scope, receive, send, 404 if method != "WEBSOCKET" else 403)
        # the root path is the server's, never a request's: drop the headers Solara would take it from
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"script-name", b"x-script-name")]
        scope = dict(scope, headers=headers, root_path=self.root_path, path=self.root_path + path)
        if path.startswith("/_solara/cdn/"):
            return await self._asset(path.removeprefix("/_solara/cdn/"), scope, receive, send)
        return await self.solara_app(scope, receive, send)

    async def _asset(self, name: str, scope, receive, send):
        """A file of the front end, read-only: a regular file inside ``assets/cdn`` or 404 (never fetched
        from the internet, never written or deleted, whatever the path)."""
        from urllib.parse import unquote

        from starlette.responses import FileResponse

        path = (self.assets / unquote(name)).resolve()
        if not (path.is_relative_to(self.assets) and path.is_file()):
            return await self._refuse(scope, receive, send, 404)
        await FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})(scope, receive, send)

    @staticmethod
    async def _refuse(scope, receive, send, status: int):
        from starlette.responses import PlainTextResponse

        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await PlainTextResponse({404: "not found", 414: "request too long"}.get(status, "refused"), status)(
            scope, receive, send
        )


def asgi_app(config: AppConfig):
    """Solara's app behind the Door, its root path and address fixed from the configuration."""
    import solara.server.settings as settings
    from solara.server.starlette import app as solara_app

    settings.main.root_path = config.root_path  # set, so Solara never takes it from a request's headers
    settings.main.base_url = f"http://localhost{config.root_path}/"  # likewise (Solara uses it for warnings)
    return Door(solara_app, config.root_path)


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
    solara_environment(config)
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    queue()  # an unreachable scheduler fails here, before the server listens
    uvicorn.run(
        asgi_app(config),
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=4 * 2**20,
        h11_max_incomplete_event_size=MAX_URL + 16_384,  # request line and headers
        proxy_headers=False,  # the address a user sees is the server's; a proxy in front says so with --root-path
    )
