"""The scenario explorer's pages (Solara): pick a region and a starting scenario, change the levers, run,
read the results, compare scenarios, download, find the cheapest plan meeting the targets, and read how the
model works. The page and its tabs are here; picking and editing in ``editing``, running in ``running``,
results and comparisons in ``results_view``, finding a plan in ``optimize_view``, the session's state in
``state``.

State is per browser session (Solara's reactive variables); runs are the server's (``server.queue()``).
Every field is checked with the command line's own code: a value that makes the scenario invalid is
refused beside the field with the command line's one-line message, and the scenario stays as it was.
Nothing a user does shows a traceback: an unexpected failure is logged on the server and reported in
one line.
"""

from __future__ import annotations

import time
from pathlib import Path

import markdown
import solara

from sim.app import server
from sim.app.drafts import Draft
from sim.app.editing import Changes, Picker, Section, lever_sections, open_draft
from sim.app.optimize_view import PlanTab
from sim.app.preview_view import PreviewPanel
from sim.app.results_view import CompareTab, ResultsTab
from sim.app.running import RunControls
from sim.app.state import asked_at, draft, explain_page, guarded, lang, log, notice, places, session_id, tab, visited
from sim.app.texts import FONTS, t
from sim.common.errors import ScenarioError

EXPLAIN = Path(__file__).parent / "explain"


@solara.component
def ScenarioTab(language: str):
    with solara.Columns([1, 2]):
        with solara.Column():
            Picker(language)
            if draft.value is not None:
                RunControls(language)
                Changes(language)
        with solara.Column():
            if draft.value is not None:
                PreviewPanel(language)
                for section, fields in lever_sections().items():
                    Section(section, fields, language)
                Section("targets", [], language)


EXPLAIN_PAGES = ("model", "data", "calibration", "limitations")


@solara.component
def ExplainTab(language: str):
    TabBar([t(f"explain_{p}", language) for p in EXPLAIN_PAGES], explain_page, "explain-tabs")
    path = EXPLAIN / language / f"{EXPLAIN_PAGES[explain_page.value]}.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    solara.HTML("div", markdown.markdown(text, extensions=["tables"]), classes=["explain"])


STYLE = """
@font-face { font-family: "Sim Noto Sans SC"; font-display: swap;
  src: url("/static/assets/NotoSansSC-Regular.otf") format("opentype");
  unicode-range: U+2E80-2FFF, U+3000-303F, U+3400-9FFF, U+F900-FAFF, U+FF00-FFEF, U+2014, U+2018-201D; }
body, body *:not([class*="mdi"]):not(.fa):not([class*="fa-"]) { font-family: FONTS !important; }
table.key-numbers, table.targets, table.differences { border-collapse: collapse; font-size: 0.85em; }
table.key-numbers td, table.key-numbers th, table.targets td, table.targets th,
table.differences td, table.differences th { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: right; }
.explain { max-width: 860px; line-height: 1.55; padding-left: 8px; }
.explain ol, .explain ul { padding-left: 2em; }
.explain table { border-collapse: collapse; } .explain td, .explain th { border: 1px solid #ccc; padding: 2px 6px; }
pre.command, a.share-link { font-size: 0.8em; white-space: pre-wrap; word-break: break-all; }
"""


@solara.component
def Page():
    router = solara.use_router()
    language = lang.value
    started = solara.use_memo(time.perf_counter, [])

    def opened():
        log.info("session's first page drawn on the server in %.3f s", time.perf_counter() - started)

    solara.use_effect(opened, [])

    def open_link():
        if draft.value is None and router.search:
            try:
                linked = Draft.from_query(router.search, places())
            except ScenarioError as e:
                notice.set(str(e))
                return
            if linked is not None:
                open_draft(linked)

    solara.use_effect(guarded(open_link), [])
    # the font from under the root path fixed at start (an address from the host's root was not found behind
    # a proxy serving the app under --root-path, and Chinese showed as empty boxes)
    solara.Style(STYLE.replace("FONTS", FONTS).replace('url("/static/', f'url("{server.CONFIG.root_path}/static/'))
    solara.Title(t("app_title", language))
    with solara.AppBar():
        solara.AppBarTitle(t("app_title", language))
        names = {"English": "en", "中文": "zh"}
        solara.ToggleButtonsSingle(
            value=next(k for k, v in names.items() if v == language),
            values=list(names),
            on_value=lambda name: lang.set(names[name]),
            classes=["language"],
            dense=True,
        )
    if notice.value:
        solara.Error(notice.value, classes=["notice"])

    def drawn():
        asked = asked_at.pop(session_id(), None)
        if asked is not None:
            log.info("page %d drawn on the server in %.3f s", tab.value, time.perf_counter() - asked)

    solara.use_effect(drawn)
    pages = [("tab_scenario", ScenarioTab), ("tab_results", ResultsTab), ("tab_compare", CompareTab)]
    pages += [("tab_plan", PlanTab), ("tab_explain", ExplainTab)]
    TabBar([t(key, language) for key, _ in pages], tab, "main-tabs")
    # every page stays drawn, the others moved out of sight (with their size, so their charts draw): results
    # opened or finished while the user is on another page are ready when they switch to them
    seen = visited.value | {tab.value}
    if seen != visited.value:
        visited.set(seen)
    for i, (key, content) in enumerate(pages):
        if i not in seen and key != "tab_results":  # a page not yet opened is not drawn (results always are)
            continue
        where = (
            "" if i == tab.value else "position: absolute; left: -30000px; top: 0; width: 1360px; visibility: hidden"
        )
        with solara.Column(classes=[f"page-{key.removeprefix('tab_')}"], style=where):
            Guarded(content, language)


@solara.component
def Guarded(content, language: str):
    """A page that cannot show a traceback: a failure while drawing it (a results folder removed on the
    server, say) is logged, and the user reads one line and can go on."""
    exception, clear = solara.use_exception()
    if exception is None:
        content(language)
        return
    log.error("app page failed: %s", exception, exc_info=exception)
    first = (str(exception).splitlines() or [""])[0][:120]
    solara.Error(t("internal", language, what=f"{type(exception).__name__}: {first}"), classes=["notice"])
    solara.Button("OK", on_click=clear)


@solara.component
def TabBar(names: list[str], current: solara.Reactive[int], css: str):
    """A row of tabs (buttons: Solara's lab tabs do not lay their pages out under Vuetify 3)."""
    with solara.Row(classes=[css], style={"border-bottom": "1px solid #ddd", "margin-bottom": "12px"}):
        for i, name in enumerate(names):
            solara.Button(
                name,
                text=True,
                on_click=lambda i=i: (asked_at.__setitem__(session_id(), time.perf_counter()), current.set(i)),
                color="primary" if i == current.value else None,
                classes=["tab", "tab-active" if i == current.value else "tab-idle"],
                style={"border-bottom": "3px solid" if i == current.value else "none", "border-radius": "0"},
            )
