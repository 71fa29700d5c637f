"""Maps of China's provinces, coloured by any indicator of a run by provinces in a year, with the provinces
ranked beside the map.

The outlines are Apache ECharts 4.9.0's map of China (``sim/data/maps``, Apache License 2.0; sim/data/SOURCES.md),
packaged, so nothing is fetched. ECharts stores each ring's coordinates as UTF-8 text: per point two characters,
each a zigzag-coded difference from the previous point in 1/1024 degree, the first from the ring's offset;
decoded here as ECharts' own ``parseGeoJson`` does. Taiwan, Hong Kong and Macao are drawn grey: the census of
the 31 provinces, and so the model, does not cover them.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib.resources import files

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim.catalogues.indicators import catalogue  # noqa: E402
from sim.data.regions import PROVINCES, find_region, region_name  # noqa: E402
from sim.outputs.labels import style  # noqa: E402

MAP_FILE = "echarts-4.9.0-china.json"
NOT_MODELLED = "#DDDDDD"
NO_VALUE = "#F4F4F4"
EDGE = "#FFFFFF"
COLOURS = "viridis"  # perceptually uniform and colour-blind safe
MID_LATITUDE = 36.0  # degrees: the map's aspect (an equirectangular map, x squeezed by cos of it)
WIDTH_IN, HEIGHT_IN = 16 / 2.54, 10 / 2.54
# the maps a run by provinces draws with its charts: each indicator (sex all, its totals) at the horizon
DEFAULT_MAPS = ("population", "beds_per_1000", "unmet_need_share", "workers_per_10k")


def _decode(ring: str, offset: list[int], scale: float) -> np.ndarray:
    codes = np.array([ord(c) for c in ring], dtype=np.int64) - 64
    steps = (codes >> 1) ^ -(codes & 1)  # zigzag: 0, -1, 1, -2, ... back to signed
    x = np.cumsum(steps[0::2]) + offset[0]
    y = np.cumsum(steps[1::2]) + offset[1]
    return np.column_stack([x, y]) / scale


@cache
def outlines() -> dict[str, tuple[np.ndarray, ...]]:
    """Each place's outer rings (longitude, latitude), by region key for the 31 provinces and by the map's own
    name for the places not modelled."""
    raw = json.loads(files("sim").joinpath("data", "maps", MAP_FILE).read_text(encoding="utf-8"))
    scale = raw.get("UTF8Scale") or 1024
    out = {}
    for feature in raw["features"]:
        geometry, name = feature["geometry"], feature["properties"]["name"]
        polygons = geometry["coordinates"]
        offsets = geometry["encodeOffsets"]
        if geometry["type"] == "Polygon":
            polygons, offsets = [polygons], [offsets]
        rings = tuple(_decode(polygon[0], offset[0], scale) for polygon, offset in zip(polygons, offsets, strict=True))
        key = find_region(name)
        out[key if key in PROVINCES else name] = rings
    return out


def _area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def map_values(regions_summary: pd.DataFrame, indicator: str, year: int, **breakdown: str | None) -> pd.Series:
    """Each province's mean of an indicator at a breakdown (its totals where not given; both sexes) in a year;
    CatalogueError naming a breakdown the indicator does not have."""
    key = catalogue()[indicator].resolve(**({"sex": "all"} | breakdown))
    rows = regions_summary[(regions_summary.indicator == indicator) & (regions_summary.year == year)]
    for b, v in key.items():
        rows = rows[rows[b] == v]
    rows = rows[rows.region.isin(PROVINCES)]
    return rows.set_index("region")["mean"]


def map_figure(values: pd.Series, title: str, unit: str, lang: str = "en", note: str = "") -> Figure:
    """The provinces coloured by ``values`` (region key -> value; a province without one is pale), a colour bar
    in ``unit``, and the provinces ranked by value beside the map (the highest first)."""
    with plt.rc_context(style(lang)):
        fig, (ax, ranks) = plt.subplots(
            1, 2, figsize=(WIDTH_IN, HEIGHT_IN), gridspec_kw={"width_ratios": [2.3, 1], "wspace": 0.35}
        )
        shown = values.dropna()
        norm = matplotlib.colors.Normalize(shown.min(), shown.max()) if len(shown) else None
        cmap = plt.get_cmap(COLOURS)
        rings, colours = [], []
        for place, parts in outlines().items():
            if place in PROVINCES and place in shown.index:
                colour = cmap(norm(shown[place]))
            else:
                colour = NO_VALUE if place in PROVINCES else NOT_MODELLED
            for ring in parts:
                rings.append(ring)
                colours.append(colour)
        order = np.argsort([-_area(r) for r in rings])  # the small on top: Beijing and Tianjin over Hebei
        ax.add_collection(
            PolyCollection(
                [rings[i] for i in order], facecolors=[colours[i] for i in order], edgecolors=EDGE, linewidths=0.3
            )  # fmt: skip
        )
        ax.autoscale_view()
        ax.set_aspect(1 / math.cos(math.radians(MID_LATITUDE)))
        ax.set_axis_off()
        if norm is not None:
            bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal",
                               fraction=0.05, pad=0.02)  # fmt: skip
            bar.set_label(unit, fontsize=7)
            bar.ax.tick_params(labelsize=6)
            bar.ax.xaxis.set_major_formatter(_compact(shown.abs().max()))
        ranked = shown.sort_values(ascending=True)
        ranks.barh(range(len(ranked)), ranked.values, color=[cmap(norm(v)) for v in ranked.values], height=0.75)
        ranks.set_yticks(range(len(ranked)), [f"{len(ranked) - i}. {region_name(k, lang)}" for i, k in
                                              enumerate(ranked.index)], fontsize=5)  # fmt: skip
        ranks.tick_params(axis="x", labelsize=5)
        ranks.xaxis.set_major_formatter(_compact(shown.abs().max() if len(shown) else 0))
        ranks.set_ylim(-0.6, len(ranked) - 0.4)
        fig.suptitle(title, fontsize=9, x=0.01, ha="left")
        if note:
            fig.text(0.01, 0.01, note, fontsize=5.5, color="#555555")
    return fig


def _compact(largest: float) -> matplotlib.ticker.Formatter:
    """Ticks of counts in millions (12 M) where they reach millions, else as they are."""
    if largest >= 1e6:
        return matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 1e6:g} M")
    return matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.4g}")


def indicator_map(
    regions_summary: pd.DataFrame, indicator: str, year: int, lang: str = "en", note: str = "", **breakdown
) -> Figure:
    """The map of one indicator (at a breakdown) in one year, titled and with its unit in ``lang``."""
    cat = catalogue()
    values = map_values(regions_summary, indicator, year, **breakdown)
    title = f"{cat.describe(indicator, lang, **breakdown)}, {year}"
    return map_figure(values, title, cat.unit_label(cat[indicator].unit, lang), lang, note)
