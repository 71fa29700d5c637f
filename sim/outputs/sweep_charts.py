"""Charts of a sweep, one set per outcome and language, in the look of sim/outputs/charts.py (A4 text width,
Okabe-Ito colours, a source line): the factors ranked by their main index with confidence intervals (Sobol
ST beside S1, or Morris mu*); for Morris, the mu*-sigma plane (far right: influential; high: interacting or
non-linear); and the convergence of the main indices as the design grows, with their intervals as bands.

Every word comes from the language's label table (``sweep`` in sim/data/labels/{en,zh}.yaml). A factor is
called by the name the experiment gives it, else by the table's name for its key path (with the year, for
a factor that sets one year of a lever's path), else by its key path; an outcome by the indicator
catalogue's words for its indicator, breakdown and year.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from sim import __version__
from sim.analysis.experiment import Experiment
from sim.analysis.sensitivity import MAIN_INDEX, ranking, single_factors
from sim.catalogues.indicators import LANGS, CatalogueError, catalogue
from sim.outputs.charts import A4_WIDTH_IN, save
from sim.outputs.labels import key_label, labels, style

INDEX_COLOURS = {"ST": "#0072B2", "S1": "#E69F00", "mu_star": "#0072B2"}
LINE_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
CONVERGENCE_LINES = len(LINE_COLOURS)  # the most influential factors drawn; more would not be legible
PLANE_LABELS = 8  # factors labelled in the mu*-sigma plane, most influential first; the rest crowd the origin
PLANE_LABEL_SIZE = 6
# The words of an emulated sweep's charts live here, not in the label tables: those are in the data layer,
# whose every file is part of the code an emulator is refused for (sim.results.runs.model_code_sha256), so
# a word changed there would make every trained emulator unusable.
EMULATED_WORDS = {
    "en": {
        "title": "{title} (emulator)",
        "source": "sim {version} · experiment {name}: {method}, EMULATED: {points:,} points predicted by the emulator "
        "{emulator}, trained on {runs:,} model runs; seed {seed} · {base} · intervals: {confidence:.0%}, bootstrap "
        "and the emulator's uncertainty",
    },
    "zh": {
        "title": "{title}（代理模型估计）",
        "source": "sim {version} · 试验 {name}：{method}，代理模型估计：代理模型 {emulator} 预测 {points:,} 个设计点，"
        "由 {runs:,} 次模型运行训练；随机种子 {seed} · {base} · "
        "区间：{confidence:.0%}，含 bootstrap 与代理模型的不确定性",
    },
}


@dataclass(frozen=True)
class Emulated:
    """Charts of indices an emulator gave, not model runs: their titles and source lines say so."""

    emulator: str  # its folder
    training_runs: int
    points: int  # design points predicted


def factor_label(exp: Experiment, name: str, L: dict) -> str:
    """What a reader sees for a ranked factor or group ``name`` (as in the indices table)."""
    factor = next((f for f in exp.factors if f.name == name), None)
    if factor is None:  # a group: named by the experiment, translated where the table knows the name
        return L["sweep"]["groups"].get(name, name)
    if factor.name != factor.key:  # the experiment named it
        return factor.name
    return key_label(factor.key, L)


def outcome_label(exp: Experiment, name: str, L: dict) -> str:
    """An outcome in words: its indicator at its breakdown, in its year or over the years; its name for an
    output the catalogue does not know (a test function's)."""
    outcome = next((o for o in exp.spec.outcomes if o.name == name), None)
    if outcome is None or outcome.indicator not in catalogue():
        return name
    lang, indicator = L["lang"], outcome.indicator
    groups = [outcome.group] if isinstance(outcome.group, str) else list(outcome.group)
    if len(groups) == 1:
        breakdown = {b: getattr(outcome, b) for b in ("sex", "age_group", "capacity", "residence")}
        try:
            what = catalogue().describe(indicator, lang, group=groups[0], **breakdown)
        except CatalogueError:
            return name
    else:  # a sum of groups: the indicator, and the groups unless they are all of them
        what = catalogue().label(indicator, lang)
        if set(groups) != set(catalogue()[indicator].values["group"]) - {"all", "all/all"}:
            words = [catalogue().value_label(indicator, "group", g, lang) for g in groups]
            what += "：" + "、".join(words) if lang == "zh" else ": " + " + ".join(words)
    if outcome.year is not None:
        return L["sweep"]["outcome_year"].format(name=what, year=outcome.year)
    return L["sweep"]["aggregates"][outcome.aggregate].format(name=what)


def _compact(value: float, _=None) -> str:
    for size, suffix in ((1e9, " bn"), (1e6, " M")):
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.0f}"


