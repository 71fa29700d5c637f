"""The app in a real browser: `sim app` started as a user starts it, driven in headless Chromium (Debian's
chromium and chromium-driver) with Selenium. Skipped where Chromium is not installed, except in CI
(`CI` set), where its absence fails."""

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or ""

if not (Path(CHROMIUM).exists() and DRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need chromium and chromium-driver (apt-get install them; .ci/run does)")
    pytest.skip(
        "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    runs = tmp_path_factory.mktemp("app-runs")
    port = free_port()
    sim = Path(sys.executable).parent / "sim"
    process = subprocess.Popen(
        [str(sim), "app", "--port", str(port), "--runs", str(runs), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"sim app did not start: {process.communicate()[0]}")
    yield url, runs
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert "Traceback" not in output, output


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --window-size=1400,1000"
    ).split():
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(tmp_path / "downloads"), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = tmp_path / "downloads"
    yield driver
    driver.quit()


# --- helpers: what a user does --------------------------------------------------------------------------
def text(d) -> str:
    return d.find_element(By.TAG_NAME, "body").text


def wait(condition, seconds: float = 30.0):
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        try:
            found = condition()
        except Exception:  # noqa: BLE001 - the page is still changing
            found = None
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not seen within {seconds} s")


def choose(d, label: str, option: str) -> None:
    """Open the select labelled ``label`` and pick the entry that starts with ``option``."""
    field = f"//label[contains(., '{label}')]/ancestor::div[contains(@class,'v-field')]"
    wait(lambda: d.find_element(By.XPATH, field)).click()

    def entry():
        found = [e for e in d.find_elements(By.CSS_SELECTOR, ".v-overlay .v-list-item") if e.text.startswith(option)]
        return found[0] if found else None

    wait(entry).click()


def tab(d, name: str) -> None:
    wait(lambda: [b for b in d.find_elements(By.CSS_SELECTOR, "button.tab") if b.text.upper() == name.upper()])[
        0
    ].click()


def panel(d, name: str) -> str:
    """What a chart shows: its description (ECharts' aria label lists each series' values)."""
    return wait(lambda: d.find_element(By.CSS_SELECTOR, f".panel-{name} [aria-label]")).get_attribute("aria-label")


def type_into(box, value: str) -> None:
    """Replace a field's text and press Enter, as a person does: the browser sends the text as it is typed,
    and Enter a moment later (at once, Enter can overtake the last keystrokes on their way to the server)."""
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value)
    time.sleep(0.4)
    box.send_keys(Keys.ENTER)


def set_year_value(d, lever: str, value: str) -> None:
    type_into(wait(lambda: d.find_element(By.CSS_SELECTOR, f".lever-{lever} .path-value input")), value)


def run_and_wait(d, seconds: float = 120.0) -> float:
    """Press Run; the seconds until progress shows, then wait for the run to finish."""
    d.find_element(By.CSS_SELECTOR, "button.run").click()
    start = time.perf_counter()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, ".run-progress"), 10)
    shown = time.perf_counter() - start
    wait(lambda: "Done in" in status(d) or "完成" in status(d), seconds)
    return shown


def status(d) -> str:
    return d.find_element(By.CSS_SELECTOR, ".run-status").text


def requests_made(d) -> tuple[list[str], list[str]]:
    urls, failed = [], []
    for entry in d.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        if message["method"] == "Network.loadingFailed" and not message["params"].get("canceled"):
            failed.append(message["params"].get("errorText", ""))
    return urls, failed


