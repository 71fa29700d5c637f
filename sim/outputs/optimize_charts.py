"""Charts of a search (`sim optimize`), in every language, in the look of sim/outputs/charts.py (A4 text width,
Okabe-Ito colours, a source line): the plans asked on the first two objectives, those meeting every target,
the Pareto front and the cheapest verified plan; and each lever's yearly schedule in the verified plans
against the plan the search started from.

Every word comes from the language's label table (``optimize`` in sim/data/labels/{en,zh}.yaml), the indicator
catalogue (objectives) and the lever catalogue (levers).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from sim import __version__
from sim.analysis.optimize import SearchResult
from sim.analysis.optimum import Found
from sim.catalogues.indicators import LANGS, catalogue
from sim.catalogues.levers import lever_catalogue
from sim.outputs.charts import A4_WIDTH_IN, save
from sim.outputs.labels import labels, style

GREY, BLUE, ORANGE, GREEN, VERMILION = "#BBBBBB", "#0072B2", "#E69F00", "#009E73", "#D55E00"
PLAN_COLOURS = [ORANGE, GREEN, "#CC79A7", "#56B4E9", "#F0E442"]


def compact(value: float, _=None) -> str:
    for size, suffix in ((1e9, " bn"), (1e6, " M")):
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def plain_numbers(axis) -> None:
    """Large values as 25 M or 3.5 bn, at most five ticks."""
    low, high = axis.get_view_interval()
    if max(abs(low), abs(high)) >= 1000:
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(compact))


def objective_label(result: SearchResult, j: int, L: dict) -> str:
    objective = result.search.problem.objectives[j]
    spec = result.search.problem.spec.objectives[j]
    name = catalogue().describe(objective.reader.indicator, L["lang"], group=spec.group)
    words = L["optimize"]["statistic"][objective.statistic]
    return words.format(name=name, year=objective.reader.year, quantile=objective.quantile)


def source_line(result: SearchResult, L: dict) -> str:
    problem = result.search.problem
    emulated = "emulator" in result.manifest  # proposed by an emulator: its runs are the verification's
    return L["optimize"]["source_emulated" if emulated else "source"].format(
        version=__version__,
        name=problem.name,
        runs=result.manifest["runs"]["verification"] if emulated else result.search.requested,
        plans=len(result.search.values),
        seed=problem.spec.seed,
        scenario=problem.base.name,
        scale=problem.base.scale,
        p=problem.spec.constraints.probability,
    )


def _finish(fig: Figure, title: str, source: str) -> Figure:
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.text(0.01, 0.005, source, fontsize=5.5, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig


def front_figure(result: SearchResult, found: Found, lang: str = "en") -> Figure:
    """Every plan asked on the first two objectives (or the first against the plan's number)."""
    L = labels(lang)
    W = L["optimize"]
    table = found.evaluations
    names = [o.name for o in result.search.problem.objectives]
    x_name = names[0]
    y_name = names[1] if len(names) > 1 else None
    with plt.rc_context(style(lang)):
        fig, ax = plt.subplots(figsize=(A4_WIDTH_IN, A4_WIDTH_IN * 0.62))

        def y_of(frame):
            return frame[y_name] if y_name else frame["plan"]

        missing = table[~table.meets_targets]
        feasible = table[table.meets_targets]
        ax.scatter(missing[x_name], y_of(missing), s=10, color=GREY, label=W["other_plans"], linewidths=0)
        ax.scatter(feasible[x_name], y_of(feasible), s=14, color=BLUE, label=W["feasible"], linewidths=0)
        front = found.front
        if not front.empty:
            ordered = front.sort_values(x_name)
            ax.plot(ordered[x_name], y_of(ordered), color=ORANGE, marker="o", markersize=4, label=W["front"])
            failed = front[front.verification == "fails verification"]
            if not failed.empty:
                ax.scatter(
                    failed[x_name], y_of(failed), s=60, facecolors="none", edgecolors=VERMILION, label=W["failed"]
                )
            if found.cheapest is not None:
                best = front[front.plan == found.cheapest]
                ax.scatter(best[x_name], y_of(best), s=120, marker="*", color=VERMILION, zorder=5, label=W["cheapest"])
        ax.set_xlabel(objective_label(result, 0, L))
        ax.set_ylabel(objective_label(result, 1, L) if y_name else "plan")
        plain_numbers(ax.xaxis)
        plain_numbers(ax.yaxis)
        ax.legend(fontsize=6.5, frameon=False)
        title = W["front_title"].format(name=result.search.problem.name)
        return _finish(fig, title, source_line(result, L))


def schedules_figure(result: SearchResult, found: Found, lang: str = "en") -> Figure:
    """One panel per numeric lever: its value year by year in each verified plan and in the starting plan."""
    from sim.scenario.levers import lever_path

    L = labels(lang)
    W = L["optimize"]
    problem = result.search.problem
    decisions = [d for d in problem.decisions if d.type != "choice"]
    plans = [int(p) for p in found.verified.plan.unique()] if not found.verified.empty else []
    scenarios = {p: problem.plan_scenario(result.search.values[p]) for p in plans}
    columns = min(3, len(decisions))
    rows = math.ceil(len(decisions) / columns)
    with plt.rc_context(style(lang)):
        fig, axes = plt.subplots(rows, columns, figsize=(A4_WIDTH_IN, 0.3 + 2.1 * rows), squeeze=False)
        for ax, decision in zip(axes.flat, decisions, strict=False):
            lever = lever_catalogue()[decision.key]
            years = np.arange(problem.base.base_year, problem.base.horizon + 1)
            start = _path(problem.base, decision, lever_path)
            ax.plot(years, [start[y] for y in years], color="#000000", linestyle="--", label=W["start"])
            for k, (plan, scenario) in enumerate(scenarios.items()):
                path = _path(scenario, decision, lever_path)
                label = W["plan"].format(plan=plan) + (f" ({W['cheapest']})" if plan == found.cheapest else "")
                ax.plot(years, [path[y] for y in years], color=PLAN_COLOURS[k % len(PLAN_COLOURS)], label=label)
            ax.set_title(textwrap.fill(lever.label(lang), 34 if lang == "en" else 17), fontsize=7.5)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5, integer=True))
            units = catalogue().units  # a lever's unit in words where the catalogue translates it, else in English only
            unit = units[lever.unit][lang] if lever.unit in units else (lever.unit if lang == "en" else "")
            ax.set_ylabel(textwrap.fill(unit, 24), fontsize=6.5)
            plain_numbers(ax.yaxis)
        for ax in list(axes.flat)[len(decisions) :]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=6, frameon=False)
        title = W["schedules_title"].format(name=problem.name)
        return _finish(fig, title, source_line(result, L))


def _path(scenario, decision, lever_path) -> dict[int, float]:
    if decision.type == "schedule":
        return lever_path(scenario, decision.key)
    value = float(getattr(getattr(scenario.policy, decision.key.split(".")[1]), decision.key.split(".")[2]) or 0)
    return {y: value for y in range(scenario.base_year, scenario.horizon + 1)}


def save_optimize_charts(result: SearchResult, found: Found, out: Path, langs: tuple[str, ...] = LANGS) -> list[Path]:
    """The charts in every language, each in ``out/LANG``."""
    paths = []
    for lang in langs:
        paths.append(save(front_figure(result, found, lang), Path(out) / lang / "front.png"))
        paths.append(save(schedules_figure(result, found, lang), Path(out) / lang / "schedules.png"))
    return paths