def _plain_numbers(axis) -> None:
    """Large values as 25 M or 3.5 bn (five ticks at most, so they never run into each other), not as
    multiples of a power of ten."""
    low, high = axis.get_view_interval()
    if max(abs(low), abs(high)) >= 1000:
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(5))
        axis.set_major_formatter(matplotlib.ticker.FuncFormatter(_compact))


def source_line(exp: Experiment, runs: int, L: dict, emulated: Emulated | None = None) -> str:
    S, m = L["sweep"], exp.spec.method
    if exp.base:
        base = S["base"].format(scenario=exp.base.name, scale=exp.base.scale)
    else:
        base = S["model"].format(model=exp.spec.model)
    if emulated is not None:
        return EMULATED_WORDS[L["lang"]]["source"].format(
            version=__version__,
            name=exp.name,
            method=m.name,
            points=emulated.points,
            emulator=emulated.emulator,
            runs=emulated.training_runs,
            seed=exp.spec.seed,
            base=base,
            confidence=m.confidence,
        )
    return S["source"].format(
        version=__version__,
        name=exp.name,
        method=m.name,
        runs=runs,
        replicates=exp.spec.replicates,
        seed=exp.spec.seed,
        base=base,
        confidence=m.confidence,
    )


def _title(title: str, L: dict, emulated: Emulated | None) -> str:
    return EMULATED_WORDS[L["lang"]]["title"].format(title=title) if emulated is not None else title


def _finish(fig: Figure, title: str, source: str, bottom: float = 0.06) -> Figure:
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    fig.text(0.01, 0.005, source, fontsize=5.5, color="#555555", wrap=True)
    fig.tight_layout(rect=(0, bottom, 1, 0.95))
    return fig


def ranking_figure(
    exp: Experiment, indices: pd.DataFrame, outcome: str, runs: int, lang: str = "en", emulated: Emulated | None = None
) -> Figure:
    """Factors ranked by ST (S1 beside it) or mu*, most influential at the top, with intervals."""
    L = labels(lang)
    S = L["sweep"]
    method = exp.spec.method.name
    table = ranking(indices, outcome, method)
    shown = ["ST", "S1"] if method == "sobol" else ["mu_star"]
    n = len(table)
    with plt.rc_context(style(lang)):
        fig, ax = plt.subplots(figsize=(A4_WIDTH_IN, 1.2 + 0.22 * n))
        y = np.arange(n)[::-1]
        height = 0.8 / len(shown)
        for k, index in enumerate(shown):
            ax.barh(
                y + (len(shown) - 1 - 2 * k) * height / 2,
                table[index],
                height=height,
                xerr=table[f"{index}_conf"].fillna(0),
                color=INDEX_COLOURS[index],
                error_kw={"elinewidth": 0.8, "capsize": 1.5},
                label=S["indices"][index],
            )
        ax.set_yticks(y, [factor_label(exp, f, L) for f in table.index], fontsize=6.5)
        ax.axvline(0, color="#000000", linewidth=0.6)
        ax.set_xlabel(S["share_of_variance"] if method == "sobol" else S["indices"]["mu_star"])
        if len(shown) > 1:  # one index is named by the axis
            ax.legend(fontsize=7, frameon=False, loc="lower right")
        _plain_numbers(ax.xaxis)
        title = _title(S["ranking_title"].format(outcome=outcome_label(exp, outcome, L)), L, emulated)
        return _finish(fig, title, source_line(exp, runs, L, emulated))


