"""The words of charts and reports in a language: the label tables (``sim/data/labels/{en,zh}.yaml``), text
given once or per language, the names of scenario keys, a run's title, and the fonts each language is
drawn in."""

from __future__ import annotations

from functools import cache

import yaml

from sim.catalogues.indicators import LANGS
from sim.catalogues.levers import lever_catalogue
from sim.data.regions import DATA
from sim.outputs.fonts import chinese_font_path
from sim.results.folder import Run
from sim.scenario.files import what_if_changes


def in_language(text: str | dict | None, lang: str) -> str:
    """Text given once, or per language ({en: ..., zh: ...}): the language's, else English."""
    if isinstance(text, dict):
        return text.get(lang) or text.get("en") or ""
    return text or ""


@cache
def labels(lang: str) -> dict:
    """The label table of a language (titles, axes, report words), with its ``lang``."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (allowed: {', '.join(LANGS)})")
    table = yaml.safe_load(DATA.joinpath("labels", f"{lang}.yaml").read_text(encoding="utf-8"))
    return {**table, "lang": lang}


def key_label(key: str, L: dict) -> str:
    """The name of a scenario key path (sweep factors, evaluation levers): a lever's label from the lever
    catalogue, a data key's from the label table, with the year when its last part is one; else the key."""
    levers = lever_catalogue()
    names = {k: lever.label(L["lang"]) for k, lever in levers.levers.items()} | L["sweep"]["factors"]
    if key in names:
        return names[key]
    head, _, last = key.rpartition(".")
    if head in names and len(last) == 4 and last.isdigit():
        return L["sweep"]["in_year"].format(name=names[head], year=last)
    return key


def font_family(lang: str) -> list[str]:
    if labels(lang)["font"]:
        chinese_font_path()
        return [labels(lang)["font"], "DejaVu Sans"]
    return ["DejaVu Sans"]


def style(lang: str = "en") -> dict:
    """The matplotlib settings every chart of the package is drawn with."""
    return {
        "font.family": font_family(lang),
        "font.size": 8,
        "pdf.fonttype": 42,  # TrueType embedded as a font, not Type 3 drawings
        "ps.fonttype": 42,
        "axes.titlesize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def run_title(run: Run, lang: str) -> str:
    """The scenario's title in ``lang`` (its name when it has none); a what-if's says what it changed, so that
    it never reads as its plan."""
    title = in_language(run.scenario.get("title"), lang) or run.name
    changes = what_if_changes(run.manifest.get("changes") or [])
    if changes:
        L = labels(lang)
        title += L["what_if"].format(changes=("；" if lang == "zh" else "; ").join(change_words(c, L) for c in changes))
    return title


def change_words(change: str, L: dict) -> str:
    """A ``key=value`` change as a reader reads it: the lever's label and the value, a schedule year by year
    (``policy.beds.total={2025: 120000}``: 'Care-home beds (all types) = 120,000 by 2025'); a key without a
    label, or a value that is not a number or a year's numbers, as written."""
    key, _, text = change.partition("=")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    name = key_label(key.strip(), L)

    def amount(v) -> str:
        if isinstance(v, int) and 1900 <= v <= 2200:  # a year, as years are written
            return str(v)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:g}"

    if isinstance(value, dict) and all(isinstance(y, int) for y in value):
        shown = ", ".join(L["by_year"].format(value=amount(v), year=y) for y, v in sorted(value.items()))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        shown = amount(value)
    else:
        shown = text.strip()
    return f"{name} = {shown}"


def run_description(run: Run, lang: str) -> str:
    return in_language(run.scenario.get("description"), lang)


def run_vintage(run: Run) -> dict:
    return recorded_vintage(run.manifest)


def recorded_vintage(manifest: dict) -> dict:
    """The editions of the data a run or an evaluation used: as its manifest records them, or, for results
    made before manifests did, as the packaged data gives them for its scenario."""
    from sim.data.vintage import data_vintage

    if manifest.get("data_vintage"):
        return manifest["data_vintage"]
    s = manifest["scenario"]
    return data_vintage(s["region"], s["base_year"], s.get("calibration", "default"), s.get("region_file"))


def vintage_text(vintage: dict, lang: str) -> str:
    """The data's editions in one line of the language (charts' footers, reports, downloads)."""
    V = labels(lang)["vintage"]
    c = vintage.get("calibration")
    if c:
        years = sorted({o["year"] for o in c["observations"]})
        calibration = V["calibration"].format(
            name=c["name"],
            fitted=c["fitted"] or "?",
            rechecked=V["rechecked"].format(date=c["rechecked"]) if c.get("rechecked") else "",
            n=len(c["observations"]),
            years=", ".join(map(str, years)) or "-",
        )
    else:
        calibration = V["no_calibration"]
    b = vintage["bulletins"]
    urban = "-".join(map(str, b["urbanisation"])) if b["urbanisation"] else "-"
    return V["text"].format(
        census=vintage["census"],
        earlier=vintage["earlier_census"],
        deaths=", ".join(map(str, b["deaths"])) or "-",
        urban=urban,
        calibration=calibration,
    )
