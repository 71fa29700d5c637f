"""Reading scenario files and changing them from the command line (``--set key.path=value``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError
from sim.scenario.schema import Scenario, parse_scenario


def apply_overrides(raw: dict, assignments: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings (values parsed as YAML) to a raw scenario mapping."""
    raw = yaml.safe_load(yaml.safe_dump(raw))  # deep copy of plain data
    for item in assignments:
        if "=" not in item:
            raise ScenarioError(f"{source} {item!r}: expected key.path=value")
        path, text = item.split("=", 1)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise ScenarioError(f"{source} {item!r}: the value is not valid YAML") from None
        set_value(raw, path.strip(), value, f"{source} {item!r}")
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
    """A scenario file's data; an ``observed`` file named relative to it becomes a path from here."""
    raw = read_yaml_file(path, "the file is empty; a scenario needs at least `region`")
    if isinstance(raw, dict) and isinstance(raw.get("observed"), str) and not Path(raw["observed"]).is_absolute():
        raw["observed"] = str(Path(path).parent / raw["observed"])
    return raw


def read_yaml_file(path: Path, if_empty: str) -> Any:
    """The YAML data of a file, or a ScenarioError of one line saying why it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
        raise ScenarioError(f"{path}: cannot be read as a text file ({type(e).__name__})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ScenarioError(f"{path}: not valid YAML{line}") from None
    if raw is None:
        raise ScenarioError(f"{path}: {if_empty}")
    return raw


def load_scenario(path: Path, overrides: list[str] | None = None) -> Scenario:
    raw = read_scenario_file(path)
    if isinstance(raw, dict):
        raw = apply_overrides(raw, overrides or [])
        raw.setdefault("name", Path(path).stem)
    return parse_scenario(raw, str(path))