def morris_plane_figure(
    exp: Experiment, indices: pd.DataFrame, outcome: str, runs: int, lang: str = "en", emulated: Emulated | None = None
) -> Figure:
    """mu* against sigma, the most influential factors labelled where their labels do not overlap."""
    L = labels(lang)
    S = L["sweep"]
    table = ranking(indices, outcome, "morris")
    with plt.rc_context(style(lang)):
        fig, ax = plt.subplots(figsize=(A4_WIDTH_IN, A4_WIDTH_IN * 0.62))
        grouped = table["sigma"].isna()  # a group of several factors has no sigma: drawn hollow on the axis
        sigma = table["sigma"].fillna(0)
        ax.scatter(table["mu_star"][~grouped], sigma[~grouped], s=14, color=LINE_COLOURS[0], zorder=3)
        if grouped.any():
            ax.scatter(
                table["mu_star"][grouped],
                sigma[grouped],
                s=14,
                facecolors="none",
                edgecolors=LINE_COLOURS[0],
                zorder=3,
                label=S["group_no_sigma"],
            )
        ax.errorbar(
            table["mu_star"], sigma, xerr=table["mu_star_conf"].fillna(0), fmt="none", ecolor="#999999", linewidth=0.6
        )
        top = max(float(table["mu_star"].max()), float(sigma.max()), 1e-12) * 1.05
        ax.plot([0, top], [0, top], ":", color="#999999", linewidth=0.8, label=S["diagonal"])
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(S["indices"]["mu_star"])
        ax.set_ylabel(S["indices"]["sigma"])
        _plain_numbers(ax.xaxis)
        _plain_numbers(ax.yaxis)
        # below the plane, where it can cover neither a point nor a label
        handles, names = ax.get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=2, fontsize=7, frameon=False, bbox_to_anchor=(0.5, 0.035))
        title = _title(S["plane_title"].format(outcome=outcome_label(exp, outcome, L)), L, emulated)
        _finish(fig, title, source_line(exp, runs, L, emulated), 0.1)
        shown = table.head(PLANE_LABELS)
        points = list(zip(table["mu_star"], sigma, strict=True))
        named = [(factor_label(exp, f, L), row["mu_star"], sigma[f]) for f, row in shown.iterrows()]
        _label_points(fig, ax, named, points)
        return fig


def _label_points(fig: Figure, ax, named: list[tuple[str, float, float]], points: list[tuple[float, float]]) -> None:
    """Each label beside its point, in the first free place: right, left, then a line height further up or
    down at a time, joined to its point by a thin line once it has moved off the point's level. A place is
    free if it lies within the axes and overlaps neither a label placed before nor a point. A label with no
    free place is left out: the ranking chart names every factor. Placed once the layout is final, in
    display units, as offsets in points: the same at any resolution the figure is saved at."""
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    dot = 2.5 * fig.dpi / 72  # half a marker's width
    taken = [Bbox.from_bounds(px - dot, py - dot, 2 * dot, 2 * dot) for px, py in ax.transData.transform(points)]

    def free(box: Bbox) -> bool:
        inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        return inside and not any(box.padded(1).overlaps(t) for t in taken)

    for text, x, y in named:
        label = ax.annotate(
            text, (x, y), xytext=(0, 0), textcoords="offset points", fontsize=PLANE_LABEL_SIZE, va="center"
        )
        size = label.get_window_extent(renderer)
        px, py = ax.transData.transform((x, y))
        places = _places(px, py, size.width, size.height, gap=3 * fig.dpi / 72)
        place = next((p for p in places if free(p[3])), None)
        if place is None:
            label.remove()
            continue
        dx, dy, ha, box = place
        label.xyann = (dx * 72 / fig.dpi, dy * 72 / fig.dpi)
        label.set_ha(ha)
        taken.append(box)
        if dy:
            end = ax.transData.inverted().transform((px + dx, py + dy))
            ax.plot([x, end[0]], [y, end[1]], color="#999999", linewidth=0.4, zorder=2)


