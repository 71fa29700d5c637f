"""Charts for plan documents, drawn from a run's (or several runs') results folder.

Every word comes from the chosen language's labels: indicators, their breakdowns and units from the
indicator catalogue (``sim/catalogues/indicators.yaml``), titles and axes from the label table
(``sim/data/labels/{en,zh}.yaml``). The Chinese charts use Noto Sans SC (``sim.outputs.fonts``), so no
character falls back to a box and PDFs embed it as a real font. Figures are A4 text width (16 cm),
colours are the Okabe-Ito colour-blind-safe palette, every care setting keeps its colour in every
chart, axes carry units, and a source line names the scenario, the seed, the replicates and the data.
Several runs are overlaid on the same axes, each in its own colour and named in the legend.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim import __version__  # noqa: E402
from sim.catalogues.indicators import catalogue
from sim.data.regions import region_name  # noqa: E402
from sim.outputs.labels import labels, run_title, run_vintage, style, vintage_text  # noqa: E402
from sim.results.folder import Run  # noqa: E402

A4_WIDTH_IN = 16 / 2.54
ROW_HEIGHT_IN = 3.3
FORMATS = ("png", "svg", "pdf")
PNG_DPI = 300
# Okabe & Ito (2008) colour-blind-safe palette
SETTING_COLOURS = {
    "family": "#E69F00",
    "home_care": "#56B4E9",
    "day_care": "#009E73",
    "family_bed": "#F0E442",
    "institution": "#0072B2",
}
LEVEL_COLOURS = {
    "mild": "#DDDDDD",
    "moderate": "#BBBBBB",
    "severe": "#888888",
    "total": "#555555",
}  # greys: lines stay legible
CERT_COLOURS = {"none": "#BBBBBB", "junior": "#56B4E9", "intermediate": "#0072B2", "advanced": "#009E73"}
LINE_COLOURS = {
    "beds": "#000000",
    "staffed": "#D55E00",
    "home_care": "#CC79A7",
    "needed": "#000000",
    "income": "#009E73",
    "spending": "#D55E00",
    "balance": "#0072B2",
    "waiting": "#D55E00",
}
OCCUPANCY_GROUPS = {"all": "#000000", "public": "#0072B2", "private": "#E69F00", "nursing": "#009E73"}
RESIDENCE_COLOURS = {"urban": "#0072B2", "rural": "#009E73"}
RUN_STYLES = ["-", "--", ":", "-."]
# several runs on the same axes: a colour per run, the first (the baseline) blue and the second orange as in
# the targets chart; the series of a panel told apart by their line style, named in a grey legend
RUN_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]
SERIES_STYLES = ["-", "--", ":", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5))]
SERIES_LEGEND_COLOUR = "#555555"


def _band(ax, series: pd.DataFrame, colour: str, label: str, style: str | tuple = "-") -> None:
    ax.plot(series.index, series["mean"], linestyle=style, color=colour, label=label, linewidth=1.6)
    if (series["p95"] > series["p05"]).any():
        ax.fill_between(series.index, series["p05"], series["p95"], color=colour, alpha=0.2, linewidth=0)


def _stack(ax, run: Run, indicator: str, breakdown: str, colours: dict[str, str], lang: str) -> None:
    """Stacked areas of an indicator, one per value of a breakdown (the keys of ``colours``), labelled
    with the catalogue's words for the values."""
    frames = [run.series(indicator, **{breakdown: v})["mean"].rename(v) for v in colours]
    data = pd.concat(frames, axis=1).fillna(0.0)
    names = [catalogue().value_label(indicator, breakdown, v, lang) for v in colours]
    ax.stackplot(data.index, data.T.values, labels=names, colors=list(colours.values()), alpha=0.9)


