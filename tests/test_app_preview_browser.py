"""The emulated preview in a real browser (headless Chromium, Selenium, as tests/test_app_browser.py), with a real
`sim app --emulator DIR` serving the tiny emulator of tests/test_app_preview.py (Shengzhou's plan at 20,000
people to 2026): a lever moved shows the preview marked as emulated; a value outside what the emulator learnt
shows one line and no chart; Run shows the model's own results in its place. Every wait is for something shown."""

import os
import urllib.parse

import pytest
import yaml
from app_driver import have_chromium

if not have_chromium():
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need chromium and chromium-driver (apt-get install them; .ci/run does)")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

from app_driver import chromium, run_and_wait, set_year_value, start_app, text, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from test_app_preview import TINY_YEARLY  # noqa: E402

from sim.analysis.emulator_training import Plan, train_emulator  # noqa: E402
from sim.analysis.experiment import load_experiment  # noqa: E402

CHANGES = ["horizon=2026", "data.population_60plus=20000", "policy.beds.total={2025: 4000}"]
LINK = urllib.parse.urlencode([("from", "scenario:shengzhou-2026"), *(("set", c) for c in CHANGES)])
BEDS = "policy-beds-total"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("preview-browser")
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(TINY_YEARLY), encoding="utf-8")
    result = train_emulator(load_experiment(path), folder / "em", Plan(runs=48, holdout=12, replicates=3), workers=1)
    assert result.emulator.usable(), "the tiny emulator predicts no outcome to the standard: nothing to preview"
    process, url = start_app(folder / "runs", 1, "--emulator", str(folder / "em"))
    yield url, result.emulator
    process.terminate()
    output = process.communicate(timeout=20)[0]
    assert "Traceback" not in output, output


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path)
    yield driver
    driver.quit()


def preview_charts(d) -> list[str]:
    return [
        e.get_attribute("aria-label")
        for e in d.find_elements(By.CSS_SELECTOR, ".preview .preview-chart [aria-label]")
        if e.get_attribute("aria-label")
    ]


def test_a_lever_moved_shows_the_emulated_preview_and_run_replaces_it(server, browser):
    url, emulator = server
    d = browser
    d.get(f"{url}?{LINK}")
    banner = wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-banner")).text
    assert banner.startswith("Emulated preview, not a model run: held-out error ")
    before = wait(lambda: preview_charts(d))
    assert all(c.startswith("Emulated preview, held-out error") for c in before), before

    # a lever moved: the preview follows at once, still marked as emulated
    set_year_value(d, BEDS, "6000")
    after = wait(lambda: (shown := preview_charts(d)) and shown != before and shown)
    assert all(c.startswith("Emulated preview") for c in after)
    assert "policy.beds.total={2025: 6000}" in text(d)
    named = d.find_elements(By.CSS_SELECTOR, ".preview-not li")  # not usable: named with its R², not drawn
    yearly_not_usable = [o for o in emulator.outcomes if o not in emulator.usable() and o != "peak_waiting"]
    assert len(named) == len(yearly_not_usable) > 0  # the peak is not a point of a line: not named
    assert all("not previewed: held-out R²" in n.text or "90% band" in n.text for n in named)

    # a value outside what it learnt: one line, no chart
    set_year_value(d, BEDS, "9000")
    line = wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-none")).text
    assert line == (
        "No emulated preview: Care-home beds (all types), 2025 = 9000 is outside what the emulator learnt "
        "(3000 to 6000); it is not extrapolated: press Run"
    )
    assert not d.find_elements(By.CSS_SELECTOR, ".preview-chart, .preview-banner")

    # back inside, in Chinese: marked as emulated in Chinese
    set_year_value(d, BEDS, "5000")
    wait(lambda: d.find_elements(By.CSS_SELECTOR, ".preview-banner"))
    d.find_element(By.XPATH, "//button[contains(., '中文')]").click()
    wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-banner").text.startswith("模拟器预览，并非模型运行"))

    # Run: the model's own results replace the preview
    d.find_element(By.XPATH, "//button[contains(., 'English')]").click()
    wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-banner").text.startswith("Emulated"))
    run_and_wait(d)
    model = wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-model")).text
    assert model.startswith("The model's own results (replicates: 1)")
    described = wait(
        lambda: [e.get_attribute("aria-label") for e in d.find_elements(By.CSS_SELECTOR, ".preview [aria-label]")]
    )
    assert described and all(c.startswith("Model run.") for c in described), described
    assert not d.find_elements(By.CSS_SELECTOR, ".preview-chart, .preview-banner")