def _places(px: float, py: float, width: float, height: float, gap: float) -> Iterator[tuple]:
    """(dx, dy, alignment, box) of a label of ``width`` x ``height`` beside the point (px, py), nearest first."""
    for shift in (0, *(k * sign for k in range(1, 12) for sign in (1, -1))):
        dy = shift * height * 1.1
        for dx, ha in ((gap, "left"), (-gap, "right")):
            left = px + dx - (width if ha == "right" else 0)
            yield dx, dy, ha, Bbox.from_bounds(left, py + dy - height / 2, width, height)


def convergence_figure(
    exp: Experiment,
    convergence: pd.DataFrame,
    outcome: str,
    runs: int,
    lang: str = "en",
    emulated: Emulated | None = None,
) -> Figure:
    """The main indices of the most influential factors against the size of the design."""
    L = labels(lang)
    S = L["sweep"]
    method = exp.spec.method.name
    shown = ["ST", "S1"] if method == "sobol" else ["mu_star"]
    mine = convergence[(convergence.outcome == outcome) & single_factors(convergence)]
    full = mine[mine.sample_size == mine.sample_size.max()]
    main = MAIN_INDEX[method]
    top = full[full["index"] == main].sort_values("value", ascending=False).factor.head(CONVERGENCE_LINES).tolist()
    with plt.rc_context(style(lang)):
        fig, axes = plt.subplots(1, len(shown), figsize=(A4_WIDTH_IN, 3.3), squeeze=False, sharey=True)
        for ax, index in zip(axes[0], shown, strict=True):
            for colour, factor in zip(LINE_COLOURS, top, strict=False):
                s = mine[(mine["index"] == index) & (mine.factor == factor)].sort_values("sample_size")
                name = factor_label(exp, factor, L)
                ax.plot(s.sample_size, s.value, "-o", color=colour, markersize=2.5, linewidth=1.2, label=name)
                conf = s.conf.fillna(0)
                ax.fill_between(s.sample_size, s.value - conf, s.value + conf, color=colour, alpha=0.15, linewidth=0)
            ax.set_xscale("log", base=2)
            ax.set_xticks(sorted(mine.sample_size.unique()), [str(v) for v in sorted(mine.sample_size.unique())])
            ax.set_xlabel(S["sample_size"][method])
            ax.set_title(S["indices"][index], fontsize=8, loc="left")
            _plain_numbers(ax.yaxis)
        handles, names = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=2, fontsize=6, frameon=False, bbox_to_anchor=(0.5, 0.03))
        rows = (len(names) + 1) // 2
        title = _title(S["convergence_title"].format(outcome=outcome_label(exp, outcome, L)), L, emulated)
        return _finish(fig, title, source_line(exp, runs, L, emulated), 0.06 + 0.045 * rows)


def sweep_figures(
    exp: Experiment,
    indices: pd.DataFrame,
    convergence: pd.DataFrame,
    runs: int,
    lang: str = "en",
    emulated: Emulated | None = None,
) -> Iterator[tuple[str, Figure]]:
    """(file stem, figure) for every outcome that was analysed, one at a time (a sweep has many)."""
    for outcome in dict.fromkeys(indices.outcome):
        yield f"ranking_{outcome}", ranking_figure(exp, indices, outcome, runs, lang, emulated)
        if exp.spec.method.name == "morris":
            yield f"morris_plane_{outcome}", morris_plane_figure(exp, indices, outcome, runs, lang, emulated)
        if convergence[convergence.outcome == outcome].sample_size.nunique() > 1:
            yield f"convergence_{outcome}", convergence_figure(exp, convergence, outcome, runs, lang, emulated)


def save_sweep_charts(
    exp: Experiment,
    indices: pd.DataFrame,
    convergence: pd.DataFrame,
    runs: int,
    out: Path,
    langs: tuple[str, ...] = LANGS,
    emulated: Emulated | None = None,
) -> list[Path]:
    """The charts in every language, each in ``out/LANG`` as a run's are in its ``charts/LANG``; marked as
    an emulator's when ``emulated`` says whose."""
    return [
        save(fig, Path(out) / lang / f"{stem}.png")
        for lang in langs
        for stem, fig in sweep_figures(exp, indices, convergence, runs, lang, emulated)
    ]