@dataclass
class Pen:
    """How a chart draws one run's series. Alone (no ``colour``): each series in its own colour, categories
    as stacked areas. Overlaid on other runs: every series in the run's colour, told apart by a line style
    that is the same for the same series in every run (``styles``, shared by the runs' pens, per panel);
    categories become lines, as stacked areas of several runs would hide each other."""

    colour: str | None = None
    index: int = 0
    styles: dict = field(default_factory=dict)  # panel -> series label -> line style

    @property
    def overlaid(self) -> bool:
        return self.colour is not None

    def band(self, ax, series: pd.DataFrame, colour: str | None, label: str, style: str | tuple = "-") -> None:
        if not self.overlaid:
            _band(ax, series, colour, label, style)
            return
        mine = self.styles.setdefault(ax, {})
        style = mine.setdefault(label, SERIES_STYLES[len(mine) % len(SERIES_STYLES)])
        _band(ax, series, self.colour, label, style)

    def stack(self, ax, run: Run, indicator: str, breakdown: str, colours: dict[str, str], lang: str) -> None:
        if not self.overlaid:
            _stack(ax, run, indicator, breakdown, colours, lang)
            return
        for v in colours:
            name = catalogue().value_label(indicator, breakdown, v, lang)
            self.band(ax, run.series(indicator, **{breakdown: v}), None, name)


def _name(indicator: str, L: dict) -> str:
    return catalogue().label(indicator, L["lang"])


def _unit(indicator: str, L: dict) -> str:
    return catalogue().unit_label(catalogue()[indicator].unit, L["lang"])


# --- the charts: each draws one run's panels with a pen; `figure` overlays runs ---------------------
def draw_older_people(axes, run: Run, L: dict, pen: Pen) -> None:
    """Urban and rural: how many older people, and how many at severe or total loss (the census 'unable
    to care for oneself'), where demand for care homes and home care diverges."""
    c = L["charts"]["older_people"]
    pen.stack(axes[0], run, "population", "residence", RESIDENCE_COLOURS, L["lang"])
    over_80 = run.series("population", age_group="80+")
    pen.band(axes[0], over_80, LINE_COLOURS["beds"], catalogue().describe("population", L["lang"], age_group="80+"))
    axes[0].set_ylabel(f"{c['y']} ({_unit('population', L)})")
    for residence, colour in RESIDENCE_COLOURS.items():
        severe = run.series("elders_by_capacity", capacity="severe", residence=residence)
        total = run.series("elders_by_capacity", capacity="total", residence=residence)
        where = catalogue().value_label("population", "residence", residence, L["lang"])
        name = f"{c['severe_or_total']}（{where}）" if L["lang"] == "zh" else f"{c['severe_or_total']}: {where}"
        pen.band(axes[1], severe + total, colour, name)
    axes[1].set_ylim(bottom=0)
    axes[1].set_ylabel(f"{c['severe_y']} ({_unit('population', L)})")


def draw_demand_capacity(axes, run: Run, L: dict, pen: Pen) -> None:
    ax = axes[0]
    c = L["charts"]["demand_capacity"]
    if pen.overlaid:  # four levels of several runs would be too many lines: their total
        pen.band(ax, run.series("persons_with_need"), None, _name("persons_with_need", L))
    else:
        levels = {lvl: LEVEL_COLOURS[lvl] for lvl in ("total", "severe", "moderate", "mild")}
        _stack(ax, run, "elders_by_capacity", "capacity", levels, L["lang"])
    pen.band(ax, run.series("beds"), LINE_COLOURS["beds"], _name("beds", L))
    pen.band(ax, run.series("staffed_beds"), LINE_COLOURS["staffed"], _name("staffed_beds", L), "--")
    pen.band(ax, run.series("home_care_capacity"), LINE_COLOURS["home_care"], _name("home_care_capacity", L), ":")
    ax.set_ylabel(c["y"])


def draw_care_arrangements(axes, run: Run, L: dict, pen: Pen) -> None:
    pen.stack(axes[0], run, "elders_by_setting", "group", SETTING_COLOURS, L["lang"])
    axes[0].set_ylabel(f"{L['charts']['care_arrangements']['y']} ({_unit('elders_by_setting', L)})")


def draw_occupancy(axes, run: Run, L: dict, pen: Pen) -> None:
    c = L["charts"]["occupancy"]
    for group, colour in OCCUPANCY_GROUPS.items():
        name = catalogue().value_label("occupancy", "group", group, L["lang"])
        pen.band(axes[0], run.series("occupancy", group), colour, name)
    axes[0].set_ylim(0, 1)
    axes[0].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[0].set_ylabel(c["y"])
    pen.band(axes[1], run.series("waiting_list"), LINE_COLOURS["waiting"], _name("waiting_list", L))
    axes[1].set_ylabel(f"{c['waiting_y']} ({_unit('waiting_list', L)})")
    axes[1].set_ylim(bottom=0)  # a count: its axis starts at zero


