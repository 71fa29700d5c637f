"""`sim evaluate`: is a plan on track, given what has been observed so far?

1. **The ensemble.** The scenario is run ``replicates`` times; each run draws its own member of the
   calibration's parameter ensemble and its own random streams (``sim.model.model``), so the runs are draws
   of what the plan could give: random draws and parameter uncertainty.
2. **Observed inputs.** Observations of what the scenario sets itself (beds, the nursing-type share, family
   beds: the targets catalogued as commitments) replace the scenario's schedule up to the evaluation year,
   so every run passes through them.
3. **Conditioning.** Each run is weighted by the likelihood of the observed outcomes up to the evaluation
   year (each observation's error Normal with standard deviation half its tolerance, the calibration's
   convention: ``sim.analysis.posterior``). The weighted runs are the ensemble conditioned on the
   observations (importance sampling with the runs as draws of the prior); the effective sample size says
   how many runs carry the weight.
4. **Targets.** A commitment is reported as scheduled (the scenario's value at the target year) and
   delivered. An outcome gets the probability that it is met in its year (the weighted share of runs that
   meet it), its expected value and 90% interval (weighted), and a verdict: *on track* when the probability
   is at least ``on_track``, *off track* when below ``off_track``, *at risk* between.
5. **What it would take.** For an outcome not on track, the smallest change of its lever (the catalogue's,
   or one named) after the evaluation year that lifts the probability to ``on_track``: a factor on the
   lever's values from the year after, found by doubling then bisection on the same seeds (the observed
   years are unchanged, so the weights are too).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field

from sim.analysis.executors import Executor, make_executor
from sim.analysis.posterior import log_likelihood
from sim.catalogues.indicators import catalogue
from sim.catalogues.levers import lever_catalogue
from sim.common.errors import ScenarioError, Strict, show
from sim.model.model import AgeingModel
from sim.results.query import value as table_value
from sim.results.record import table as record_table
from sim.results.targets import is_met
from sim.scenario import Scenario
from sim.scenario.levers import changed_lever, cumulative, lever_path, lever_spec, scheduled, with_lever
from sim.scenario.observations import ObservedFigure
from sim.scenario.policy import Profile

VERDICTS = ("on track", "at risk", "off track")


# --- observed inputs and lever changes ---------------------------------------------------------------
def with_observed_inputs(scenario: Scenario, observed: list[ObservedFigure], as_of: int) -> Scenario:
    """The scenario with observed commitments (beds, nursing share, family beds...) as its levers up to
    ``as_of``; after the last observed year the lever returns to the scenario's own path."""
    levers = lever_catalogue()
    commitments = {  # a commitment whose lever starts from the region's own figure, as its indicator does
        (t.indicator, t.group): levers.for_target(t.name)[0]
        for t in catalogue().targets.values()
        if t.kind == "commitment"
        and levers.for_target(t.name)
        and levers[levers.for_target(t.name)[0]].region_base is not None
        and not cumulative(t.indicator)
    }
    for lever in dict.fromkeys(commitments.values()):
        points = {
            o.year: o.value
            for o in observed
            if commitments.get((o.indicator, o.group)) == lever and o.year <= as_of and o.key()[2:] == OBSERVED_TOTAL
        }
        if not points:
            continue
        path = lever_path(scenario, lever)
        last = max(points)
        # the observed years, the scenario's own later points, and its value where the observations stop
        spec = {scenario.base_year: path[scenario.base_year], **points}
        spec |= {y: v for y, v in path.items() if y > last}
        scenario = with_lever(scenario, lever, spec)
    return scenario


OBSERVED_TOTAL = ("all", "all", "60+", "all")  # capacity, residence, age group, sex of an indicator's total


# --- running the ensemble --------------------------------------------------------------------------
@dataclass(frozen=True)
class Query:
    """What one run must report: the observations' values and each target's value by year."""

    observed: tuple[ObservedFigure, ...]
    targets: tuple[tuple[str, str], ...]  # (indicator, group) of each target


