"""`sim evaluate`: observations condition the ensemble honestly, targets get calibrated probabilities, bad
observation files are refused in one line, and the same inputs give the same verdicts on 1 or 2 workers."""

import json
import logging

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from typer.testing import CliRunner

from sim.analysis.evaluation import (
    Query,
    effective_size,
    run_ensemble,
    weighted_quantile,
    weights_from,
    with_observed_inputs,
)
from sim.analysis.executors import make_executor
from sim.cli import app
from sim.common.errors import ScenarioError
from sim.scenario import load_scenario
from sim.scenario.levers import changed_lever, lever_path
from sim.scenario.observations import ObservedFigure, load_observations

runner = CliRunner()
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
AS_OF, TARGET_YEAR = 2023, 2026


def _plan(**changes):
    sets = ["horizon=2026", *(f"{k}={v}" for k, v in changes.items())]
    return load_scenario(PLAN, sets)


# --- synthetic plans: each run in turn is the truth, observed with error; the others are conditioned on it
OBSERVED = (
    ObservedFigure(indicator="certified_workers_per_10k", year=AS_OF, value=0, tolerance=1.0, source="synthetic"),
    ObservedFigure(indicator="occupancy", year=AS_OF, value=0, tolerance=0.02, source="synthetic"),
)


@pytest.fixture(scope="module")
def pool():
    """160 runs of Shengzhou's plan (parameter ensemble x random draws): the observed quantities in 2023 and
    the certified workers per 10,000 every year to 2026."""
    scenario = _plan(replicates=160)
    query = Query(OBSERVED, (("certified_workers_per_10k", "all"),))
    with make_executor(2) as executor:
        observed, series = run_ensemble(scenario, query, executor)
    return observed, series[:, 0, :]


def test_probabilities_and_intervals_are_calibrated_on_synthetic_plans(pool):
    """Leave one run out as the truth, observe it with the stated error, weight the others: over the 160 truths
    the 90% interval of the 2026 value covers the truth about 90% of the time (0.89 measured; the binomial
    error of 160 truths is 0.024, and weighting 159 runs with an effective size near 36 narrows a little),
    the mean predicted P(met) matches
    the share of truths that meet the target, and the predictions beat the unconditioned ones (Brier score)."""
    observed, series = pool
    figures = [o.model_copy(update={"tolerance": 2 * o.tolerance}) for o in OBSERVED]
    final = series[:, -1]
    target = float(np.median(final))  # a target the plan meets half the time before any observation
    rng = np.random.default_rng(11)
    covered, predicted, prior, met = [], [], [], []
    for k in range(len(final)):
        rest = np.delete(np.arange(len(final)), k)
        noisy = [
            o.model_copy(update={"value": float(observed[k, i] + rng.normal(0, o.tolerance / 2))})
            for i, o in enumerate(figures)
        ]
        w = weights_from(observed[rest], noisy)
        low, high = weighted_quantile(final[rest], w, 0.05), weighted_quantile(final[rest], w, 0.95)
        covered.append(low <= final[k] <= high)
        predicted.append(float(w @ (final[rest] >= target)))
        prior.append(float(np.mean(final[rest] >= target)))
        met.append(final[k] >= target)
    predicted, prior, met = map(np.array, (predicted, prior, met))
    assert 0.82 <= np.mean(covered) <= 0.97, np.mean(covered)
    assert abs(predicted.mean() - met.mean()) < 0.05
    brier, brier_prior = np.mean((predicted - met) ** 2), np.mean((prior - met) ** 2)
    assert brier < brier_prior, (brier, brier_prior)


def test_conditioning_narrows_what_was_observed_and_what_follows(pool):
    """Each run in turn observed: the 90% intervals of the other runs, weighted, are narrower than unweighted
    for the observed year and, on average over the truths, for the target year after it (measured: 0.59 and
    0.86 of the unweighted widths)."""
    observed, series = pool
    at = series.shape[1] - 1 - (TARGET_YEAR - AS_OF)  # the evaluation year's column

    def width(values, weights):
        return weighted_quantile(values, weights, 0.95) - weighted_quantile(values, weights, 0.05)

    ratios, sizes = [], []
    for k in range(len(observed)):
        rest = np.delete(np.arange(len(observed)), k)
        figures = [o.model_copy(update={"value": float(observed[k, i])}) for i, o in enumerate(OBSERVED)]
        w = weights_from(observed[rest], figures)
        uniform = np.full(len(w), 1 / len(w))
        ratios.append([width(series[rest, c], w) / width(series[rest, c], uniform) for c in (at, -1)])
        sizes.append(effective_size(w))
    now, later = np.mean(ratios, axis=0)
    assert now < 0.75 and later < 0.95, (now, later)
    assert 3 <= np.median(sizes) < len(observed) - 1


