"""Reading scenario files and changing them from the command line (``--set key.path=value``)."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from sim.common.errors import ScenarioError, cut
from sim.common.user_files import UnsafeYAML, load_yaml, read_yaml_file
from sim.scenario.schema import Scenario, parse_scenario

# changes that leave the scenario itself alone: a run changed only in these is still its plan, not a what-if
SAME_SCENARIO = ("scale", "replicates", "name", "description")


def what_if_changes(changes: list[str]) -> list[str]:
    """The ``key=value`` changes that make a run another scenario (a what-if)."""
    return [c for c in changes if c.split("=", 1)[0].strip() not in SAME_SCENARIO]


def apply_overrides(raw: dict, assignments: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings (values parsed as YAML) to a raw scenario mapping."""
    raw = copy.deepcopy(raw)
    for item in assignments:
        if "=" not in item:
            raise ScenarioError(f"{source} {cut(item)!r}: expected key.path=value")
        path, text = item.split("=", 1)
        try:
            value = load_yaml(text)
        except UnsafeYAML as e:
            raise ScenarioError(f"{source} {cut(item)!r}: {e}") from None
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {cut(item)!r}: the value is not valid YAML") from None
        set_value(raw, path.strip(), value, f"{source} {cut(item)!r}")
    return raw


def set_value(raw: dict, path: str, value: Any, source: str) -> None:
    """Put ``value`` at a dotted key path of a raw scenario mapping, creating sections on the way (an
    unset lever, ``null``, becomes an empty one).

    A part that is a whole number is a year (YAML reads ``2025:`` as the number 2025), so
    ``policy.beds.total.2025`` sets the 2025 value of a lever's path; inside a list it is a position,
    so ``data.parameters.need_hours_per_week.3`` sets one level's value."""
    keys: list[str | int] = [int(k) if k.isdigit() else k for k in path.split(".")]
    node: Any = raw
    for k, child in zip(keys[:-1], keys[1:], strict=True):
        if isinstance(node, dict) and node.get(k) is None:
            node[k] = {}
        if isinstance(node, dict):
            node = node[k]
        elif isinstance(k, int) and k < len(node):
            node = node[k]
        else:
            raise ScenarioError(f"{source}: {k} is not a position in a list of {len(node)}")
        if not isinstance(node, dict | list) or (isinstance(node, list) and not isinstance(child, int)):
            raise ScenarioError(f"{source}: {k} is not a section")
    last = keys[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise ScenarioError(f"{source}: {last} is not a position in a list of {len(node)}")
    node[last] = value


def read_scenario_file(path: Path) -> dict:
    """A scenario file's data; files it names relative to itself (``observed``, a ``region`` file) become
    paths from here."""
    raw = read_yaml_file(path, "the file is empty; a scenario needs at least `region`")
    if not isinstance(raw, dict):
        return raw
    for key in ("observed", "region"):
        named = raw.get(key)
        if isinstance(named, str) and not Path(named).is_absolute():
            if key == "observed" or named.endswith((".yaml", ".yml")):
                raw[key] = str(Path(path).parent / named)
    return raw


def what_if_name(base: str, changes: list[str]) -> str:
    """The scenario's name with its changes: ``tianjin-14th-fyp_total.2025-120000`` (a hash when long)."""
    parts = []
    for change in changes:
        key, _, value = change.partition("=")
        keys = key.strip().split(".")
        short = ".".join(keys[-2:]) if keys[-1].isdigit() and len(keys) > 1 else keys[-1]
        parts.append(f"{short}-{value.strip()}")
    slug = re.sub(r"[^\w.-]+", "-", "_".join(parts)).strip("-.")
    if len(slug) > 40:
        slug = slug[:30].rstrip("-._") + "-" + hashlib.sha256("\n".join(changes).encode()).hexdigest()[:6]
    return f"{base}_{slug}"


def what_if(raw: Any, overrides: list[str], source: str, default_name: str) -> Scenario:
    """A scenario with ``key.path=value`` changes, as ``sim run --set`` and the app make it: a what-if is
    another scenario, with its own name (so results, compare and reports keep it apart from its plan), and
    a scale too coarse to be faithful for it is refused (ScenarioError, one line)."""
    from sim.scenario.scale import scale_problem

    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides)
        raw.setdefault("name", default_name)
    scenario = parse_scenario(raw, source)
    changes = what_if_changes(overrides)
    if changes and not any(c.split("=", 1)[0].strip() == "name" for c in overrides):
        raw["name"] = what_if_name(scenario.name, changes)
        scenario = parse_scenario(raw, source)
    problem = scale_problem(scenario)
    if problem:
        raise ScenarioError(f"{source}: {problem}")
    return scenario


def load_what_if(path: Path, overrides: list[str]) -> Scenario:
    return what_if(read_scenario_file(path), overrides, str(path), Path(path).stem)


def load_scenario(path: Path, overrides: list[str] | None = None) -> Scenario:
    raw = read_scenario_file(path)
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
        raw.setdefault("name", Path(path).stem)
    return parse_scenario(raw, str(path))
