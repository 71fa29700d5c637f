"""Issue 29's parts of the app in a real browser (headless Chromium, Selenium, as tests/test_app_browser.py): the
time-profile picker beside a schedule lever's table, and the "+N" panel on the results page. A coarse scale, a
short horizon and two replicates keep the runs short; every wait is for something shown."""

import os
import urllib.parse

import pytest
import yaml
from app_driver import have_chromium

if not have_chromium():
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need chromium and chromium-driver (apt-get install them; .ci/run does)")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from app_driver import chromium, run_and_wait, start_app, tab, text, type_into, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

# the Tianjin plan, coarse (15 persons per agent), to 2025 (its targets' year), two replicates
QUICK = "from=scenario%3Atianjin-14th-fyp&set=scale%3D15&set=horizon%3D2025&set=replicates%3D2"


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


def pick(d, field_css: str, option: str) -> None:
    """Open the select inside ``field_css`` and pick the entry that starts with ``option`` (once the menu of an
    earlier pick has closed: its entries are not this select's)."""

    def shown_entries():
        return [e for e in d.find_elements(By.CSS_SELECTOR, ".v-overlay .v-list-item") if e.is_displayed()]

    wait(lambda: not shown_entries())
    wait(lambda: d.find_element(By.CSS_SELECTOR, f"{field_css} .v-field")).click()

    def entry():
        found = [e for e in shown_entries() if e.text.startswith(option)]
        return found[0] if found else None

    wait(entry).click()


def test_a_planner_picks_a_time_profile_and_the_run_link_and_scenario_keep_it(server, browser):
    url, runs = server
    d = browser
    d.get(f"{url}?{QUICK}")
    wait(lambda: "horizon=2025" in text(d))
    beds = ".lever-policy-beds-total"
    assert wait(lambda: d.find_element(By.CSS_SELECTOR, f"{beds} .profile-select")).text.count("year by year") == 1

    pick(d, f"{beds} .profile-select", "front-loaded")
    change = "policy.beds.total={to: 100000, by: 2025, profile: front_loaded}"
    wait(lambda: change in text(d))
    assert d.find_element(By.CSS_SELECTOR, f"{beds} .profile-to input").get_attribute("value") == "100000"
    link = d.find_element(By.CSS_SELECTOR, "a.share-link").get_attribute("href")
    assert change in urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["set"]

    # a start year after the end is refused in place with the command line's message
    type_into(d.find_element(By.CSS_SELECTOR, f"{beds} .profile-start input"), "2026")
    message = wait(lambda: d.find_element(By.CSS_SELECTOR, f"{beds} .field-error")).text
    assert "policy.beds.total.start" in message and "2026" in message
    assert change in text(d)

    # the run uses it: beds reach 100,000 in 2025 along the front-loaded path, above the straight line
    run_and_wait(d)
    scenario = yaml.safe_load(next((runs / "app").glob("*/scenario.yaml")).read_text(encoding="utf-8"))
    assert scenario["policy"]["beds"]["total"]["profile"] == "front_loaded"

    # a lever left at the region's own figure: a profile starts from that figure in 2025
    pick(d, ".lever-policy-beds-day-care-places .profile-select", "a step")
    wait(lambda: "policy.beds.day_care_places={to: 25140, by: 2025, profile: step}" in text(d))

    # Chinese labels, never the raw key; back to the table: a one-year target
    d.find_element(By.XPATH, "//button[contains(., '中文')]").click()
    wait(lambda: "前快后慢" in d.find_element(By.CSS_SELECTOR, f"{beds} .profile-select").text)
    pick(d, f"{beds} .profile-select", "逐年")
    wait(lambda: "profile: front_loaded" not in text(d) and d.find_elements(By.CSS_SELECTOR, f"{beds} .path-value"))
    assert "front_loaded" not in d.find_element(By.CSS_SELECTOR, ".section-beds").text


def test_a_planner_asks_what_plus_n_beds_changes_on_the_results_page(server, browser):
    url, runs = server
    d = browser
    d.get(f"{url}?{QUICK}")
    wait(lambda: "horizon=2025" in text(d))
    run_and_wait(d)
    tab(d, "Results")
    panel = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-results .steps-panel"))
    assert "Care-home beds" in panel.find_element(By.CSS_SELECTOR, ".steps-lever").text  # the catalogue's label
    steps = panel.find_element(By.CSS_SELECTOR, ".steps-by input")

    # a bad step: one line in place, nothing run
    type_into(steps, "+10%, ten")
    panel.find_element(By.CSS_SELECTOR, "button.steps-run").click()
    error = wait(lambda: panel.find_element(By.CSS_SELECTOR, ".steps-error")).text
    assert error == "step = ten: a step is +N or +N%, not zero (e.g. +10%, -5%, +5000)"
    assert not (runs / "app" / "steps").exists()

    # +10% and +5,000 beds: the table of every target and the plan's cost, and the chart
    type_into(steps, "+10%, +5000")
    panel.find_element(By.CSS_SELECTOR, "button.steps-run").click()
    table = wait(lambda: panel.find_element(By.CSS_SELECTOR, "table.steps"), 180).text
    assert not panel.find_elements(By.CSS_SELECTOR, ".steps-error")
    for shown in ("the plan", "+10%", "+5000", "Care-home beds", "P(met)", "million yuan"):
        assert shown in table, shown
    chart = panel.find_element(By.CSS_SELECTOR, ".steps-chart")
    assert chart.get_attribute("naturalWidth") not in (None, "0")
    stored = [p.name for p in (runs / "app" / "steps").iterdir() if not p.name.startswith(".")]
    assert len(stored) == 1
    assert {p.name for p in (runs / "app" / "steps" / stored[0]).iterdir()} == {
        "steps.csv",
        "manifest.json",
        "steps_en.png",
        "steps_zh.png",
    }

    # the table downloads as sim steps writes it
    panel.find_element(By.XPATH, ".//div[contains(@class,'steps-downloads')]//button[contains(., 'CSV')]").click()
    downloaded = wait(lambda: next(iter(d.downloads.glob("*_steps.csv")), None))
    header = downloaded.read_text(encoding="utf-8").splitlines()[0]
    assert header == "step,measure,year,value,change,change_p05,change_p95,p_met,p_met_change"

    # in Chinese: the table's words and the chart, and a bad step refused in Chinese
    english_chart = chart.get_attribute("src")
    d.find_element(By.XPATH, "//button[contains(., '中文')]").click()
    wait(lambda: "规划" in d.find_element(By.CSS_SELECTOR, "table.steps").text)
    zh_table = d.find_element(By.CSS_SELECTOR, "table.steps").text
    assert "the plan" not in zh_table and "million yuan" not in zh_table and "达标概率" in zh_table
    wait(lambda: d.find_element(By.CSS_SELECTOR, ".steps-chart").get_attribute("src") != english_chart)
    type_into(d.find_element(By.CSS_SELECTOR, ".steps-by input"), "+0")
    d.find_element(By.CSS_SELECTOR, "button.steps-run").click()
    error = wait(lambda: d.find_element(By.CSS_SELECTOR, ".steps-error")).text
    assert error.startswith("调整幅度 = +0：应为 +N 或 +N%")
    assert "Traceback" not in text(d)