def test_observed_commitments_become_the_levers_up_to_the_evaluation_year():
    scenario = _plan()
    beds = ObservedFigure(indicator="beds", group="all/all", year=2022, value=5000, tolerance=100, source="t")
    changed = with_observed_inputs(scenario, [beds], as_of=2023)
    path, before = lever_path(changed, "policy.beds.total"), lever_path(scenario, "policy.beds.total")
    assert path[2022] == 5000
    assert path[2020] == before[2020] and path[2026] == before[2026]
    assert with_observed_inputs(scenario, [beds], as_of=2021) == scenario  # after the evaluation year: unused
    later = changed_lever(scenario, "policy.workforce.trained_per_year", 2.0, after=2023)
    old, new = (
        lever_path(scenario, "policy.workforce.trained_per_year"),
        lever_path(later, "policy.workforce.trained_per_year"),
    )
    assert all(new[y] == old[y] for y in range(2020, 2024))
    assert all(new[y] == 2 * old[y] for y in range(2024, 2027))


# --- the command ---------------------------------------------------------------------------------------
def _observed_file(tmp_path, rows: str):
    path = tmp_path / "observed.csv"
    path.write_text("indicator,year,value,tolerance,source,group\n" + rows)
    return path


GOOD_ROWS = "occupancy,2022,0.5,0.05,synthetic,all\ncertified_workers_per_10k,2023,20,4,synthetic,all\n"


def _evaluate(tmp_path, observed, out, *extra):
    args = ["evaluate", str(PLAN), "--observed", str(observed), "--as-of", "2023", "--replicates", "12"]
    return runner.invoke(app, [*args, "--set", "horizon=2026", "--out", str(out), *extra])


