"""The app's state: per browser session (Solara's reactive variables: the language, the draft being
edited, messages, the run followed, the results shown, the comparison, the page), the places a draft may
read, and handlers that never show a traceback."""

from __future__ import annotations

import functools
import logging
import time

import solara

from sim.app import server
from sim.app.drafts import UPLOADS, Draft, Places
from sim.app.texts import t

log = logging.getLogger("sim.app")


MAX_COMPARED = 4  # scenarios besides the baseline


POLL_SECONDS = 0.25


asked_at: dict[str, float] = {}  # session -> when it asked for a page: the server's time to draw it, logged


def session_id() -> str:
    try:
        return solara.get_session_id()
    except Exception:  # noqa: BLE001 - outside a browser session (tests of the pages)
        return ""


def show(folder: str | None) -> None:
    """Show a run's results (drawn at once, out of sight if the user is on another page)."""
    if folder is not None and folder != shown.value:
        asked_at[f"results {session_id()}"] = time.perf_counter()
    shown.set(folder)


lang = solara.reactive("en")


draft: solara.Reactive[Draft | None] = solara.reactive(None)


field_errors: solara.Reactive[dict[str, str]] = solara.reactive({})


notice = solara.reactive("")  # a one-line message for the page (queue full, link refused, ...)


upload_error = solara.reactive("")  # why an uploaded file was refused, shown under the drop zone


job_key: solara.Reactive[str | None] = solara.reactive(None)


shown: solara.Reactive[str | None] = solara.reactive(None)  # results folder on show


compared: solara.Reactive[list[str]] = solara.reactive([])  # results folders, the first the baseline


tab = solara.reactive(0)


visited = solara.reactive(frozenset({0}))  # pages opened in this session: drawn, and kept drawn


opened_sections = solara.reactive(frozenset({"beds"}))


# --- running ------------------------------------------------------------------------------------------
job_view = solara.reactive(("", 0.0))  # the followed job's status and progress, as last seen


explain_page = solara.reactive(0)


def places() -> Places:
    """What this server's drafts may read: its scenario files, its users' region files, its uploads."""
    config = server.CONFIG
    return Places(config.scenarios, config.region_files, config.runs / "app" / UPLOADS)


def guarded(action):
    """An event handler that never shows a traceback: an unexpected failure is logged, and said in one line."""

    @functools.wraps(action)
    def run(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the user gets one line; the server log the traceback
            log.exception("app action %s failed", action.__name__)
            notice.set(t("internal", lang.value, what=f"{type(e).__name__}: {str(e)[:120]}"))

    return run