def _run(job: tuple[Scenario, int, Query]) -> tuple[np.ndarray, np.ndarray]:
    scenario, replicate, query = job
    table = record_table(AgeingModel(scenario, replicate).run())
    observed = np.array([observed_value(o, table) for o in query.observed])
    years = range(scenario.base_year, scenario.horizon + 1)
    series = np.array(
        [[table_value(table, ind, y, group=g) for y in years] for ind, g in query.targets], dtype=float
    ).reshape(len(query.targets), len(years))
    return observed, series


def run_ensemble(
    scenario: Scenario, query: Query, executor: Executor, progress: Callable[[int], None] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(replicates x observations, replicates x targets x years), in replicate order."""
    jobs = [(scenario, r, query) for r in range(scenario.replicates)]
    obs, series = [], []
    for o, s in executor.map(_run, jobs):
        obs.append(o)
        series.append(s)
        if progress:
            progress(1)
    return np.array(obs).reshape(len(jobs), len(query.observed)), np.array(series)


def observed_value(o: ObservedFigure, table: pd.DataFrame, year: int | None = None) -> float:
    """A run's value of what ``o`` observed, in its year (or ``year``)."""
    return table_value(
        table, o.indicator, year or o.year, sex=o.sex, age_group=o.age_group, capacity=o.capacity,
        residence=o.residence, group=o.group,
    )  # fmt: skip


def weights_from(simulated: np.ndarray, observed: list[ObservedFigure]) -> np.ndarray:
    """Normalised weights of the runs given the observations (uniform without any)."""
    if not observed:
        return np.full(len(simulated), 1.0 / len(simulated))
    values = np.array([o.value for o in observed])
    tolerance = np.array([o.tolerance for o in observed])
    ll = log_likelihood(simulated, values, tolerance)
    w = np.exp(ll - ll.max())
    return w / w.sum()


def effective_size(weights: np.ndarray) -> float:
    return float(1.0 / np.sum(weights**2))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) - 0.5 * weights[order]
    return float(np.interp(q, cumulative / cumulative[-1] if cumulative[-1] > 0 else cumulative, values[order]))


# --- the evaluation --------------------------------------------------------------------------------
class Thresholds(Strict):
    on_track: float = Field(0.8, gt=0, lt=1, description="P(met) at or above which a target is on track.")
    off_track: float = Field(0.2, gt=0, lt=1, description="P(met) below which a target is off track.")


@dataclass
class Evaluation:
    scenario: Scenario  # with the observed inputs
    as_of: int
    observed: list[ObservedFigure]
    used: list[ObservedFigure]  # the observations up to the evaluation year that weight the runs
    weights: np.ndarray
    table: pd.DataFrame  # one row per target
    fans: pd.DataFrame  # each target's indicator by year: prior and conditioned mean and 90% interval
    thresholds: Thresholds
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def effective_size(self) -> float:
        return effective_size(self.weights)


def _met(series: np.ndarray, target, year_index: int) -> np.ndarray:
    return is_met(series[:, year_index], target)


def verdict(probability: float, thresholds: Thresholds) -> str:
    if probability >= thresholds.on_track:
        return "on track"
    return "off track" if probability < thresholds.off_track else "at risk"