def test_evaluate_writes_verdicts_fans_and_charts_the_same_on_one_or_two_workers_and_dask(tmp_path):
    observed = _observed_file(tmp_path, GOOD_ROWS)
    one = _evaluate(tmp_path, observed, tmp_path / "one", "--workers", "1")
    assert one.exit_code == 0, one.output
    two = _evaluate(tmp_path, observed, tmp_path / "two", "--workers", "2")
    assert two.exit_code == 0, two.output
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        dask = _evaluate(tmp_path, observed, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert dask.exit_code == 0, dask.output
    a, b, c = (pd.read_csv(tmp_path / d / "evaluation.csv") for d in ("one", "two", "dask"))
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    assert set(a.target) == {"certified_workers_per_10k", "nursing_share", "dementia_beds_per_10k"}
    kinds = dict(zip(a.target, a.kind, strict=True))
    assert kinds["nursing_share"] == "commitment" and kinds["certified_workers_per_10k"] == "outcome"
    nursing = a[a.target == "nursing_share"].iloc[0]
    assert nursing.scheduled == pytest.approx(0.58) and nursing.verdict in ("delivered", "not delivered")
    outcome = a[a.target == "certified_workers_per_10k"].iloc[0]
    assert outcome.verdict in ("on track", "at risk", "off track") and 0 <= outcome.p_met <= 1
    assert outcome.p05 <= outcome.expected <= outcome.p95
    record = json.loads((tmp_path / "one" / "evaluation.json").read_text())
    assert record["as_of"] == 2023 and record["observations_used"] == 2 and record["replicates"] == 12
    for lang in ("en", "zh"):
        assert (tmp_path / "one" / "charts" / lang / "evaluation.png").stat().st_size > 10_000
    fans = pd.read_csv(tmp_path / "one" / "fans.csv")
    assert set(fans.year) == set(range(2020, 2027))


def test_what_it_would_take_lifts_the_probability_to_on_track(tmp_path):
    """An outcome short of its target: the factor found on its lever lifts P(met) to the threshold."""
    observed = _observed_file(tmp_path, GOOD_ROWS)
    out = tmp_path / "ev"
    result = _evaluate(tmp_path, observed, out, "--set", "targets.0.value=30", "--on-track", "0.7", "--workers", "2")
    assert result.exit_code == 0, result.output
    row = pd.read_csv(out / "evaluation.csv").set_index("target").loc["certified_workers_per_10k"]
    assert row.verdict != "on track" and row.lever == "policy.workforce.trained_per_year"
    assert row.lever_factor > 1 and row.p_met_with_change >= 0.7
    assert row.lever_amount > 0
    # the report says it in its own language, the lever named in words
    from sim.outputs.report_content import evaluation_table

    said = {lang: evaluation_table(out, lang).iloc[:, -1].tolist() for lang in ("en", "zh")}
    factor = f"{row.lever_factor:.3g}"
    assert any(f"x {factor} after 2023" in text for text in said["en"])
    assert any("2023年后" in text and f"乘以{factor}" in text for text in said["zh"])
    assert not any("policy." in text or "not reached" in text for text in said["zh"])


BAD_ROWS = {
    "unknown indicator": ("happiness,2022,1,1,x,all\n", "row 2: indicator = 'happiness': unknown indicator"),
    "year outside the run": (
        "occupancy,2040,0.5,0.05,x,all\n",
        "row 2: year = 2040: occupancy has values from 2020 to 2026",
    ),
    "negative count": ("beds,2022,-5,10,x,all/all\n", "row 2: value = -5: beds is in beds, never negative"),
    "nan": ("occupancy,2022,nan,0.05,x,all\n", "row 2: value"),
    "share above one": ("occupancy,2022,1.5,0.05,x,all\n", "row 2: value = 1.5: occupancy is a share, at most 1"),
    "zero tolerance": ("occupancy,2022,0.5,0,x,all\n", "row 2: tolerance = 0"),
    "not a number": ("occupancy,2022,half,0.05,x,all\n", "row 2: value = 'half': must be a number"),
    "duplicate": ("occupancy,2022,0.5,0.05,x,all\noccupancy,2022,0.6,0.05,x,all\n", "row 3: repeats row 2"),
    "unknown group": ("occupancy,2022,0.5,0.05,x,palace\n", "row 2: group = 'palace'"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_observation_file_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    rows, message = BAD_ROWS[case]
    observed = _observed_file(tmp_path, rows)
    out = tmp_path / "out"
    result = _evaluate(tmp_path, observed, out)
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"error: {observed}: {message}"), line
    assert not out.exists()


def test_observation_file_without_a_needed_column_or_rows(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("indicator,year,value,source\noccupancy,2022,0.5,x\n")
    with pytest.raises(ScenarioError, match="no column tolerance"):
        load_observations(path, 2020, 2035)
    path.write_text("indicator,year,value,tolerance,source\n")
    with pytest.raises(ScenarioError, match="no observations"):
        load_observations(path, 2020, 2035)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--as-of", "2026"], "--as-of = 2026: after the last observed year (2023)"),
        (["--lever", "policy.palace"], "--lever = 'policy.palace': not a scenario lever"),
        (["--on-track", "1.5"], "--on-track = 1.5: must be between 0 and 1"),
        (["--replicates", "3"], "--replicates = 3: must be at least 10"),
    ],
)
def test_bad_options_are_one_line(tmp_path, extra, message):
    observed = _observed_file(tmp_path, GOOD_ROWS)
    result = _evaluate(tmp_path, observed, tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert result.output.strip().startswith(f"error: {message}"), result.output
    assert not (tmp_path / "out").exists()


def test_report_gets_an_evaluation_section(tmp_path):
    observed = _observed_file(tmp_path, GOOD_ROWS)
    assert _evaluate(tmp_path, observed, tmp_path / "ev").exit_code == 0
    run = tmp_path / "run"
    args = ["run", str(PLAN), "--set", "horizon=2026", "--out", str(run), "--no-charts"]
    assert runner.invoke(app, args).exit_code == 0
    for lang, heading, verdicts in (
        ("en", "Is the plan on track? Evaluation as of 2023", ("on track", "at risk", "off track")),
        ("zh", "规划进展评估（截至2023年）", ("按期推进", "存在风险", "明显滞后")),
    ):
        out = tmp_path / f"report_{lang}.html"
        result = runner.invoke(
            app, ["report", str(run), "--evaluation", str(tmp_path / "ev"), "--lang", lang, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert heading in text and any(v in text for v in verdicts)
    result = runner.invoke(app, ["report", str(run), "--evaluation", str(tmp_path), "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2 and "not a folder of sim evaluate" in result.output
    assert not (tmp_path / "x.html").exists()
