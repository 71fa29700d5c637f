"""What a newcomer met in the app (issue 29), in a real browser (headless Chromium, as tests/test_app_browser.py):
two downloads pressed at once both arrive, the share link is a full address, the Chinese font is there
before 中文 is pressed, legends are whole, nothing covers a download button, and the page asks nothing of
the internet (no mermaid.js). Skipped where Chromium is not installed, except in CI."""

import json
import os

import pytest
from app_driver import have_chromium

if not have_chromium():
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need chromium and chromium-driver (apt-get install them; .ci/run does)")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from app_driver import chart_shown, chromium, run_and_wait, start_app, status, tab, text, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

FONT_LOADED = """return [...document.fonts].some(f => f.family.replace(/"/g, '') === 'Sim Noto Sans SC'
                                                   && f.status === 'loaded')"""
LINK = "?from=scenario%3Atianjin-14th-fyp&set=scale%3D10"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runs = tmp_path_factory.mktemp("app-runs")
    process, url = start_app(runs)
    yield url, runs
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert "Traceback" not in output, output


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path)
    yield driver
    driver.quit()


def responses(d) -> tuple[list[str], list[str]]:
    """The URLs the page asked for, and those answered with an error or not answered (with why)."""
    urls, bad, by_id = [], [], {}
    for entry in d.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
            by_id[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.responseReceived" and params["response"]["status"] >= 400:
            bad.append(f"{params['response']['url']}: {params['response']['status']}")
        elif message["method"] == "Network.loadingFailed" and params["requestId"] in by_id:
            if not params.get("canceled"):
                bad.append(f"{by_id[params['requestId']]}: {params.get('errorText', '')}")
    return [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))], bad


def opened_with_results(d, url: str) -> None:
    d.get(url + LINK)
    wait(lambda: "scale=10" in text(d) and any(w in status(d) for w in ("Stored results", "Done in", "Not run yet")))
    if "Not run yet" in status(d):
        run_and_wait(d)
    tab(d, "Results")
    wait(lambda: chart_shown(d, "older_people"))


def test_the_page_is_whole_offline_and_its_link_is_a_full_address(server, browser):
    url, _ = server
    d = browser
    opened_with_results(d, url)

    # the Chinese font is loaded for the 中文 button before anything is pressed (no Chinese font is needed
    # on the machine: the app serves Noto Sans SC)
    wait(lambda: d.execute_script(FONT_LOADED))

    # the share link: this server's full address, which reopens the scenario
    tab(d, "Scenario")
    link = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-scenario a.share-link").text)
    assert link.startswith(url + "?") and "tianjin-14th-fyp" in link and "scale" in link, link
    assert d.find_element(By.CSS_SELECTOR, ".page-scenario a.share-link").get_attribute("href") == link

    # nothing asked of the internet, nothing refused: no mermaid.js from a CDN (Solara's Markdown loaded it)
    tab(d, "Results")
    wait(lambda: chart_shown(d, "older_people"))
    urls, bad = responses(d)
    host = url.split("//")[1]
    assert urls and all(u.split("//")[1].startswith(host) for u in urls), [u for u in urls if host not in u]
    assert not [u for u in urls if "mermaid" in u]
    assert not bad, bad

    # nothing covers a download button: the element at each one's centre is the button (Solara's badge is off)
    assert "runs on Solara" not in text(d)
    buttons = wait(lambda: d.find_elements(By.CSS_SELECTOR, ".page-results .downloads button"))
    for button in buttons:
        d.execute_script("arguments[0].scrollIntoView({block: 'end'})", button)
        at_centre = """const r = arguments[0].getBoundingClientRect();
            const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return arguments[0].contains(e)"""
        assert d.execute_script(at_centre, button), button.text
    d.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    corner = d.execute_script(
        "const e = document.elementFromPoint(window.innerWidth - 60, window.innerHeight - 20); return e.outerHTML"
    )
    assert "solara.dev" not in corner


def test_a_second_download_waits_while_the_report_is_made_and_both_arrive(server, browser):
    url, _ = server
    d = browser
    opened_with_results(d, url)

    def button(label):
        found = [b for b in d.find_elements(By.CSS_SELECTOR, ".page-results .downloads button") if b.text == label]
        return found[-1] if found else None  # the report's PDF (the chart's format button comes first)

    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", wait(lambda: button("PDF")))
    button("PDF").click()
    # while the PDF is made, the page says so and the other buttons are off (a browser keeps only the first
    # of two files arriving at once)
    making = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-results .making").text)
    assert "report_en.pdf" in making, making
    assert not button("CSV").is_enabled()
    report = wait(lambda: next(iter(d.downloads.glob("*_report_en.pdf")), None))
    wait(lambda: button("CSV").is_enabled())
    button("CSV").click()
    summary = wait(lambda: next(iter(d.downloads.glob("*_summary.csv")), None))
    wait(lambda: report.read_bytes().rstrip().endswith(b"%%EOF"))
    assert report.read_bytes().startswith(b"%PDF")
    assert "indicator" in summary.read_text(encoding="utf-8").splitlines()[0].split(",")


def test_behind_a_root_path_the_font_and_the_share_link_are_under_it(tmp_path_factory, browser):
    runs = tmp_path_factory.mktemp("app-runs-root")
    process, url = start_app(runs, 1, "--root-path", "/sim")
    try:
        d = browser
        d.get(url + "sim/?from=region%3Atianjin")
        link = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-scenario a.share-link").text)
        assert link.startswith(url + "sim/?from=region"), link
        wait(lambda: d.execute_script(FONT_LOADED))  # Noto Sans SC from /sim/static/..., 中文 not pressed
        urls, bad = responses(d)
        assert not bad, bad
        fonts = [u for u in urls if u.endswith(".otf")]
        assert fonts and all(u.startswith(url + "sim/static/") for u in fonts), fonts  # what a proxy forwards
    finally:
        process.terminate()
        assert "Traceback" not in process.communicate(timeout=20)[0]


def test_chart_legends_are_whole_in_rows_below_the_chart(server):
    """Every name of an overlaid chart's legend whole (wrapped, not cut or paged), and the chart tall enough
    for its rows (the runs of the tests above, or one made here)."""
    from sim.app.panels import legend_height, panel_height, panel_option
    from sim.results.folder import Run

    url, runs = server
    folders = [p.parent for p in (runs / "app").glob("*/manifest.json")]
    if not folders:
        d = chromium(runs.parent / "legend-browser")
        try:
            opened_with_results(d, url)
        finally:
            d.quit()
        folders = [p.parent for p in (runs / "app").glob("*/manifest.json")]
    run = Run.load(folders[0])
    single = panel_option("demand_capacity", [run], "en")
    overlaid = panel_option("demand_capacity", [run] * 4, "zh")
    for option in (single, overlaid):
        legend = option["legend"]
        assert legend.get("type", "plain") == "plain" and legend["orient"] == "vertical"
        assert legend["textStyle"]["overflow"] == "break"  # long names wrap, never "truncate"
        assert option["grid"]["bottom"] >= legend_height(legend["data"])
    assert len(overlaid["legend"]["data"]) == 4 * len(single["legend"]["data"])
    assert panel_height(overlaid) > panel_height(single) + 3 * 16 * len(single["legend"]["data"])
