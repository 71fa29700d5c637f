"""The lever catalogue: every policy lever a scenario can set, declared once (``levers.yaml`` beside this
module): its key path, type, unit, range, default, where a schedule starts, the app's section, the submodel
that reads it, the plan targets it moves and the group of public cost it falls in, with labels and help in
English and Chinese. Read by the scenario schema, the model's yearly levers, the app, sweeps' factor checks,
`sim evaluate`'s lever search and the plan's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from sim.catalogues.indicators import LANGS, catalogue

FILE = "levers.yaml"
TYPES = ("number", "integer", "share", "year", "choice", "schedule")
POPULATION_60PLUS = "population_60plus"  # a range's upper end: the region's people aged 60+ in the base year
COST_GROUPS = (
    "beds_construction",
    "beds_operation",
    "family_beds",
    "day_care",
    "workforce_training",
    "workforce_pay",
    "family_support",
    "insurance_top_up",
    "subsidies",
)  # the groups of the indicator plan_cost, in its order

Labels = dict[str, str]


@dataclass(frozen=True)
class Lever:
    key: str  # e.g. policy.beds.total
    type: str
    unit: str
    low: float | str | None  # a number, or base_year for a year
    high: float | str | None  # a number, population_60plus, or horizon for a year
    default: Any
    base: dict | float | None  # where a schedule starts: a number, or {region: KEY[, per_10k_older: true]}
    group: str
    submodel: str
    labels: Labels
    help: Labels
    choices: dict[str, Labels] = field(default_factory=dict)
    moves: dict[str, int] = field(default_factory=dict)  # target -> +1 or -1
    cost: str = ""  # a COST_GROUPS entry, or "none (why)"

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @property
    def section(self) -> str:
        """The scenario's section it is in: beds, insurance, subsidies, workforce, family, health."""
        return self.key.split(".")[1]

    @property
    def region_base(self) -> str | None:
        """The key of the region's base-year figure a schedule starts from (care_regions.yaml), if any."""
        return self.base.get("region") if isinstance(self.base, dict) else None

    def label(self, lang: str) -> str:
        return self.labels[lang]


@dataclass(frozen=True)
class LeverCatalogue:
    levers: dict[str, Lever]  # by key path, in the catalogue's order
    groups: dict[str, Labels]  # the app's sections, in order

    def __getitem__(self, key: str) -> Lever:
        return self.levers[key]

    def __contains__(self, key: object) -> bool:
        return key in self.levers

    def in_section(self, section: str) -> list[Lever]:
        return [lever for lever in self.levers.values() if lever.section == section]

    def for_target(self, target: str) -> tuple[str, int] | None:
        """The lever that moves a plan target most directly and its effect (+1 or -1), or None."""
        for lever in self.levers.values():
            if target in lever.moves:
                return lever.key, lever.moves[target]
        return None

    def lever_of(self, key: str) -> Lever | None:
        """The lever a key path names, with or without a year at its end (``policy.beds.total.2025``)."""
        if key in self.levers:
            return self.levers[key]
        head, _, last = key.rpartition(".")
        return self.levers.get(head) if last.isdigit() else None


@cache
def lever_catalogue() -> LeverCatalogue:
    """The catalogue of ``levers.yaml`` (read once), checked: every field, label and target present."""
    raw = yaml.safe_load(files("sim.catalogues").joinpath(FILE).read_text(encoding="utf-8"))
    return parse(raw)


def parse(raw: dict) -> LeverCatalogue:
    """A lever catalogue from its YAML data; ValueError naming the entry if anything is missing or unknown."""
    groups = {str(k): _labels(v, f"groups.{k}") for k, v in raw["groups"].items()}
    levers = {str(key): _lever(str(key), entry, groups) for key, entry in raw["levers"].items()}
    moved: dict[str, str] = {}
    for lever in levers.values():
        for target in lever.moves:
            if target in moved:
                raise ValueError(f"{FILE}: target {target} is moved by {moved[target]} and {lever.key}: give one lever")
            moved[target] = lever.key
    return LeverCatalogue(levers, groups)


def _labels(entry: dict, where: str, prefix: str = "") -> Labels:
    missing = [lang for lang in LANGS if not isinstance(entry.get(prefix + lang), str) or not entry[prefix + lang]]
    if missing:
        raise ValueError(f"{FILE}: {where}: no {prefix or 'label '}{', '.join(missing)}")
    return {lang: entry[prefix + lang] for lang in LANGS}


KNOWN = {"type", "unit", "range", "default", "base", "group", "submodel", "choices", "moves", "cost", "en", "zh"}


def _lever(key: str, entry: dict, groups: dict) -> Lever:
    where = f"levers.{key}"
    unknown = set(entry) - KNOWN - {"help_en", "help_zh"}
    if unknown:
        raise ValueError(f"{FILE}: {where}: unknown keys {sorted(unknown)}")
    if entry["type"] not in TYPES:
        raise ValueError(f"{FILE}: {where}.type = {entry['type']!r}: must be one of {', '.join(TYPES)}")
    if entry["group"] not in groups:
        raise ValueError(f"{FILE}: {where}.group = {entry['group']!r}: not in groups")
    cost = str(entry.get("cost", ""))
    if cost not in COST_GROUPS and not cost.startswith("none ("):
        raise ValueError(f"{FILE}: {where}.cost = {cost!r}: one of {', '.join(COST_GROUPS)}, or 'none (why)'")
    targets = catalogue().targets
    moves = {str(t): int(e) for t, e in (entry.get("moves") or {}).items()}
    for target, effect in moves.items():
        if target not in targets or effect not in (-1, 1):
            raise ValueError(f"{FILE}: {where}.moves.{target}: a plan target of indicators.yaml, effect 1 or -1")
    low, high = entry.get("range") or (None, None)
    choices = {str(c): _labels(text, f"{where}.choices.{c}") for c, text in (entry.get("choices") or {}).items()}
    if (entry["type"] == "choice") != bool(choices):
        raise ValueError(f"{FILE}: {where}: a choice lists its choices, and only a choice")
    if entry["type"] == "schedule" and "base" not in entry:
        raise ValueError(f"{FILE}: {where}: a schedule says where it starts (base)")
    return Lever(
        key=key,
        type=entry["type"],
        unit=str(entry.get("unit", "")),
        low=low,
        high=high,
        default=entry.get("default"),
        base=entry.get("base"),
        group=entry["group"],
        submodel=entry["submodel"],
        labels=_labels(entry, where),
        help=_labels(entry, where, "help_"),
        choices=choices,
        moves=moves,
        cost=cost,
    )
