"""What a user is editing: a starting scenario (a scenario file, a region's baseline or an uploaded file)
and the ``key.path=value`` changes made to it, exactly as ``sim run FILE --set ...`` takes them. The app
validates a draft with the command line's own code (``what_if``), so a scenario shows the same results and
is refused with the same one-line messages, and the changes make the link that reopens it.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import Scenario, ScenarioError
from sim.scenario.files import (
    MAX_FILE_BYTES,
    UnsafeYAML,
    apply_overrides,
    load_yaml,
    read_scenario_file,
    read_yaml_text,
    what_if,
)

UPLOADS = "uploads"  # RUNS/app/uploads/<sha>.yaml: uploaded scenarios, so a link can name them


@dataclass(frozen=True)
class Draft:
    """``source``: ``file:PATH`` (a scenario file), ``region:KEY`` (a region's baseline: no policy beyond its
    2020 supply), ``upload:SHA`` (an uploaded file); ``changes``: ``key.path=value`` strings, as ``--set``."""

    source: str
    changes: tuple[str, ...] = ()
    uploads: Path = field(default=Path("runs/app/uploads"), compare=False)

    # --- the starting scenario ----------------------------------------------------------------------
    @property
    def label(self) -> str:
        """How messages name the scenario: the file's path, as the command line does."""
        kind, _, what = self.source.partition(":")
        if kind == "file":
            return what
        if kind == "upload":
            return f"uploaded {what[:8]}.yaml"
        return f"{what} baseline"

    def base(self) -> Any:
        kind, _, what = self.source.partition(":")
        if kind == "file":
            return read_scenario_file(Path(what))
        if kind == "upload":
            path = self.uploads / f"{what}.yaml"
            if not path.is_file():
                raise ScenarioError(f"upload {what[:8]}: no such uploaded scenario on this server")
            return load_yaml(path.read_text(encoding="utf-8"))
        if kind == "region":
            return {"name": f"{Path(what).stem}-baseline", "region": what}
        raise ScenarioError(f"source = {self.source!r}: must be file:PATH, region:KEY or upload:SHA")

    def default_name(self) -> str:
        kind, _, what = self.source.partition(":")
        return Path(what).stem if kind == "file" else f"{Path(what).stem}-baseline"

    # --- the scenario it makes ----------------------------------------------------------------------
    def scenario(self) -> Scenario:
        """The validated scenario; ScenarioError (one line, as the command line says it) if it is not valid."""
        return what_if(self.base(), list(self.changes), self.label, self.default_name())

    def raw(self) -> dict:
        """The scenario as written, changes applied (for the editors, before validation)."""
        base = self.base()
        return apply_overrides(base, list(self.changes)) if isinstance(base, dict) else {}

    def value(self, key: str) -> Any:
        """A key's value: as resolved (defaults filled in) when the draft is valid, else as written."""
        node: Any = _resolved(self) or self.raw()
        for part in key.split("."):
            if not isinstance(node, dict):
                return None
            node = node.get(int(part) if part.isdigit() else part)
        return node

    def with_change(self, key: str, value: Any) -> Draft:
        """This draft with ``key`` set to ``value`` (given as YAML text or a value); a change back to the
        starting value removes it, so the draft stays the plan rather than a what-if of itself."""
        text = value if isinstance(value, str) else flow_yaml(value)
        kept = tuple(c for c in self.changes if c.split("=", 1)[0].strip() != key)
        start = Draft(self.source, (), self.uploads)
        try:
            if load_yaml(text) == start.value(key) and start.value(key) is not None:
                return Draft(self.source, kept, self.uploads)
        except (UnsafeYAML, yaml.YAMLError):
            pass
        return Draft(self.source, (*kept, f"{key}={text}"), self.uploads)

    def command(self) -> list[str]:
        """The command line that makes the same run."""
        kind, _, what = self.source.partition(":")
        first = what if kind == "file" else f"<{self.label}>"
        sets = [part for change in self.changes for part in ("--set", change)]
        return ["sim", "run", first, *sets]

    # --- links --------------------------------------------------------------------------------------
    def query(self) -> str:
        return urllib.parse.urlencode([("from", self.source), *(("set", c) for c in self.changes)])

    @classmethod
    def from_query(cls, query: str, uploads: Path) -> Draft | None:
        params = urllib.parse.parse_qs(query.lstrip("?"), keep_blank_values=True)
        if not params.get("from"):
            return None
        return cls(params["from"][0], tuple(params.get("set", [])), uploads)


@lru_cache(maxsize=256)
def _resolved(d: Draft) -> dict | None:
    try:
        return d.scenario().model_dump()
    except ScenarioError:
        return None


def flow_yaml(value: Any) -> str:
    """A value as one line of YAML, as ``--set`` takes it (``{2025: 100000, 2030: 120000}``)."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip().removesuffix("...")


def save_upload(data: bytes, name: str, uploads: Path) -> Draft:
    """An uploaded scenario file, checked as the command line checks a file (size, YAML guards, the
    scenario itself); ScenarioError (one line, naming the file) if it is refused. Paths in it that are
    relative to the file (a region file, observations) cannot be followed from an upload: refused."""
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{name}: {len(data):,} bytes; a file here is at most {MAX_FILE_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{name}: cannot be read as a text file (not UTF-8)") from None
    raw = read_yaml_text(text, name, "the file is empty; a scenario needs at least `region`")
    if isinstance(raw, dict):
        for key in ("observed", "region"):
            named = raw.get(key)
            if isinstance(named, str) and named.endswith((".yaml", ".yml", ".csv")) and not Path(named).is_absolute():
                raise ScenarioError(
                    f"{name}: {key} = {named!r}: a path relative to the file cannot be followed from an upload; "
                    "give a packaged region, or run it with `sim run`"
                )
        raw.setdefault("name", Path(name).stem)
    what_if(raw, [], name, Path(name).stem)  # refused here, with its message, if it is not a valid scenario
    sha = hashlib.sha256(data).hexdigest()[:16]
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / f"{sha}.yaml"
    if not path.exists():
        from sim.results.files import write_atomic

        named = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
        write_atomic(path, lambda p: Path(p).write_text(named, encoding="utf-8"))
    return Draft(f"upload:{sha}", (), uploads)


@cache
def presets(folder: str) -> list[tuple[str, str, str, dict]]:
    """(region key, file, name, title by language) of every valid scenario file in ``folder``, sorted;
    invalid ones left out."""
    found = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            scenario = Draft(f"file:{path}").scenario()
        except ScenarioError:
            continue
        title = scenario.title if isinstance(scenario.title, dict) else {"en": scenario.title, "zh": scenario.title}
        found.append((scenario.region, str(path), scenario.name, title))
    return found
