"""The app's emulated preview: whether an emulator speaks for a scenario, and what it predicts there, as yearly
lines with their 90% bands.

An emulator applies to a scenario when the scenario is the emulator's base scenario (the experiment's, as
resolved and stored in its manifest) with only its factors moved, each within the range it was trained on.
Both are compared as resolved (defaults filled in) with the factors' key paths taken out, and with the run's
settings left out (``RUN_SETTINGS``: how a run is named, seeded, replicated, scaled and checked; not what a run
is expected to show, at any faithful scale). When it does not apply, ``Verdict`` says why: the first key that
differs and whether it is a lever the emulator does not move, a factor's lever set beyond its factor (another
year of its path, a time profile), a value out of range, or another scenario.

Lines: an experiment lists one outcome per year for a yearly chart (``waiting_list_2021`` ...
``waiting_list_2035``); the outcomes with a year are grouped by indicator and breakdown into one line each,
in the experiment's order. Only outcomes meeting the validation standard (``Emulator.usable``) are predicted;
the others are named with their held-out figures and left out of the line.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.emulator import Emulator, EmulatorError, encode, levels_of, manifest_of
from sim.analysis.emulator_training import load_emulator
from sim.catalogues.levers import lever_catalogue

# what a run's settings change: its label, its random draws, its number of runs, its persons per agent and
# what it is checked against; not what the model is expected to show (the emulator's band is one run's)
RUN_SETTINGS = ("name", "title", "description", "seed", "replicates", "scale", "observed", "targets")
BREAKDOWN = ("sex", "age_group", "capacity", "residence", "group")


@dataclass(frozen=True)
class Line:
    """One indicator at one breakdown, year by year: the outcomes behind it and which of them are usable."""

    indicator: str
    breakdown: dict  # the outcome's breakdown, defaults left out
    years: list[int]
    outcomes: list[str]  # one per year

    @property
    def key(self) -> str:
        """A name for the page's classes: the indicator and breakdown in letters, digits, '-' and '_'."""
        return re.sub(r"[^\w-]+", "-", "-".join([self.indicator, *(str(v) for v in self.breakdown.values())]))


@dataclass(frozen=True)
class Verdict:
    """Whether the emulator applies; if not, why (``reason`` one of scenario, lever, form, range) and where."""

    values: tuple | None = None  # the factors' values, in factor order, when it applies
    reason: str = ""
    key: str = ""  # the key that differs (a lever's key for lever and form, a factor's for range)
    value: Any = None
    allowed: str = ""  # the factor's range or levels, for range

    @property
    def applies(self) -> bool:
        return self.values is not None


RANK = {"": 0, "range": 1, "form": 2, "lever": 3, "scenario": 4}  # the closer a miss, the more it tells a user


@dataclass(frozen=True)
class Predicted:
    """A line's prediction at one scenario: mean and 90% band of a run, NaN where the year is not usable."""

    line: Line
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    usable: list[bool]
    relative_error: float  # the largest held-out error (RMSE / held-out spread) of its usable years


@dataclass
class Preview:
    """An emulator as the app uses it: the emulator, its base scenario (resolved, as JSON data) and its lines."""

    folder: Path
    emulator: Emulator
    base: dict
    name: str
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Preview:
        """EmulatorError (one line) for a folder that is not a current, complete emulator of a scenario."""
        emulator = load_emulator(folder)
        manifest = manifest_of(folder)
        base = manifest["experiment"].get("scenario")
        if not isinstance(base, dict):
            raise EmulatorError(f"{folder}: an emulator of a test function, not of a scenario: nothing to preview")
        lines = yearly_lines(manifest["experiment"]["experiment"]["outcomes"])
        if not lines:
            raise EmulatorError(f"{folder}: none of its outcomes has a year; a preview needs yearly outcomes")
        return cls(Path(folder), emulator, base, str(manifest.get("name") or Path(folder).name), lines)

    def verdict(self, scenario: dict) -> Verdict:
        """Whether this emulator speaks for ``scenario`` (resolved, as ``Scenario.model_dump(mode='json')``)."""
        factors = self.emulator.factors
        values = [factor_value(scenario, f.key) for f in factors]
        ours, theirs = without(scenario, factors), without(self.base, factors)
        differs = first_difference(ours, theirs)
        if differs is not None:
            lever = lever_of(differs)
            if lever is None:
                return Verdict(reason="scenario", key=differs)
            moved = any(f.key.startswith(lever + ".") or f.key == lever for f in factors)
            return Verdict(reason="form" if moved else "lever", key=lever, value=at(scenario, lever))
        for f, v in zip(factors, values, strict=True):
            try:
                encode([f], [(v,)])
            except (EmulatorError, TypeError, ValueError):  # out of range, not a level, or not a number
                levels = levels_of(f)
                allowed = ", ".join(map(str, levels)) if levels is not None else f"{f.range[0]:g} to {f.range[1]:g}"
                return Verdict(reason="range", key=f.key, value=v, allowed=allowed)
        return Verdict(values=tuple(values))

    def predict(self, values: tuple) -> list[Predicted]:
        usable = set(self.emulator.usable())
        wanted = [o for line in self.lines for o in line.outcomes if o in usable]
        predictions = self.emulator.predict([values], wanted) if wanted else {}
        out = []
        for line in self.lines:
            shown = [o in usable for o in line.outcomes]
            mean, low, high = (np.full(len(line.years), np.nan) for _ in range(3))
            for i, o in enumerate(line.outcomes):
                if shown[i]:
                    p = predictions[o]
                    a, b = p.interval()
                    mean[i], low[i], high[i] = p.mean[0], a[0], b[0]
            validation = self.emulator.validation
            errors = [validation[o]["relative_error"] for o, s in zip(line.outcomes, shown, strict=True) if s]
            out.append(Predicted(line, mean, low, high, shown, max(errors, default=float("nan"))))
        return out

    def not_usable(self, line: Line) -> list[tuple[int, dict]]:
        """(year, held-out figures) of the line's years not predicted to the standard."""
        usable = set(self.emulator.usable())
        return [
            (y, self.emulator.validation.get(o, {}))
            for y, o in zip(line.years, line.outcomes, strict=True)
            if o not in usable
        ]


