"""The indicator catalogue: what the results table holds, declared once (``indicators.yaml`` beside this
module) and read by everything that names an indicator: queries, plan targets, sweep outcomes,
calibration targets, the command line, charts and reports.

Each indicator has a unit, the values of its five breakdowns (``sex``, ``age_group``, ``capacity``,
``residence``, ``group``; the table has a row for every combination, every year), the first year it has values (the
base year, or the year after for deaths, entrants and life expectancy), whether the population or the
care system makes it, and labels in English and Chinese. A breakdown's *total* (``all``, ``all/all``,
``60+``, or its only value) is what is read when a breakdown is not given. A test runs the model and
checks the table against this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import product

import yaml

from sim.common.errors import show

LANGS = ("en", "zh")
BREAKDOWN = ("sex", "age_group", "capacity", "residence", "group")
TOTALS = ("all", "all/all", "60+")  # the values that stand for a whole breakdown, where present
SOURCES = ("population", "care")
FIRST_YEARS = {"base": 0, "base + 1": 1}
DEFAULT_VALUES = {
    "sex": ("all",),
    "age_group": ("60+",),
    "capacity": ("all",),
    "residence": ("all",),
    "group": ("all",),
}
PLAIN_BREAKDOWNS = ("sex", "age_group", "capacity", "residence")  # declared with their values; `group` has labels
FILE = "indicators.yaml"


class CatalogueError(ValueError):
    """A name or breakdown the results table does not have: which field, its value and what is allowed
    (the message is ``field = 'value': allowed``)."""

    def __init__(self, field: str, value, allowed: str):
        super().__init__(f"{field} = {show(value)}: {allowed}")
        self.field, self.value, self.allowed = field, value, allowed


Labels = dict[str, str]  # language -> text


@dataclass(frozen=True)
class AcrossRegions:
    """How a region made of regions totals an indicator: a sum, or its parts' values weighted by the indicator
    ``weighted_by`` (matched at the same breakdown where it has the value, else at its total; ``groups`` maps
    a group to the weight's)."""

    weighted_by: str | None = None  # None: a sum
    groups: tuple[tuple[str, str], ...] = ()

    def weight_group(self, group: str) -> str | None:
        return dict(self.groups).get(group)


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    source: str  # "population" or "care"
    first_year_offset: int  # 0: from the base year; 1: from the year after
    values: dict[str, tuple[str, ...]]  # breakdown -> its values, in the table's order
    labels: Labels
    group_labels: dict[str, Labels]  # group value -> labels (the indicator's own groups)
    across_regions: AcrossRegions  # how a region made of regions totals it from its parts

    def first_year(self, base_year: int) -> int:
        return base_year + self.first_year_offset

    def keys(self) -> frozenset[tuple[str, ...]]:
        """Every (sex, age_group, capacity, residence, group) the table has a row for, every year."""
        return frozenset(product(*(self.values[b] for b in BREAKDOWN)))

    def default(self, breakdown: str) -> str | None:
        """The total of a breakdown: the value read when none is given (None: there is none, give one)."""
        values = self.values[breakdown]
        for total in TOTALS:
            if total in values:
                return total
        return values[0] if len(values) == 1 else None

    def check(self, breakdown: str, value: str) -> None:
        """CatalogueError naming the breakdown if ``value`` is not one of the indicator's."""
        if value not in self.values[breakdown]:
            raise CatalogueError(
                breakdown, value, f"not a breakdown of {self.name} (allowed: {self.allowed(breakdown)})"
            )

    def allowed(self, breakdown: str) -> str:
        return ", ".join(sorted(self.values[breakdown]))

    def resolve(self, **given: str | None) -> dict[str, str]:
        """The full breakdown, totals filled in where a value is None or not given; CatalogueError naming
        the breakdown if a value is not one of the indicator's, or one must be given."""
        out = {}
        for b in BREAKDOWN:
            v = given.get(b)
            if v is None:
                v = self.default(b)
                if v is None:
                    raise CatalogueError(b, None, f"{self.name} needs one (allowed: {self.allowed(b)})")
            self.check(b, v)
            out[b] = v
        return out


@dataclass(frozen=True)
class Target:
    """A plan indicator a scenario's targets can name: an indicator at a group (sex all, ages 60+)."""

    name: str
    indicator: str
    group: str
    labels: Labels
    kind: str  # commitment (the scenario sets it: scheduled and delivered) or outcome (projected: a verdict)
    tolerance: float  # how far on the wrong side of the target a value may be and still meet it ...
    relative: bool  # ... in the indicator's unit, or (relative) as a share of the target

    def margin(self, target_value: float) -> float:
        """How far (in the indicator's unit) a value may fall short of ``target_value`` and still meet it."""
        return self.tolerance * abs(target_value) if self.relative else self.tolerance

    def tolerance_text(self, lang: str = "en") -> str:
        """The tolerance in words: '0.005' or '0.5% of the target' ('目标值的0.5%')."""
        if not self.relative:
            return f"{self.tolerance:g}"
        return f"目标值的{self.tolerance * 100:g}%" if lang == "zh" else f"{self.tolerance * 100:g}% of the target"


@dataclass(frozen=True)
class Catalogue:
    indicators: dict[str, Indicator]
    targets: dict[str, Target]
    units: dict[str, Labels]
    value_labels: dict[
        str, dict[str, Labels]
    ]  # breakdown -> value -> labels (sex, age, capacity, residence; group all)

    def __getitem__(self, name: str) -> Indicator:
        """The indicator called ``name``; CatalogueError listing the indicators if there is none."""
        try:
            return self.indicators[name]
        except KeyError:
            raise CatalogueError("indicator", name, f"unknown indicator (allowed: {self.allowed()})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.indicators

    def allowed(self) -> str:
        return ", ".join(sorted(self.indicators))

    def label(self, indicator: str, lang: str = "en") -> str:
        return self[indicator].labels[lang]

    def unit_label(self, unit: str, lang: str = "en") -> str:
        return self.units[unit][lang]

    def value_label(self, indicator: str, breakdown: str, value: str, lang: str = "en") -> str:
        """The words for one value of an indicator's breakdown, e.g. occupancy's group 'private'."""
        ind = self[indicator]
        ind.check(breakdown, value)
        if breakdown == "group" and value in ind.group_labels:
            return ind.group_labels[value][lang]
        return self.value_labels[breakdown][value][lang]

    def describe(self, indicator: str, lang: str = "en", **breakdown: str | None) -> str:
        """An indicator at a breakdown in words, e.g. 'Population aged 80+, women' or 'Occupancy: Public'
        (Chinese puts sex and age first: '女性80岁及以上人口'). Left out: 'all' (and 'all/all'), and any
        breakdown the indicator has one value of."""
        ind = self[indicator]
        key = ind.resolve(**breakdown)
        shown = {
            b: self.value_label(indicator, b, key[b], lang)
            for b in BREAKDOWN
            if key[b] not in ("all", "all/all") and len(ind.values[b]) > 1
        }
        rest = [shown[b] for b in ("capacity", "residence", "group") if b in shown]
        if lang == "zh":
            text = shown.get("sex", "") + shown.get("age_group", "") + ind.labels[lang]
            return text + ("：" + "，".join(rest) if rest else "")
        text = ind.labels[lang] + (f" {shown['age_group']}" if "age_group" in shown else "")
        text += f", {shown['sex']}" if "sex" in shown else ""
        return text + (": " + ", ".join(rest) if rest else "")

    def target(self, name: str) -> Target:
        return self.targets[name]


@cache
def catalogue() -> Catalogue:
    """The catalogue of ``indicators.yaml`` (read once), checked: every unit, value and label present."""
    raw = yaml.safe_load(files("sim.catalogues").joinpath(FILE).read_text(encoding="utf-8"))
    return parse(raw)


def parse(raw: dict) -> Catalogue:
    """A catalogue from its YAML data; ValueError naming the entry if anything is missing or unknown."""
    units = {str(k): _labels(v, f"units.{k}") for k, v in raw["units"].items()}
    value_labels = {
        b: {str(v): _labels(text, f"values.{b}.{v}") for v, text in raw["values"].get(b, {}).items()} for b in BREAKDOWN
    }
    indicators = {
        str(name): _indicator(str(name), entry, units, value_labels) for name, entry in raw["indicators"].items()
    }
    _check_weights(indicators)
    targets = {}
    for name, entry in raw["targets"].items():
        t = Target(
            str(name),
            entry["indicator"],
            str(entry.get("group", "all")),
            _labels(entry, f"targets.{name}"),
            entry["kind"],
            *_tolerance(entry.get("tolerance"), f"targets.{name}"),
        )
        if t.kind not in ("commitment", "outcome"):
            raise ValueError(f"{FILE}: targets.{name}: kind must be commitment or outcome")
        ind = indicators.get(t.indicator)
        if ind is None or t.group not in ind.values["group"]:
            raise ValueError(f"{FILE}: targets.{name}: no indicator {t.indicator} with group {t.group}")
        targets[t.name] = t
    return Catalogue(indicators, targets, units, value_labels)


def _tolerance(declared, where: str) -> tuple[float, bool]:
    """(tolerance, relative) from a declared ``0.005`` (in the indicator's unit) or ``"0.5%"`` (of the target)."""
    relative = isinstance(declared, str) and declared.endswith("%")
    try:
        value = float(declared[:-1]) / 100 if relative else float(declared)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 <= value < 1e9 or isinstance(declared, bool):
        raise ValueError(f'{FILE}: {where}: tolerance must be a number >= 0 or a percentage such as "0.5%"')
    return value, relative


def _labels(entry: dict, where: str) -> Labels:
    missing = [lang for lang in LANGS if not isinstance(entry.get(lang), str) or not entry[lang]]
    if missing:
        raise ValueError(f"{FILE}: {where}: no label in {', '.join(missing)}")
    return {lang: entry[lang] for lang in LANGS}


def _indicator(name: str, entry: dict, units: dict, value_labels: dict) -> Indicator:
    where = f"indicators.{name}"
    known = {"unit", "from", "first_year", "across_regions", *PLAIN_BREAKDOWNS, "groups", *LANGS}
    if set(entry) - known:
        raise ValueError(f"{FILE}: {where}: unknown keys {sorted(set(entry) - known)}")
    if entry["unit"] not in units:
        raise ValueError(f"{FILE}: {where}.unit = {entry['unit']!r}: not in units")
    if entry["from"] not in SOURCES or entry["first_year"] not in FIRST_YEARS:
        raise ValueError(f"{FILE}: {where}: from must be one of {SOURCES}, first_year one of {tuple(FIRST_YEARS)}")
    groups = {str(g): _labels(text, f"{where}.groups.{g}") for g, text in (entry.get("groups") or {}).items()}
    values = {b: tuple(str(v) for v in entry.get(b, DEFAULT_VALUES[b])) for b in PLAIN_BREAKDOWNS}
    values["group"] = tuple(groups) or DEFAULT_VALUES["group"]
    for b, vs in values.items():
        if len(set(vs)) != len(vs):
            raise ValueError(f"{FILE}: {where}.{b}: a value is listed twice")
        unlabelled = [v for v in vs if v not in value_labels[b] and not (b == "group" and v in groups)]
        if unlabelled:
            raise ValueError(f"{FILE}: {where}.{b}: no labels for {unlabelled} (add them under values.{b})")
    return Indicator(
        name,
        entry["unit"],
        entry["from"],
        FIRST_YEARS[entry["first_year"]],
        values,
        _labels(entry, where),
        groups,
        _across_regions(entry.get("across_regions"), where),
    )


def _across_regions(declared, where: str) -> AcrossRegions:
    if declared == "sum":
        return AcrossRegions()
    if isinstance(declared, dict) and set(declared) <= {"weighted_by", "groups"} and "weighted_by" in declared:
        groups = tuple((str(k), str(v)) for k, v in (declared.get("groups") or {}).items())
        return AcrossRegions(str(declared["weighted_by"]), groups)
    raise ValueError(f"{FILE}: {where}.across_regions: must be sum or {{weighted_by: INDICATOR, groups: ...}}")


def _check_weights(indicators: dict[str, Indicator]) -> None:
    """Every weight an indicator a sum, and every group it maps to one of the weight's."""
    for ind in indicators.values():
        rule = ind.across_regions
        if rule.weighted_by is None:
            continue
        weight = indicators.get(rule.weighted_by)
        where = f"{FILE}: indicators.{ind.name}.across_regions"
        if weight is None or weight.across_regions.weighted_by is not None:
            raise ValueError(f"{where}: weighted_by must name an indicator that is a sum")
        for mine, theirs in rule.groups:
            if mine not in ind.values["group"] or theirs not in weight.values["group"]:
                raise ValueError(f"{where}.groups: {mine} -> {theirs} is not a group of each")