def draw_workforce(axes, run: Run, L: dict, pen: Pen) -> None:
    c = L["charts"]["workforce"]
    if pen.overlaid:  # four certification levels of several runs would be too many lines: their total
        pen.band(axes[0], run.series("workers"), None, _name("workers", L))
    else:
        _stack(axes[0], run, "workers", "group", CERT_COLOURS, L["lang"])
    pen.band(axes[0], run.series("workers_required"), LINE_COLOURS["needed"], c["needed"])
    posts = run.series("workers") + run.series("vacancies")
    pen.band(axes[0], posts, LINE_COLOURS["staffed"], c["posts"], "--")
    axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel(f"{c['y']} ({_unit('workers', L)})")


def draw_insurance(axes, run: Run, L: dict, pen: Pen) -> None:
    ax = axes[0]
    if run.scenario["policy"]["insurance"]["start_year"] is None:
        if pen.overlaid:  # the other runs' lines stay: a line in the run's colour says which has none
            note = f"{run_title(run, L['lang'])}{'：' if L['lang'] == 'zh' else ': '}{L['no_insurance']}"
            ax.text(
                0.01, 0.98 - 0.07 * pen.index, note, color=pen.colour, fontsize=6.5, va="top", transform=ax.transAxes
            )
            return
        ax.text(0.5, 0.5, L["no_insurance"], ha="center", va="center", transform=ax.transAxes)
        ax.set_yticks([])
        return
    income, spending = run.series("ltci_income") / 1e6, run.series("ltci_spending") / 1e6
    if pen.overlaid:  # bars of several runs side by side would be too narrow to read: lines
        pen.band(ax, income, None, _name("ltci_income", L))
        pen.band(ax, spending, None, _name("ltci_spending", L))
    else:
        years = income.index.to_numpy()
        ax.bar(years - 0.2, income["mean"], width=0.4, color=LINE_COLOURS["income"], label=_name("ltci_income", L))
        ax.bar(
            years + 0.2, spending["mean"], width=0.4, color=LINE_COLOURS["spending"], label=_name("ltci_spending", L)
        )
    pen.band(ax, run.series("ltci_balance") / 1e6, LINE_COLOURS["balance"], _name("ltci_balance", L))
    ax.set_ylabel(catalogue().unit_label("million yuan", L["lang"]))


CHARTS = {
    "older_people": (draw_older_people, 2),
    "demand_capacity": (draw_demand_capacity, 1),
    "care_arrangements": (draw_care_arrangements, 1),
    "occupancy": (draw_occupancy, 2),
    "workforce": (draw_workforce, 1),
    "insurance": (draw_insurance, 1),
    "targets": (None, 0),
}


def _source_line(runs: list[Run], L: dict) -> str:
    first = runs[0]
    scenario = " / ".join(r.name for r in runs)
    region = region_name(first.scenario["region"], L["lang"], first.scenario.get("region_file"))
    return L["source"].format(
        version=__version__,
        scenario=scenario,
        region=region,
        seed=first.scenario["seed"],
        replicates=first.scenario["replicates"],
        spread=spread_text(first.manifest, L),
        data=vintage_text(run_vintage(first), L["lang"]),
    )


# Replicates for a stable 90% interval: subsamples of 40 Shengzhou replicates (waiting list, occupancy, workers in
# 2030) gave intervals of a median 57-63% of the 40-replicate width at 5 replicates, 78-81% at 10, 90-92% at 20
STABLE_REPLICATES = 20


def spread_text(manifest: dict, L: dict) -> str:
    """What a run's intervals include, in words, and a caution when too few replicates made them."""
    text = L["spread"][spread_kind(manifest)]
    replicates = manifest["scenario"]["replicates"]
    if 1 < replicates < STABLE_REPLICATES:
        text += L["few_replicates"].format(replicates=replicates)
    return text