def best_verdict(previews: list[Preview], scenario: dict) -> tuple[Preview | None, Verdict]:
    """The first emulator that applies; else the closest miss (a value out of range before another scenario)."""
    best: tuple[Preview | None, Verdict] = (None, Verdict(reason="scenario"))
    for preview in previews:
        verdict = preview.verdict(scenario)
        if verdict.applies:
            return preview, verdict
        if best[0] is None or RANK[verdict.reason] < RANK[best[1].reason]:
            best = (preview, verdict)
    return best


# --- scenarios as data --------------------------------------------------------------------------------
def as_json(scenario) -> dict:
    """A validated scenario (or its ``model_dump()``) as the emulator's manifest stores its base: JSON data, year
    keys as text."""
    return json.loads(json.dumps(scenario) if isinstance(scenario, dict) else scenario.model_dump_json())


def _parts(key: str) -> list[str]:
    return key.split(".")


def at(data: Any, key: str) -> Any:
    """The value at a dotted key path (None where there is none)."""
    node = data
    for part in _parts(key):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def without(data: dict, factors) -> dict:
    """The scenario with the run's settings and the factors' key paths taken out."""
    out = copy.deepcopy({k: v for k, v in data.items() if k not in RUN_SETTINGS})
    for f in factors:
        *parents, last = _parts(f.key)
        node = at(out, ".".join(parents)) if parents else out
        if isinstance(node, dict):
            node.pop(last, None)
            if not node and parents and lever_of(".".join(parents)):  # an empty path keeps the base, as null does
                parent = at(out, ".".join(parents[:-1])) if len(parents) > 1 else out
                parent[parents[-1]] = None
        elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
            node[int(last)] = None  # a position in a list: its place kept, its value not compared
    return out


def factor_value(data: dict, key: str) -> Any:
    """A factor's value in a scenario: a path's year unset because the whole path is (null: the lever's base
    value every year) is that base value when the catalogue states it as a number."""
    found = at(data, key)
    lever = lever_of(key)
    if found is None and lever is not None and lever != key and at(data, lever) is None:
        base = lever_catalogue()[lever].base
        return float(base) if isinstance(base, int | float) else None
    return found


def first_difference(a: Any, b: Any, key: str = "") -> str | None:
    """The first key path at which ``a`` and ``b`` differ (None: they are the same)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            found = first_difference(a.get(k), b.get(k), f"{key}.{k}" if key else str(k))
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{key}.{i}")
            if found is not None:
                return found
        return None
    return None if a == b else key


def lever_of(key: str) -> str | None:
    """The lever a key path belongs to (``policy.beds.total.2030`` -> ``policy.beds.total``), if any."""
    levers = lever_catalogue()
    parts = _parts(key)
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in levers:
            return ".".join(parts[:n])
    return None


# --- lines --------------------------------------------------------------------------------------------
def yearly_lines(outcomes: list[dict]) -> list[Line]:
    """The experiment's outcomes with a year, grouped by indicator and breakdown into lines (in the order the
    experiment lists them; years sorted)."""
    grouped: dict[str, tuple[str, dict, list[tuple[int, str]]]] = {}
    for o in outcomes:
        if o.get("year") is None:
            continue
        breakdown = {k: o[k] for k in BREAKDOWN if o.get(k) is not None and not (k == "sex" and o[k] == "all")}
        key = json.dumps([o["indicator"], breakdown], sort_keys=True)
        grouped.setdefault(key, (o["indicator"], breakdown, []))[2].append((int(o["year"]), o["name"]))
    lines = []
    for indicator, breakdown, points in grouped.values():
        points.sort()
        lines.append(Line(indicator, breakdown, [y for y, _ in points], [n for _, n in points]))
    return lines
