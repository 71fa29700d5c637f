"""Care-system parameters: declared once, with units and sources, in ``sim/data/care_parameters.yaml`` (the
care system's behaviour) and ``sim/data/plan_costs.yaml`` (the unit costs the plan's public cost is priced at).

A scenario (or a calibration) overrides any of them by name under ``data.parameters``; an override
must have the shape of the default (a number for a number, a list of the same length, a mapping with
some of its keys: the others keep their values), and every number in it must be finite and within the
parameter's declared ``range`` (a list of shares declared with ``sums_to`` must keep its sum), whole if it
is declared ``integer``; ``or_exactly: [value, meaning]`` names the one value outside the range that is
allowed and what it means (``staffing_grade`` 0: derive the grade).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from functools import cache
from typing import Any

import numpy as np
import yaml

from sim.data.regions import DATA

PARAMETER_FILES = ("care_parameters.yaml", "plan_costs.yaml")  # the care system's behaviour; unit costs
COST_FILES = ("plan_costs.yaml",)  # they price the model's flows and change none of its behaviour


@cache
def _declared() -> dict[str, dict]:
    declared: dict[str, dict] = {}
    for name in PARAMETER_FILES:
        declared |= _declared_in(name)
    return declared


@cache
def care_baselines() -> dict[str, dict]:
    """The packaged regions' care supply in the base year (care_regions.yaml)."""
    return yaml.safe_load(DATA.joinpath("care_regions.yaml").read_text(encoding="utf-8"))


def care_baseline(region: str, region_file: dict | None = None) -> dict[str, dict]:
    """A region's care supply in the base year, {figure: {value, source}}: packaged, or a user's region's
    own figures (``region_file``: its definition) with its province's per person aged 60+ where its file
    gives none."""
    from sim.data.regions import load_region
    from sim.data.user_region import care_supply

    if region_file is None:
        return care_baselines()[region]
    province = region_file["province"]
    return care_supply(region_file, care_baselines()[province], load_region(province).population_total())


def behaviour_sha256(text: str | None = None) -> str:
    """SHA-256 of the care parameters' values (``care_parameters.yaml``, or its ``text``): what changes the
    model's behaviour, without the units, ranges and sources that document them. A fit is stale when this
    changes, not when a source is reworded."""
    declared = yaml.safe_load(text) if text is not None else _declared_in("care_parameters.yaml")
    values = {name: spec["value"] for name, spec in declared.items()}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode("utf-8")).hexdigest()


def _declared_in(name: str) -> dict[str, dict]:
    return yaml.safe_load(DATA.joinpath(name).read_text(encoding="utf-8"))


def defaults() -> dict[str, Any]:
    """Every parameter's documented value, by name (a copy: callers may change it)."""
    return copy.deepcopy({name: spec["value"] for name, spec in _declared().items()})


def parameter_names() -> list[str]:
    return sorted(_declared())


def _same_shape(default: Any, value: Any) -> str | None:
    """None if ``value`` can replace ``default``, else what is allowed."""
    if isinstance(default, dict):
        if not isinstance(value, dict) or not set(value) <= set(default):
            return f"must be a mapping with some of the keys {', '.join(default)}"
        for k in value:
            problem = _same_shape(default[k], value[k])
            if problem:
                return f"{k} {problem}"
        return None
    if isinstance(default, list):
        if not isinstance(value, list) or len(value) != len(default):
            return f"must be a list of {len(default)} numbers"
        return None if all(_is_number(v) for v in value) else f"must be a list of {len(default)} numbers"
    return None if _is_number(value) else "must be a number"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class ParameterError(ValueError):
    def __init__(self, name: str, value: Any, allowed: str):
        from sim.common.errors import show

        super().__init__(f"{name} = {show(value)}: {allowed}")
        self.name, self.value, self.allowed = name, value, allowed


def check_overrides(overrides: dict[str, Any]) -> None:
    """Raise ParameterError naming the first bad override (down to the number: ``need_hours_per_week.3``)
    and what is allowed."""
    declared = _declared()
    for name, value in overrides.items():
        if name not in declared:
            raise ParameterError(
                name, value, "unknown parameter (sim/data/care_parameters.yaml and plan_costs.yaml list them)"
            )
        problem = _same_shape(declared[name]["value"], value)
        if problem:
            raise ParameterError(name, value, problem)
        spec = declared[name]
        for path, number in _numbers(value, name):
            problem = _out_of_range(number, spec)
            if problem:
                raise ParameterError(path, number, problem)
        if "sums_to" in spec and isinstance(value, list | dict):
            merged = _merged(spec["value"], value)
            total = sum(merged.values()) if isinstance(merged, dict) else sum(merged)
            if abs(total - spec["sums_to"]) > 1e-6:
                raise ParameterError(name, value, f"its shares must sum to {spec['sums_to']:g} (they sum to {total:g})")


def _out_of_range(number: float, spec: dict) -> str | None:
    """What is allowed, if ``number`` is not a value the parameter ``spec`` allows."""
    if not math.isfinite(number):
        return "must be a finite number (not NaN or infinity)"
    low, high = spec["range"]
    whole = spec.get("integer", False)
    if low <= number <= high and (not whole or number == int(number)):
        return None
    allowed = f"{'a whole number ' if whole else ''}between {low:g} and {high:g} ({spec['unit']})"
    if "or_exactly" not in spec:
        return f"must be {allowed}"
    special, meaning = spec["or_exactly"]
    return None if number == special else f"must be {special:g} ({meaning}) or {allowed}"


def _numbers(value: Any, path: str):
    """(dotted path, number) for every number in a parameter value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}.{i}")
    else:
        yield path, float(value)


class Parameters:
    """Parameter values by name: numbers as floats, lists as arrays, mappings as dicts of those.

    Each layer of overrides (a calibration, then a scenario's own) applies over the one before; a mapping
    in a layer changes only the keys it gives."""

    def __init__(self, *layers: dict[str, Any]):
        self.values = defaults()
        for layer in layers:
            check_overrides(layer)
            for name, value in layer.items():
                self.values[name] = _merged(self.values[name], value)

    def __getattr__(self, name: str) -> Any:
        try:
            value = self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None
        return _as_arrays(value)


def _merged(base: Any, change: Any) -> Any:
    if isinstance(base, dict):
        return {k: _merged(v, change[k]) if k in change else v for k, v in base.items()}
    return change


def _as_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return np.asarray(value, dtype=float)
    return float(value)