def spread_kind(manifest: dict) -> str:
    """What a run's intervals include, as a key of the labels' ``spread``: none, random or parameters."""
    if manifest["scenario"]["replicates"] == 1:
        return "none"
    calibration = manifest.get("calibration") or {}
    return "parameters" if calibration.get("parameter_sets") == "ensemble" else "random"


def figure(chart: str, runs: list[Run], lang: str = "en") -> Figure:
    """One chart for one run, or for several runs overlaid on the same axes (a colour per run)."""
    if chart not in CHARTS:
        raise ValueError(f"unknown chart {chart!r} (allowed: {', '.join(CHARTS)})")
    L = labels(lang)
    with plt.rc_context(style(lang)):
        if chart == "targets":
            return _targets_figure(runs, L)
        draw, panels = CHARTS[chart]
        fig, grid = plt.subplots(panels, 1, figsize=(A4_WIDTH_IN, ROW_HEIGHT_IN * panels + 0.6), squeeze=False)
        axes = grid[:, 0]
        if len(runs) == 1:
            draw(axes, runs[0], L, Pen())
            handles, names = [], []
            for ax in axes:
                h, n = ax.get_legend_handles_labels()
                handles, names = handles + h, names + n
        else:
            handles, names = _overlay(draw, axes, runs, L)
        for ax in axes:
            ax.set_xlabel(L["year"])
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, integer=True))
            ax.yaxis.set_major_formatter(
                ax.yaxis.get_major_formatter()
                if ax.get_ylim()[1] <= 1.0001
                else matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}")
            )
        fig.suptitle(L["charts"][chart]["title"], fontsize=10, x=0.01, ha="left")
        longest = max(map(len, names), default=0)
        columns = min(4 if longest <= 28 else 2 if longest <= 55 else 1, max(1, len(names)))  # long labels fit
        fig.legend(
            handles,
            names,
            loc="lower center",
            ncol=columns,
            fontsize=7,
            frameon=False,
            bbox_to_anchor=(0.5, 0.065),  # above the source line's three lines
        )
        fig.text(0.01, 0.005, _source_line(runs, L), fontsize=5.5, color="#555555", wrap=True)
        rows = int(np.ceil(len(names) / columns))
        fig.tight_layout(rect=(0, 0.09 + 0.03 * rows, 1, 0.95))
        return fig


def _overlay(draw, axes, runs: list[Run], L: dict) -> tuple[list, list[str]]:
    """Every run drawn on the same panels, each panel's series named in a legend of its own (grey lines in
    their styles; a panel of one series is named by its axis), and the figure legend's entries naming the
    runs: each run's line over its band, and whether it has one."""
    colours = [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(len(runs))]
    styles: dict = {}
    for i, run in enumerate(runs):
        draw(axes, run, L, Pen(colours[i], i, styles))
    for ax in axes:
        if ax.dataLim.y0 >= 0:  # counts from zero, as one run's stacked areas are
            ax.set_ylim(bottom=0)
    for ax, series in styles.items():
        if len(series) > 1:
            lines = [Line2D([], [], color=SERIES_LEGEND_COLOUR, linestyle=s, label=n) for n, s in series.items()]
            ax.legend(handles=lines, fontsize=6, frameon=False, loc="best")
    handles, names = [], []
    for run, colour in zip(runs, colours, strict=True):
        line = Line2D([], [], color=colour, linewidth=1.6)
        banded = spread_kind(run.manifest) != "none"
        handles.append((Patch(color=colour, alpha=0.2, linewidth=0), line) if banded else line)
        what = L["band"] if banded else L["spread"]["none"]
        title = run_title(run, L["lang"])
        names.append(f"{title}（{what}）" if L["lang"] == "zh" else f"{title} ({what})")
    return handles, names


TITLE_CHARS = {"en": 44, "zh": 22}  # characters of a target panel's title a line holds, at two panels a row