def evaluate(
    scenario: Scenario,
    observed: list[ObservedFigure],
    as_of: int,
    workers: int = 1,
    thresholds: Thresholds | None = None,
    lever: str | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    thresholds = thresholds or Thresholds()
    if not scenario.base_year <= as_of < scenario.horizon:
        raise ScenarioError(f"--as-of = {as_of}: must be from {scenario.base_year} to {scenario.horizon - 1}")
    if not scenario.targets:
        raise ScenarioError(f"{scenario.name}: the scenario has no targets to evaluate")
    if lever is not None:
        _check_lever(scenario, lever)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    conditioned = with_observed_inputs(scenario, observed, as_of)
    used = [o for o in observed if o.year <= as_of]
    query = Query(tuple(used), tuple(_target_key(t) for t in scenario.targets))
    with make_executor(workers, scheduler) as executor:
        simulated, series = run_ensemble(conditioned, query, executor, progress)
        seconds["ensemble"] = time.perf_counter() - start
        weights = weights_from(simulated, used)
        years = list(range(scenario.base_year, scenario.horizon + 1))
        rows, fans = [], []
        t0 = time.perf_counter()
        for k, target in enumerate(scenario.targets):
            info = catalogue().target(target.indicator)
            s = series[:, k, :]
            j = years.index(target.year)
            met = _met(s, target, j)
            p_met, p_prior = float(weights @ met), float(met.mean())
            row = {
                "target": target.indicator,
                "kind": info.kind,
                "direction": target.direction,
                "target_value": target.value,
                "target_year": target.year,
                "tolerance": info.margin(target.value),
                "scheduled": np.nan,
                "expected": float(weights @ s[:, j]),
                "p05": weighted_quantile(s[:, j], weights, 0.05),
                "p95": weighted_quantile(s[:, j], weights, 0.95),
                "prior_expected": float(s[:, j].mean()),
                "prior_p05": float(np.percentile(s[:, j], 5)),
                "prior_p95": float(np.percentile(s[:, j], 95)),
                "p_met": p_met,
                "prior_p_met": p_prior,
                "verdict": "",
                "lever": "",
                "lever_factor": np.nan,
                "lever_amount": np.nan,  # the lever's value in the target year with that factor
                "lever_factor_tried": np.nan,  # the largest factor tried when none was enough
                "p_met_with_change": np.nan,
                "what_it_takes": "",
            }
            moved_by = lever_catalogue().for_target(info.name)
            if info.kind == "commitment" and moved_by:
                row["scheduled"] = scheduled(conditioned, info.name, target.year)
                row["verdict"] = "delivered" if p_met >= 0.5 else "not delivered"
            else:
                row["verdict"] = verdict(p_met, thresholds)
                chosen = lever or (moved_by[0] if moved_by else None)
                if row["verdict"] != "on track" and chosen and target.year > as_of:
                    row |= _what_it_takes(
                        conditioned, query, weights, k, target, j, chosen, info, as_of, thresholds, executor
                    )
            rows.append(row)
            for y_i, y in enumerate(years):
                fans.append(
                    {
                        "target": target.indicator,
                        "year": y,
                        "prior_mean": float(s[:, y_i].mean()),
                        "prior_p05": float(np.percentile(s[:, y_i], 5)),
                        "prior_p95": float(np.percentile(s[:, y_i], 95)),
                        "mean": float(weights @ s[:, y_i]),
                        "p05": weighted_quantile(s[:, y_i], weights, 0.05),
                        "p95": weighted_quantile(s[:, y_i], weights, 0.95),
                    }
                )
        seconds["what_it_takes"] = time.perf_counter() - t0
    return Evaluation(
        conditioned, as_of, observed, used, weights, pd.DataFrame(rows), pd.DataFrame(fans), thresholds, seconds
    )


def _target_key(target) -> tuple[str, str]:
    info = catalogue().target(target.indicator)
    return info.indicator, info.group


def _check_lever(scenario: Scenario, lever: str) -> None:
    problem = "not a scenario lever with a value by year (e.g. policy.beds.total, policy.workforce.trained_per_year)"
    try:
        spec = lever_spec(scenario, lever)
    except AttributeError:
        raise ScenarioError(f"--lever = {show(lever)}: {problem}") from None
    if not lever.startswith("policy.") or not (spec is None or isinstance(spec, int | float | dict | Profile)):
        raise ScenarioError(f"--lever = {show(lever)}: {problem}")


MAX_FACTOR = 8.0  # the search stops at eight times (or an eighth of) the lever's planned values


def _what_it_takes(scenario, query, weights, k, target, j, lever, info, as_of, thresholds, executor) -> dict:
    """The smallest factor on ``lever`` after ``as_of`` that lifts P(met) to the on-track threshold."""
    moved_by = lever_catalogue().for_target(info.name)
    effect = moved_by[1] if moved_by and lever == moved_by[0] else 1
    up = (effect > 0) == (target.direction == "at_least")  # raising the lever helps
    path = lever_path(scenario, lever)
    if not any(v > 0 for y, v in path.items() if y > as_of):
        return {"lever": lever, "what_it_takes": "the lever is zero after the evaluation year: no factor moves it"}

    def probability(factor: float) -> float:
        changed = changed_lever(scenario, lever, factor, as_of)
        _, series = run_ensemble(changed, query, executor)
        return float(weights @ _met(series[:, k, :], target, j))

    def factor(step: float) -> float:
        return 1.0 + step if up else 1.0 / (1.0 + step)

    low, high, p_high = 0.0, 0.125, None
    while True:
        p_high = probability(factor(high))
        if p_high >= thresholds.on_track:
            break
        low = high
        high *= 2
        if factor(high) > MAX_FACTOR or factor(high) < 1 / MAX_FACTOR:
            return {
                "lever": lever,
                "lever_factor_tried": factor(low),
                "p_met_with_change": p_high,
                "what_it_takes": f"not reached: P(met) {p_high:.2f} even with {lever} x {factor(low):.3g} "
                f"after {as_of}",
            }
    for _ in range(4):  # bisection to an eighth of the last step
        mid = 0.5 * (low + high)
        p_mid = probability(factor(mid))
        if p_mid >= thresholds.on_track:
            high, p_high = mid, p_mid
        else:
            low = mid
    f = factor(high)
    at_year = lever_path(changed_lever(scenario, lever, f, as_of), lever)[target.year]
    return {
        "lever": lever,
        "lever_factor": f,
        "lever_amount": at_year,
        "p_met_with_change": p_high,
        "what_it_takes": f"{lever} x {f:.3g} after {as_of} ({_amount(at_year)} in {target.year})",
    }


def _amount(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def evaluation_record(ev: Evaluation, observed_file: Path, command: list[str] | None) -> dict:
    """What made the evaluation: the scenario (with the observed inputs), seed, evaluation year, thresholds,
    the observations' file, the weights' effective size, calibration, code and data versions, timings."""
    from sim.data.regions import data_file_hashes
    from sim.data.vintage import data_vintage
    from sim.results.runs import calibration_record, code_version, interval_meaning

    s = ev.scenario
    return {
        "scenario": ev.scenario.model_dump(mode="json"),
        "seed": ev.scenario.seed,
        "replicates": ev.scenario.replicates,
        "as_of": ev.as_of,
        "thresholds": ev.thresholds.model_dump(),
        "observed_file": str(observed_file),
        "observed_file_sha256": hashlib.sha256(Path(observed_file).read_bytes()).hexdigest(),
        "observations_used": len(ev.used),
        "effective_size": round(ev.effective_size, 2),
        "intervals": f"90% interval over the runs, weighted by the observations: {interval_meaning(ev.scenario)}",
        "calibration": calibration_record(ev.scenario),
        "code": code_version(),
        "data_files_sha256": data_file_hashes(),
        "data_vintage": data_vintage(s.region, s.base_year, s.calibration, s.region_file),
        "seconds": {k: round(v, 1) for k, v in ev.seconds.items()},
        "command": command,
    }


def write_evaluation(
    ev: Evaluation,
    out: Path,
    observed_file: Path,
    command: list[str] | None = None,
    charts: Callable[[Path], object] | None = None,
) -> Path:
    """evaluation.csv, fans.csv, observed.csv, evaluation.json and, with ``charts(folder)``, the charts, all
    at once (an earlier evaluation in ``out`` is replaced only when everything is written)."""
    from sim.results.files import replace_folder

    with replace_folder(Path(out), marker="evaluation.csv") as tmp:
        ev.table.to_csv(tmp / "evaluation.csv", index=False)
        ev.fans.to_csv(tmp / "fans.csv", index=False)
        pd.DataFrame([o.model_dump() for o in ev.observed]).to_csv(tmp / "observed.csv", index=False)
        (tmp / "evaluation.json").write_text(
            json.dumps(evaluation_record(ev, observed_file, command), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        if charts is not None:
            charts(tmp)
    return Path(out)


def describe_weights(ev: Evaluation) -> str:
    n = len(ev.weights)
    return f"{len(ev.used)} observations up to {ev.as_of} weight {n} runs: effective size {ev.effective_size:.1f}" + (
        " (few runs carry the weight: add replicates)" if ev.effective_size < max(10, 0.05 * n) else ""
    )
