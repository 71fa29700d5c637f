"""Issue 26's "Find a plan" page in a real browser (headless Chromium, Selenium, as tests/test_app_browser.py):
a scenario without targets is told so; Tianjin's plan with two targets for 2022 is searched with the smallest
budget the server allows (8 runs: `sim app --max-search-runs 8`), the front's table and chart appear in English
and Chinese, and "Open as scenario" opens the cheapest plan in the editor by its upload key. Every wait is for
something shown."""

import os
import urllib.parse

import pytest
import yaml
from app_driver import have_chromium

if not have_chromium():
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need chromium and chromium-driver (apt-get install them; .ci/run does)")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from app_driver import chromium, start_app, tab, text, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

TARGETS = "[{indicator: beds_total, value: 80000, year: 2022}, {indicator: nursing_share, value: 0.5, year: 2022}]"
PLAN = urllib.parse.urlencode([("from", "scenario:tianjin-14th-fyp"), ("set", f"targets={TARGETS}")])


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path)
    yield driver
    driver.quit()


def test_a_planner_finds_the_cheapest_plan_meeting_the_targets_and_opens_it(tmp_path, browser):
    runs = tmp_path / "runs"
    runs.mkdir()
    process, url = start_app(runs, 2, "--max-search-runs", "8")
    try:
        d = browser
        d.get(f"{url}?from=region%3Atianjin")  # the region's baseline: no targets, no search offered
        wait(lambda: "Tianjin" in text(d))
        tab(d, "Find a plan")
        said = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-plan .plan-no-targets")).text
        assert said.startswith("tianjin-baseline has no targets") and not d.find_elements(By.CSS_SELECTOR, ".plan-run")

        d.get(f"{url}?{PLAN}")
        wait(lambda: "beds_total" in text(d))
        tab(d, "Find a plan")
        panel = wait(lambda: d.find_element(By.CSS_SELECTOR, ".page-plan .plan-panel"))
        problem = panel.find_element(By.CSS_SELECTOR, ".plan-problem").text
        for shown in ("Care-home beds (all types)", "Nursing-type share of beds", "80,000 (2022)", "90% quantile"):
            assert shown in problem, shown  # the catalogues' words
        assert panel.find_element(By.CSS_SELECTOR, ".plan-budget").text.endswith("8 model runs")

        panel.find_element(By.CSS_SELECTOR, "button.plan-run").click()
        table = wait(lambda: panel.find_element(By.CSS_SELECTOR, "table.plan-front"), 180).text
        for shown in ("Care-home beds (all types)", "P(met): Nursing-type share of beds", "verified"):
            assert shown in table, shown
        assert panel.find_element(By.CSS_SELECTOR, ".plan-chart").get_attribute("naturalWidth") not in (None, "0")
        folders = list((runs / "app" / "optimize").iterdir())
        assert len(folders) == 1 and folders[0].name.startswith("search-")
        cheapest = yaml.safe_load((folders[0] / "cheapest.yaml").read_text(encoding="utf-8"))

        # in Chinese: the report's words, the chart and the button
        d.find_element(By.XPATH, "//button[contains(., '中文')]").click()
        wait(lambda: "帕累托前沿" in d.find_element(By.CSS_SELECTOR, ".page-plan").text)
        assert "作为情景打开" in d.find_element(By.CSS_SELECTOR, "button.plan-open").text
        d.find_element(By.XPATH, "//button[contains(., 'English')]").click()

        # Open as scenario: the editor shows the cheapest plan, an upload named by key in its link
        def english_button():  # buttons are shown in capitals
            found = d.find_elements(By.CSS_SELECTOR, "button.plan-open")
            return next((b for b in found if b.text.upper() == "OPEN AS SCENARIO"), None)

        wait(english_button).click()
        reached = wait(
            lambda: d.find_element(By.CSS_SELECTOR, ".page-scenario .lever-policy-beds-total .profile-to input")
        )
        assert float(reached.get_attribute("value")) == cheapest["policy"]["beds"]["total"]["to"]
        link = d.find_element(By.CSS_SELECTOR, "a.share-link").get_attribute("href")
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["from"][0].startswith("upload:")
        assert str(runs) not in text(d) and "Uploaded" in text(d)
        assert len(list((runs / "app" / "uploads").glob("*.yaml"))) == 1
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert "Traceback" not in output, output
