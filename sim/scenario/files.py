"""Reading scenario files and changing them from the command line (``--set key.path=value``)."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.errors import ScenarioError, cut
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


MAX_FILE_BYTES = 1_000_000  # a scenario, experiment, calibration or observation file is far smaller
MAX_DEPTH = 32  # nesting of mappings and lists: the deepest shipped file has 5


class UnsafeYAML(yaml.YAMLError):
    """YAML that is refused before it is expanded: its message is the reason, for one line."""


class GuardedLoader(yaml.SafeLoader):
    """YAML's safe loader that refuses, before building anything: anchors and aliases (a few bytes of
    aliases can expand to gigabytes), nesting deeper than MAX_DEPTH, and a key given twice in a mapping
    (YAML would keep the last silently)."""

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            mark = self.peek_event().start_mark
            raise UnsafeYAML(
                f"line {mark.line + 1}: anchors and aliases (&name, *name) are not allowed; write the value out"
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise UnsafeYAML(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise UnsafeYAML(
                        f"line {key_node.start_mark.line + 1}: key {cut(str(key))!r} is given twice (first at line "
                        f"{seen[key]}); give it once"
                    )
                seen[key] = key_node.start_mark.line + 1
            except TypeError:  # an unhashable key: the constructor says so
                pass
        return super().construct_mapping(node, deep)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=GuardedLoader)  # noqa: S506 - a SafeLoader with guards


def read_user_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a file a user names, or a ScenarioError of one line: only a regular file (not a folder,
    a device such as /dev/zero or a pipe) and at most ``limit`` bytes, checked as it is read (a file that
    grows, or a size the file system does not tell, never reads more than ``limit + 1`` bytes)."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ScenarioError(f"{cut(str(path))}: not a regular file")
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise ScenarioError(f"{cut(str(path))}: no such file") from None
    except (IsADirectoryError, PermissionError, OSError) as e:
        raise ScenarioError(f"{cut(str(path))}: cannot be read ({type(e).__name__})") from None
    if len(data) > limit:
        raise ScenarioError(f"{cut(str(path))}: more than {limit:,} bytes; a file here is at most {limit:,}")
    return data


def read_user_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A user's file as UTF-8 text (``read_user_bytes``'s checks), or a ScenarioError of one line."""
    data = read_user_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{cut(str(path))}: cannot be read as a text file (not UTF-8)") from None


def read_yaml_file(path: Path, if_empty: str) -> Any:
    """The YAML data of a file, or a ScenarioError of one line saying why it cannot be read."""
    return read_yaml_text(read_user_text(path), str(path), if_empty)


def read_yaml_text(text: str, source: str, if_empty: str) -> Any:
    """The YAML data of a file's text (``source`` names it in messages), or a ScenarioError of one line."""
    try:
        raw = load_yaml(text)
    except UnsafeYAML as e:
        raise ScenarioError(f"{source}: {e}") from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ScenarioError(f"{source}: not valid YAML{line}") from None
    if raw is None:
        raise ScenarioError(f"{source}: {if_empty}")
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
    from sim.model.scale import scale_problem

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
