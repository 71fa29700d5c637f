"""Calibrations: the parameter sets fitted so that a region's base year reproduces what it observed.

A fit file (YAML) holds the point estimate (the best-fitting parameter set), the care-parameter overrides
it makes, the ensemble of parameter sets consistent with the observations (the posterior: runs draw their
parameters from it unless a scenario asks for the point estimate), the targets with the fit achieved, and
how it was obtained. `sim calibrate` writes it (see ``sim/analysis/fitting.py``); the package
ships one per region as ``sim/data/calibrations/<region>-<base year>.yaml``, a copy of the committed
``calibration/<name>/fit.yaml``. A scenario names the calibration it uses under ``calibration``: by default
its region's shipped one, ``none`` for the documented defaults alone, another shipped name, or the path of
a fit file.
"""

from __future__ import annotations

import copy
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sim.common.errors import show
from sim.data.regions import DATA

DEFAULT, NONE = "default", "none"


def shipped() -> list[str]:
    folder = DATA / "calibrations"
    if not folder.is_dir():
        return []
    return sorted(f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml"))


def shipped_path(name: str) -> Path:
    return Path(str(DATA / "calibrations" / f"{name}.yaml"))


def read_fit(path: Path) -> tuple[dict, str]:
    """A fit file's contents and SHA-256 (cached until the file changes)."""
    return _read_cached(str(path.resolve()), path.stat().st_mtime)


@cache
def _read_cached(path: str, mtime: float) -> tuple[dict, str]:
    data = Path(path).read_bytes()
    return yaml.safe_load(data), hashlib.sha256(data).hexdigest()


def ensemble_members(fit: dict) -> list[dict[str, float]]:
    """The fit's ensemble as one {dotted parameter name: value} per member; empty for a fit without one."""
    ensemble = fit.get("ensemble") or {}
    names = ensemble.get("parameters") or []
    return [dict(zip(names, map(float, row), strict=True)) for row in ensemble.get("members") or []]


def member_parameters(calibration: dict, member: int | None) -> dict[str, Any]:
    """The care-parameter overrides of one ensemble member (None: the point estimate)."""
    if member is None:
        return calibration["parameters"]
    from sim.data.parameters import defaults

    point = calibration["parameters"]
    return {**point, **with_values(calibration["ensemble"][member], {**defaults(), **point})}


def resolve(name: str, region: str, base_year: int, region_file: dict | None = None) -> dict | None:
    """The calibration a scenario asks for, as {name, file, sha256, fitted, parameters, ensemble}, or None
    (``region_file``: the definition of a user's region, which takes its province's calibration).

    Raises ValueError (saying what is allowed) for an unknown name, an unreadable file or another region's
    fit."""
    if name == NONE:
        return None
    city = region_file
    # a user's city takes its province's calibration (its care-choice preferences) until it has its own
    regions = {region} if city is None else {region, city["province"]}
    if name == DEFAULT:
        name = f"{region if city is None else city['province']}-{base_year}"
        if name not in shipped():
            return None
    if name in shipped():
        fit, sha = read_fit(shipped_path(name))
        source = f"sim/data/calibrations/{name}.yaml"
    else:
        path = Path(name)
        if not path.is_file():
            raise ValueError(
                "unknown calibration (allowed: default, none, a shipped one named <region>-<base year> such as "
                "tianjin-2020 (`sim regions` says which regions have one), or the path of a fit file)"
            )
        try:
            fit, sha = read_fit(path)
        except yaml.YAMLError:
            raise ValueError("not a valid YAML fit file") from None
        source = str(path)
    if not isinstance(fit, dict) or not isinstance(fit.get("parameters"), dict) or "region" not in fit:
        raise ValueError("not a fit file written by `sim calibrate` (needs region and parameters)")
    if fit["region"] not in regions:
        raise ValueError(f"is a fit for region {fit['region']}, not {' or '.join(sorted(regions))}")
    return {
        "name": fit.get("name", name),
        "file": source,
        "sha256": sha,
        "fitted": fit.get("fitted", {}),
        "parameters": fit["parameters"],
        "ensemble": ensemble_members(fit),
    }


def with_values(values: dict[str, float], defaults: dict[str, Any]) -> dict[str, Any]:
    """Care-parameter overrides (whole parameters, as ``data.parameters`` takes them) that set each dotted
    name in ``values`` (``choice_constant.public_home``, ``need_hours_per_week.3``) and keep the rest of
    each parameter at its default."""
    out: dict[str, Any] = {}
    for dotted, value in values.items():
        top, *path = dotted.split(".")
        node = out.setdefault(top, copy.deepcopy(defaults[top]))
        if not path:
            out[top] = float(value)
            continue
        for key in path[:-1]:
            node = node[int(key) if isinstance(node, list) else key]
        last = path[-1]
        node[int(last) if isinstance(node, list) else last] = float(value)
    return out


def check_name(dotted: str, defaults: dict[str, Any]) -> str | None:
    """None if ``dotted`` names one number inside a declared parameter, else what is allowed."""
    top, *path = dotted.split(".")
    if top not in defaults:
        return "unknown parameter (sim/data/care_parameters.yaml and plan_costs.yaml list them)"
    node = defaults[top]
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            if isinstance(node, dict):
                allowed = ", ".join(node)
            elif isinstance(node, list):
                allowed = f"0 to {len(node) - 1}"
            else:
                allowed = "none: it is one number"
            return f"{top} has no part {show(key)} (allowed: {allowed})"
    if isinstance(node, dict | list):
        example = next(iter(node)) if isinstance(node, dict) else 0
        return f"names a group of numbers; name one of them, e.g. {dotted}.{example}"
    return None
