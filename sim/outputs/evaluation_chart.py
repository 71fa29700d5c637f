"""The evaluation chart (`sim evaluate`): for each target, its indicator projected before and after the
observations (90% bands), the observed points with their tolerance, the evaluation year, the target, and
its probability and verdict (or, for a commitment, scheduled and delivered)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import pandas as pd

from sim import __version__
from sim.catalogues.indicators import catalogue
from sim.data.regions import region_name
from sim.outputs.charts import A4_WIDTH_IN, save, spread_kind
from sim.outputs.labels import labels, recorded_vintage, style, vintage_text

PRIOR, CONDITIONED, OBSERVED, TARGET = "#BBBBBB", "#0072B2", "#000000", "#D55E00"


def _number(v: float, share: bool) -> str:
    return f"{v:.0%}" if share else f"{v:,.0f}"


def draw_evaluation_charts(folder: Path) -> list[Path]:
    """The evaluation chart in both languages, from an evaluation folder's files."""
    return [draw_evaluation(folder, lang) for lang in ("en", "zh")]


def draw_evaluation(folder: Path, lang: str = "en") -> Path:
    """``charts/<lang>/evaluation.png`` in an evaluation folder, from its CSV files."""
    return save(evaluation_figure(folder, lang), Path(folder) / "charts" / lang / "evaluation.png")


def evaluation_figure(folder: Path, lang: str = "en"):
    """The evaluation chart of an evaluation folder (``sim evaluate``), from its CSV files."""
    folder = Path(folder)
    table = pd.read_csv(folder / "evaluation.csv")
    fans = pd.read_csv(folder / "fans.csv")
    observed = pd.read_csv(folder / "observed.csv")
    record = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
    L = labels(lang)
    E = L["charts"]["evaluation"]
    cat = catalogue()
    n = len(table)
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    with plt.rc_context(style(lang)):
        fig, grid = plt.subplots(rows, cols, figsize=(A4_WIDTH_IN, 2.4 * rows + 0.9), squeeze=False)
        for k, t in table.iterrows():
            ax = grid[k // cols, k % cols]
            target = cat.target(t["target"])
            unit = cat[target.indicator].unit
            share = unit == "share"
            f = fans[fans.target == t["target"]]
            ax.fill_between(f.year, f.prior_p05, f.prior_p95, color=PRIOR, alpha=0.5, lw=0, label=E["prior"])
            ax.fill_between(f.year, f.p05, f.p95, color=CONDITIONED, alpha=0.3, lw=0, label=E["conditioned"])
            ax.plot(f.year, f["mean"], color=CONDITIONED, lw=1)
            o = observed[(observed.indicator == target.indicator) & (observed.group.astype(str) == target.group)]
            if len(o):
                ax.errorbar(
                    o.year, o.value, yerr=o.tolerance, fmt="o", ms=3, color=OBSERVED, lw=0.8, label=E["observed"]
                )
            ax.plot([t.target_year], [t.target_value], marker="*", ms=9, color=TARGET, ls="none", label=E["target"])
            ax.axvline(record["as_of"], color="#555555", lw=0.6, ls=":", label=E["as_of"])
            if t["kind"] == "commitment":
                scheduled = t["scheduled"]
                text = E["scheduled"].format(
                    scheduled=_number(scheduled, share) if pd.notna(scheduled) else "-",
                    delivered=_number(t["expected"], share),
                )
            else:
                text = E["probability"].format(p=t["p_met"], verdict=E["verdicts"][t["verdict"]])
            ax.set_title(f"{target.labels[lang]}\n{text}", fontsize=7.5, loc="left")
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, integer=True))
            formatter = (lambda v, _: f"{v:.0%}") if share else (lambda v, _: f"{v:,.0f}")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(formatter))
            ax.set_ylim(bottom=0)
        for k in range(n, rows * cols):
            grid[k // cols, k % cols].set_visible(False)
        handles, names = grid[0, 0].get_legend_handles_labels()
        seen = dict(zip(names, handles, strict=True))
        for ax in grid.flat:
            for h, name in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(name, h)
        fig.suptitle(E["title"].format(as_of=record["as_of"]), fontsize=10, x=0.01, y=0.995, ha="left")
        top = 1 - 0.32 / fig.get_figheight()  # the legend's line under the title
        fig.legend(
            seen.values(), seen.keys(), loc="upper left", bbox_to_anchor=(0.01, top), fontsize=6, ncol=3, frameon=False
        )
        scenario = record["scenario"]
        source = E["source"].format(
            version=__version__,
            scenario=scenario["name"],
            region=region_name(scenario["region"], L["lang"], scenario.get("region_file")),
            runs=record["replicates"],
            seed=record["seed"],
            spread=L["interval_kinds"][spread_kind(record)],
            observations=record["observations_used"],
            as_of=record["as_of"],
            ess=record["effective_size"],
            on_track=record["thresholds"]["on_track"],
            off_track=record["thresholds"]["off_track"],
        )
        data = vintage_text(recorded_vintage(record), L["lang"])
        source += L["vintage"]["appended"].format(data=data)
        fig.text(0.01, 0.005, source, fontsize=5.5, color="#555555", wrap=True)
        fig.tight_layout(rect=(0, 0.06, 1, top - 0.3 / fig.get_figheight()))
        return fig
