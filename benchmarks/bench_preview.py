"""Benchmark: the app's emulated preview, for an emulator trained with `sim emulate`.

    python benchmarks/bench_preview.py --emulator /tmp/app-preview-emulator [--changes 12] [--points 10000]

Prints:

1. the prediction rate on one core (BLAS held to one thread): lever settings drawn uniformly within the
   emulator's ranges, every usable outcome predicted with its band, in batches and one preview at a time
   (what the app does after a change: one setting, every usable outcome); a prediction is one outcome at one
   setting;
2. the preview's latency in a browser: `sim app --emulator DIR` on 127.0.0.1, Tianjin's plan opened in headless
   Chromium, then care-home beds in 2025 changed ``--changes`` times within the emulator's range: seconds from
   the Enter that sends a value to the preview's charts drawn with the new values (their descriptions changed),
   polled every 5 ms.
"""

from __future__ import annotations

import os

for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # one core: set before NumPy loads its BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sim.analysis.emulator import design_values  # noqa: E402
from sim.analysis.preview import Preview  # noqa: E402

LINK = "?from=scenario%3Atianjin-14th-fyp"
BEDS = "policy-beds-total"


def prediction_rate(preview: Preview, points: int) -> None:
    em = preview.emulator
    usable = em.usable()
    print(f"emulator {preview.folder}: {len(em.factors)} factors, {len(em.train)} training runs, "
          f"{len(usable)} of {len(em.outcomes)} outcomes usable")  # fmt: skip
    if not usable:
        return
    values = design_values(em.factors, np.random.default_rng(1).random((points, len(em.factors))))
    em.predict(values[:10], usable)  # warm up
    start = time.perf_counter()
    em.predict(values, usable)
    batch = time.perf_counter() - start
    print(f"  batch of {points:,} settings x {len(usable)} outcomes with bands: {batch:.2f} s, "
          f"{points * len(usable) / batch:,.0f} predictions a second")  # fmt: skip
    start = time.perf_counter()
    em.predict(values, usable, sd=False)
    means = time.perf_counter() - start
    print(f"  the same, means only: {means:.2f} s, {points * len(usable) / means:,.0f} predictions a second")
    times = []
    for v in values[:200]:
        start = time.perf_counter()
        preview.predict(v)
        times.append(time.perf_counter() - start)
    one = statistics.median(times)
    print(f"  one preview (one setting, every usable outcome, as the app after a change): median {1000 * one:.1f} ms, "
          f"max {1000 * max(times):.1f} ms; {len(usable) / one:,.0f} predictions a second")  # fmt: skip


def browser_latency(folder: Path, changes: int, preview: Preview) -> None:
    import app_driver
    from app_driver import chromium, start_app, wait
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    factor = next(f for f in preview.emulator.factors if f.key == "policy.beds.total.2025")
    low, high = factor.range
    with tempfile.TemporaryDirectory() as scratch:
        process, url = start_app(Path(scratch) / "runs", 1, "--emulator", str(folder))
        d = chromium(Path(scratch))
        try:
            d.get(url + LINK)
            wait(lambda: d.find_element(By.CSS_SELECTOR, ".preview-banner"), 600)

            def described() -> list[str]:
                found = d.find_elements(By.CSS_SELECTOR, ".preview-chart [aria-label]")
                return [e.get_attribute("aria-label") for e in found]

            wait(described, 600)
            seconds = []
            for i, beds in enumerate(np.linspace(low, high, changes + 1)[1:]):
                before = described()
                box = wait(lambda: d.find_element(By.CSS_SELECTOR, f".lever-{BEDS} .path-value input"))
                box.send_keys(Keys.CONTROL, "a")
                box.send_keys(f"{beds:.0f}")
                time.sleep(0.4)  # as a person types: Enter after the text has reached the server
                start = time.perf_counter()
                box.send_keys(Keys.ENTER)
                while time.perf_counter() - start < app_driver.TIMEOUT:
                    try:
                        now = described()
                    except Exception:  # noqa: BLE001 - the page is being redrawn
                        now = before
                    if now and now != before:
                        break
                    time.sleep(0.005)
                seconds.append(time.perf_counter() - start)
                print(f"  change {i + 1}: beds 2025 = {beds:,.0f}: preview drawn {seconds[-1]:.3f} s after Enter")
            print(f"preview latency over {changes} changes: median {statistics.median(seconds):.3f} s, "
                  f"max {max(seconds):.3f} s (target: within 0.3 s)")  # fmt: skip
        finally:
            d.quit()
            process.terminate()
            process.communicate(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emulator", type=Path, required=True, help="an emulator folder of Tianjin's plan")
    parser.add_argument("--changes", type=int, default=12)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--no-browser", action="store_true", help="the prediction rate only")
    args = parser.parse_args()
    preview = Preview.load(args.emulator)
    prediction_rate(preview, args.points)
    if not args.no_browser:
        browser_latency(args.emulator, args.changes, preview)


if __name__ == "__main__":
    main()
