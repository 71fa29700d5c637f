"""Reading what a user gives: a file (only a regular file, and small), its YAML (with guards against what
would expand or hide a mistake) or its CSV rows (refusing a row that would silently swallow others), each
refused in one line (``ScenarioError``) naming the file and the line."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.common.errors import ScenarioError, cut

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


def read_csv_rows(text: str, where: str) -> list[dict[str, str]]:
    """The rows of a small CSV file as mappings by its header, or a ScenarioError of one line naming the
    line: a row with more or fewer fields than the header, or a quote that is not closed on its own line
    (which would silently swallow the lines after it into one field), is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, rows, line = None, [], 1
    try:
        for record in reader:
            if any("\n" in field or "\r" in field for field in record):
                raise ScenarioError(f"{where}: line {line}: a quote opened here is not closed on the same line")
            if record and header is None:
                header = record
            elif record:
                if len(record) != len(header):
                    raise ScenarioError(f"{where}: line {line}: {len(record)} fields, the header has {len(header)}")
                rows.append(dict(zip(header, record, strict=True)))
            line = reader.line_num + 1
    except csv.Error as e:
        if "end of data" in str(e):  # a quote opened and never closed: the rest of the file would be one field
            raise ScenarioError(f"{where}: line {line}: a quote opened here is not closed on the same line") from None
        raise ScenarioError(f"{where}: line {line}: cannot be read as CSV ({e})") from None
    return rows