# --- the tests ------------------------------------------------------------------------------------------
def test_a_planner_runs_a_changed_plan_compares_it_and_downloads(server, browser):
    url, runs = server
    d = browser
    d.get(url)
    choose(d, "Region", "Tianjin")
    wait(lambda: "sim run scenarios/tianjin-14th-fyp.yaml" in text(d))
    urls, failed = requests_made(d)
    web = [u for u in urls if u.startswith(("http:", "https:"))]  # not the browser's own chrome:// pages
    assert web and all(u.startswith(url) for u in web), [u for u in web if not u.startswith(url)]
    assert not failed, failed  # everything the page needs is served by the app itself: works offline

    # the plan as written, at a coarser scale for the test's time (a scale change is not a what-if)
    type_into(d.find_element(By.CSS_SELECTOR, ".lever-scale input"), "10")
    wait(lambda: "scale=10" in text(d))
    assert run_and_wait(d) < 1.0  # progress shows within a second
    tab(d, "Results")
    plan_chart = panel(d, "demand_capacity")
    assert "Care-home beds: 2020 76,000, 2025 100,000" in plan_chart
    tab(d, "Results")
    d.find_element(By.CSS_SELECTOR, "button.add-compare").click()

    # a lever changed: 130,000 beds by 2025; the run and its chart follow
    tab(d, "Scenario")
    set_year_value(d, "policy-beds-total", "130000")
    wait(lambda: "policy.beds.total={2025: 130000}" in text(d))
    run_and_wait(d)
    tab(d, "Results")
    changed_chart = wait(lambda: (c := panel(d, "demand_capacity")) != plan_chart and c)
    assert "Care-home beds: 2020 76,000, 2025 130,000" in changed_chart
    d.find_element(By.CSS_SELECTOR, "button.add-compare").click()

    # compare the two: both on the charts, the differences table
    tab(d, "Compare")
    overlaid = wait(lambda: (c := panel(d, "demand_capacity")).count("Care-home beds") == 2 and c)
    assert "2025 100,000" in overlaid and "2025 130,000" in overlaid
    table = wait(lambda: d.find_element(By.CSS_SELECTOR, "table.differences")).text
    assert "beds" in table and "30000" in table.replace(",", "")

    # Chinese at the switch of a toggle, every label
    d.find_element(By.XPATH, "//button[contains(., 'ZH') or contains(., 'zh')]").click()
    wait(lambda: "比较" in text(d) and "养老机构床位" in panel(d, "demand_capacity"))
    assert "Compare" not in text(d) and "Downloads" not in text(d)

    # a download: the differences as CSV, read back
    button = wait(lambda: [b for b in d.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == "CSV"])[0]
    button.click()
    csv_file = wait(lambda: next(iter(d.downloads.glob("*differences.csv")), None), 30)
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    beds_2025 = [r for r in rows if r["indicator"] == "beds" and r["year"] == "2025"]
    assert len(beds_2025) == 1
    difference = [v for k, v in beds_2025[0].items() if " - " in k]
    assert difference and abs(float(difference[0]) - 30000) < 1


def test_a_stored_scenario_opens_at_once_and_bad_input_is_refused_in_place(server, browser):
    url, runs = server
    d = browser
    # the link of a scenario already run (the plan at scale 10, from the first test or run here)
    link = f"{url}?from=file%3Ascenarios%2Ftianjin-14th-fyp.yaml&set=scale%3D10"
    d.get(link)
    wait(lambda: "scale=10" in text(d) and any(w in status(d) for w in ("Stored results", "Done in", "Not run yet")))
    if "Not run yet" in status(d):
        run_and_wait(d)
    start = time.perf_counter()
    tab(d, "Results")
    panel(d, "older_people")
    first_chart = time.perf_counter() - start
    assert first_chart < 3.0, first_chart  # the note reports the measured time; 1 s is the aim

    tab(d, "Scenario")
    set_year_value(d, "policy-beds-total", "-5")
    message = wait(lambda: d.find_element(By.CSS_SELECTOR, ".lever-policy-beds-total .field-error")).text
    assert message == "scenarios/tianjin-14th-fyp.yaml: policy.beds.total = {2025: -5}: must be >= 0 in every year"
    assert "policy.beds.total=" not in text(d)  # refused: the scenario is unchanged
    assert "Traceback" not in text(d)


def test_cancel_stops_a_run(server, browser):
    url, runs = server
    d = browser
    d.get(f"{url}?from=region%3Atianjin&set=replicates%3D4&set=seed%3D99")
    wait(lambda: "replicates=4" in text(d))
    d.find_element(By.CSS_SELECTOR, "button.run").click()
    wait(lambda: "Running" in status(d), 20)
    d.find_element(By.CSS_SELECTOR, "button.cancel").click()
    asked = time.perf_counter()
    wait(lambda: "Cancelled" in status(d), 10)
    assert time.perf_counter() - asked < 5.0  # four replicates of Tianjin would take 10 s or more
    stored = [p for p in (runs / "app").iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert all("seed: 99" not in (p / "scenario.yaml").read_text() for p in stored)