def _targets_figure(runs: list[Run], L: dict) -> Figure:
    c = L["charts"]["targets"]
    targets = pd.concat([r.targets.assign(run=r.name) for r in runs if not r.targets.empty], ignore_index=True)
    names = list(dict.fromkeys(targets["target"])) if not targets.empty else []
    cols = 2 if len(names) > 1 else 1
    rows = max(1, int(np.ceil(len(names) / cols)))
    fig, grid = plt.subplots(rows, cols, figsize=(A4_WIDTH_IN, 1.9 * rows + 0.8), squeeze=False)
    for k, name in enumerate(names):
        ax = grid[k // cols, k % cols]
        target = catalogue().target(name)
        indicator, group = target.indicator, target.group
        for i, run in enumerate(runs):
            mine = run.targets[run.targets["target"] == name] if not run.targets.empty else run.targets
            if mine.empty:
                continue
            t = mine.iloc[0]
            series = run.series(indicator, group)
            _band(ax, series, RUN_COLOURS[i % len(RUN_COLOURS)], run.name, RUN_STYLES[i % len(RUN_STYLES)])
            met = bool(t["met_at_target_year"])
            colour = ("#009E73" if met else "#D55E00") if t["kind"] == "outcome" else "#555555"
            ax.plot(
                [t["target_year"]],
                [t["value_at_target_year"]],
                "o",
                color=colour,
                markersize=5,
                zorder=5,
            )
        t = targets[targets["target"] == name].iloc[0]
        ax.axhline(t["target_value"], color="#000000", linewidth=1, linestyle="--", label=c["target"])
        ax.axvline(t["target_year"], color="#999999", linewidth=0.8, linestyle=":")
        if t["kind"] == "outcome":
            verdict = c["met"] if bool(t["met_at_target_year"]) else c["not_met"]
        else:  # a commitment is what the scenario sets: delivered or not, never an achievement
            verdict = c["delivered"] if bool(t["met_at_target_year"]) else c["not_delivered"]
        # with several runs each has its own verdict: the markers say it (green met, red not, grey commitment)
        title = target.labels[L["lang"]] + (f": {verdict}" if len(runs) == 1 else "")
        # wrapped to the panel's width: at two panels a row a longer title ran into its neighbour and was cut
        ax.set_title(textwrap.fill(title, TITLE_CHARS[L["lang"]] * (2 if cols == 1 else 1)), fontsize=8, loc="left")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, integer=True))
        if catalogue()[indicator].unit == "share":
            ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        if t["target_value"] >= 100:
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    for k in range(len(names), rows * cols):
        grid[k // cols, k % cols].set_visible(False)
    fig.suptitle(c["title"], fontsize=10, x=0.01, ha="left")
    fig.text(0.01, 0.005, _source_line(runs, L), fontsize=5.5, color="#555555", wrap=True)
    top = 0.95
    if len(runs) > 1:  # which line is which scenario
        handles, labels_ = grid[0, 0].get_legend_handles_labels()
        seen = dict(zip(labels_, handles, strict=True))
        fig.legend(seen.values(), seen.keys(), loc="upper right", fontsize=6, ncol=len(seen), frameon=False)
        top = 0.92
    fig.tight_layout(rect=(0, 0.05, 1, top))
    return fig


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    png = path.suffix == ".png"
    # zlib level 1: a third faster to write than the default 6, for files about a fifth larger
    extra = {"dpi": PNG_DPI, "pil_kwargs": {"compress_level": 1}} if png else {}
    fig.savefig(path, metadata=_metadata(path.suffix), **extra)
    plt.close(fig)
    return path


def _metadata(suffix: str) -> dict | None:
    # fixed metadata so that the same run gives the same files
    if suffix == ".png":
        return {"Software": f"sim {__version__}"}
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None, "Producer": f"sim {__version__}"}
    return None


def save_charts(
    runs: list[Run], out: Path, charts: list[str] | None = None, formats: tuple[str, ...] = ("png",), lang: str = "en"
) -> list[Path]:
    written = []
    for chart in charts or list(CHARTS):
        if chart == "targets" and all(r.targets.empty for r in runs):
            continue
        for fmt in formats:
            if fmt not in FORMATS:
                raise ValueError(f"unknown format {fmt!r} (allowed: {', '.join(FORMATS)})")
            written.append(save(figure(chart, runs, lang), Path(out) / f"{chart}.{fmt}"))
    return written


def draw_default_charts(folder: Path) -> list[Path]:
    """The default chart set of a results folder (PNG, English) into ``folder/charts/en``."""
    return save_charts([Run.load(folder)], Path(folder) / "charts" / "en")
