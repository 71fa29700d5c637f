"""Driving the app as a user does, in headless Chromium (Debian's chromium and chromium-driver) with
Selenium: used by tests/test_app_browser.py and benchmarks/bench_app.py."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or ""


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() and bool(DRIVER)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(
    runs: Path, workers: int = 2, *extra: str, niceness: int = 0, env: dict | None = None
) -> tuple[subprocess.Popen, str]:
    """`sim app` on a free port, as a user starts it; returns the process and its address once it answers.
    ``niceness``: added to the server's priority (negative: ahead of this process and its browsers);
    ``env``: changes to the server's environment (a home folder of its own, say)."""
    port = free_port()
    sim = Path(sys.executable).parent / "sim"
    process = subprocess.Popen(
        [str(sim), "app", "--port", str(port), "--runs", str(runs), "--workers", str(workers), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=(lambda: os.nice(niceness)) if niceness else None,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}/"
    # wait for the event (the server answers, or it has stopped), not for a number of seconds: a busy
    # machine starts it slowly; the bound only keeps a hung start from hanging the suite
    start = time.perf_counter()
    while process.poll() is None and time.perf_counter() - start < 600:
        try:
            urllib.request.urlopen(url, timeout=5)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"sim app did not start: {process.communicate()[0]}")


def chromium(folder: Path):
    """A headless Chromium with its own profile (so its own session on the app) and download folder."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking "
        "--disable-component-update --disable-sync --no-first-run --window-size=1400,1000"
    ).split():
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder / 'profile'}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(folder / "downloads"), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.downloads = folder / "downloads"
    return driver


# --- what a user does --------------------------------------------------------------------------
def text(d) -> str:
    return d.find_element(By.TAG_NAME, "body").text


TIMEOUT = 120.0  # seconds: a bound against a hang only; every wait is for an event (something shown)


def wait(condition, seconds: float | None = None):
    seconds = seconds or TIMEOUT
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


def chart_shown(d, name: str, page: str = "results") -> bool:
    """The chart is drawn and in sight (its page is the one shown)."""
    found = d.find_elements(By.CSS_SELECTOR, f".page-{page} .panel-{name} canvas")
    return bool(found) and found[0].is_displayed()


def panel(d, name: str, page: str = "results") -> str:
    """What a chart on a page (results or compare) shows: its description (ECharts' aria label lists each
    series' values)."""
    found = wait(lambda: d.find_element(By.CSS_SELECTOR, f".page-{page} .panel-{name} [aria-label]"))
    return found.get_attribute("aria-label")


def open_section(d, name: str) -> None:
    """Open a group of levers (beds, insurance, workforce, family, prevention, targets, run) if closed."""
    toggle = wait(lambda: d.find_element(By.CSS_SELECTOR, f".section-{name} .section-toggle"))
    if toggle.text.startswith("▸"):
        toggle.click()
        wait(lambda: d.find_element(By.CSS_SELECTOR, f".section-{name} .section-toggle").text.startswith("▾"))


def type_into(box, value: str) -> None:
    """Replace a field's text and press Enter, as a person does: the browser sends the text as it is typed,
    and Enter a moment later (at once, Enter can overtake the last keystrokes on their way to the server)."""
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value)
    time.sleep(0.4)
    box.send_keys(Keys.ENTER)


def set_year_value(d, lever: str, value: str) -> None:
    # shown, not only there: a page just switched to is drawn out of sight until the server shows it
    type_into(
        wait(
            lambda: (box := d.find_element(By.CSS_SELECTOR, f".lever-{lever} .path-value input")).is_displayed() and box
        ),
        value,
    )


def run_and_wait(d, seconds: float = 120.0) -> float:
    """Press Run; the seconds until progress shows, then wait for the run to finish."""
    d.find_element(By.CSS_SELECTOR, "button.run").click()
    start = time.perf_counter()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, ".run-progress"), 120)
    shown = time.perf_counter() - start
    wait(lambda: "Done in" in status(d) or "完成" in status(d), seconds)
    return shown


def status(d) -> str:
    return d.find_element(By.CSS_SELECTOR, ".run-status").text


def requests_made(d) -> tuple[list[str], list[str]]:
    """The URLs the page asked for, and those that failed (URL and error)."""
    urls, failed, by_id = [], [], {}
    for entry in d.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls.append(params["request"]["url"])
            by_id[params["requestId"]] = params["request"]["url"]
        # a failure of a request the page did not make is the browser's own (Chromium looks up Google's hosts
        # at start, unreachable here), not the app's
        if message["method"] == "Network.loadingFailed" and params["requestId"] in by_id:
            if not params.get("canceled"):
                failed.append(f"{by_id[params['requestId']]}: {params.get('errorText', '')}")
    return urls, failed
