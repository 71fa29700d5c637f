"""What a user is editing: a starting scenario (one of the server's scenario files, a region's baseline or
an uploaded file) and the ``key.path=value`` changes made to it, exactly as ``sim run FILE --set ...`` takes
them. The app validates a draft with the command line's own code (``what_if``), so a scenario shows the same
results and is refused with the same one-line messages, and the changes make the link that reopens it.

A draft comes from a browser, so it never names a path: the server's scenario files, region files and
uploads are named by key (``scenario:tianjin-14th-fyp``, ``city:shaoxing``, ``upload:<hash>``) and looked
up in the folders the server was started with (``Places``); a change or an uploaded scenario that would
make the model read a file (``region:`` a path, ``observed:``, ``calibration:`` a path) is refused.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from sim.common.errors import ScenarioError, cut
from sim.common.user_files import MAX_FILE_BYTES, UnsafeYAML, load_yaml, read_user_text, read_yaml_text
from sim.scenario import Scenario
from sim.scenario.files import apply_overrides, read_scenario_file, what_if

UPLOADS = "uploads"  # RUNS/app/uploads/<sha>.yaml: uploaded scenarios, so a link can name them
KEY = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][\w.\-\u4e00-\u9fff]{0,99}")  # a file's name without .yaml
UPLOAD_KEY = re.compile(r"[0-9a-f]{16}")
MAX_LINK = 8_000  # characters in a link's query: a plan's changes take a few hundred
MAX_CHANGES = 100  # key=value changes in one draft
FILE_KEYS = ("region", "region_file", "observed", "calibration")  # keys that would make the model read a file


@dataclass(frozen=True)
class Places:
    """The folders a browser's drafts may read from, each by key: the server's scenario files, its users'
    region files, and the uploads."""

    scenarios: Path = Path("scenarios")
    region_files: Path | None = None
    uploads: Path = Path("runs/app/uploads")

    def scenario_file(self, name: str) -> Path:
        return _member(self.scenarios, name, "scenario")

    def region_file(self, name: str) -> Path:
        if self.region_files is None:
            raise ScenarioError(f"city = {cut(repr(name))}: this server has no region files")
        return _member(self.region_files, name, "city")

    def upload(self, sha: str) -> Path:
        if not UPLOAD_KEY.fullmatch(sha):
            raise ScenarioError(f"upload = {cut(repr(sha))}: not an upload of this server (16 hexadecimal digits)")
        path = self.uploads / f"{sha}.yaml"
        if not path.is_file():
            raise ScenarioError(f"upload {sha[:8]}: no such uploaded scenario on this server")
        return path


def _member(folder: Path, name: str, kind: str) -> Path:
    """``folder/name.yaml`` when ``name`` is a plain file name there (no path, no link out of the folder)."""
    path = Path(folder) / f"{name}.yaml"
    inside = KEY.fullmatch(name) and path.is_file() and path.resolve().parent == Path(folder).resolve()
    if not inside:
        raise ScenarioError(f"{kind} = {cut(repr(name))}: not one of this server's {kind} files")
    return path


@dataclass(frozen=True)
class Draft:
    """``source``: ``scenario:NAME`` (a scenario file of the server's), ``region:KEY`` (a packaged region's
    baseline: no policy beyond its 2020 supply), ``city:NAME`` (the baseline of one of the server's region
    files), ``upload:SHA`` (an uploaded file); ``changes``: ``key.path=value`` strings, as ``--set``."""

    source: str
    changes: tuple[str, ...] = ()
    places: Places = field(default=Places(), compare=False)

    # --- the starting scenario ----------------------------------------------------------------------
    @property
    def label(self) -> str:
        """How messages name the scenario: the file's name, as the command line names its file."""
        kind, _, what = self.source.partition(":")
        if kind == "scenario":  # as the command line names it, run from the folder above the scenarios
            return f"{Path(self.places.scenarios).name}/{what}.yaml"
        if kind == "upload":
            return f"uploaded {what[:8]}.yaml"
        return f"{what} baseline"

    def base(self) -> Any:
        kind, _, what = self.source.partition(":")
        if kind == "scenario":
            return read_scenario_file(self.places.scenario_file(what))
        if kind == "upload":
            raw = read_yaml_text(read_user_text(self.places.upload(what)), self.label, "the file is empty")
            refuse_files(raw, self.label)
            return raw
        if kind == "region":
            from sim.data.regions import region_keys

            if what not in region_keys():
                raise ScenarioError(f"region = {cut(repr(what))}: not a packaged region (`sim regions`)")
            return {"name": f"{what}-baseline", "region": what}
        if kind == "city":
            return {"name": f"{what}-baseline", "region": str(self.places.region_file(what))}
        raise ScenarioError(
            f"from = {cut(repr(self.source))}: must be scenario:NAME, region:KEY, city:NAME or upload:HASH"
        )

    def default_name(self) -> str:
        kind, _, what = self.source.partition(":")
        return what if kind == "scenario" else f"{what}-baseline"

    # --- the scenario it makes ----------------------------------------------------------------------
    def scenario(self) -> Scenario:
        """The validated scenario; ScenarioError (one line, as the command line says it) if it is not valid."""
        refuse_file_changes(self.changes)
        return what_if(self.base(), list(self.changes), self.label, self.default_name())

    def resolved(self) -> dict | None:
        """The validated scenario as plain data (defaults filled in), made once per draft; None if not valid."""
        return _resolved(self)

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
        start = Draft(self.source, (), self.places)
        try:
            if load_yaml(text) == start.value(key) and start.value(key) is not None:
                return Draft(self.source, kept, self.places)
        except (UnsafeYAML, yaml.YAMLError):
            pass
        return Draft(self.source, (*kept, f"{key}={text}"), self.places)

    def command(self) -> list[str]:
        """The command line that makes the same run."""
        kind, _, what = self.source.partition(":")
        first = f"{self.places.scenarios / what}.yaml" if kind == "scenario" else f"<{self.label}>"
        sets = [part for change in self.changes for part in ("--set", change)]
        return ["sim", "run", first, *sets]

    # --- links --------------------------------------------------------------------------------------
    def query(self) -> str:
        return urllib.parse.urlencode([("from", self.source), *(("set", c) for c in self.changes)])

    @classmethod
    def from_query(cls, query: str, places: Places) -> Draft | None:
        """The draft a link names (None: the link names none); ScenarioError (one line) for a link that is
        too long or has too many changes, checked before it is parsed."""
        query = query.lstrip("?")
        if len(query) > MAX_LINK:
            raise ScenarioError(f"link: {len(query):,} characters; a link here is at most {MAX_LINK:,}")
        try:
            params = urllib.parse.parse_qs(query, keep_blank_values=True, max_num_fields=MAX_CHANGES + 1)
        except ValueError:
            raise ScenarioError(f"link: more than {MAX_CHANGES} changes; a draft here has at most that") from None
        if not params.get("from"):
            return None
        return cls(params["from"][0], tuple(params.get("set", [])), places)


def refuse_file_changes(changes: tuple[str, ...] | list[str]) -> None:
    """ScenarioError (one line) for a change that would make the model read a file on the server: the
    region is picked, not set; observations and calibration files are not read from a browser."""
    from sim.data.fits import DEFAULT, NONE, shipped

    if len(changes) > MAX_CHANGES:
        raise ScenarioError(f"changes: {len(changes)}; a draft here has at most {MAX_CHANGES}")
    for change in changes:
        key, _, text = change.partition("=")
        top = key.strip().split(".")[0]
        if top not in FILE_KEYS:
            continue
        if top == "calibration" and text.strip() in (DEFAULT, NONE, *shipped()):
            continue
        raise ScenarioError(
            f"{cut(key.strip())} = {cut(text.strip())}: cannot be changed here (pick the region and its scenario "
            "instead; files on the server are not opened from a browser)"
        )


def refuse_files(raw: Any, source: str) -> None:
    """ScenarioError (one line) if an uploaded scenario names a file: its region must be a packaged region
    by name, its calibration a shipped one; observations cannot be followed from an upload."""
    if not isinstance(raw, dict):
        return
    from sim.data.fits import DEFAULT, NONE, shipped

    region, observed, calibration = raw.get("region"), raw.get("observed"), raw.get("calibration", DEFAULT)
    problem = None
    if observed is not None:
        problem = ("observed", observed)
    elif isinstance(region, str) and region.endswith((".yaml", ".yml")) or "/" in str(region) or "\\" in str(region):
        problem = ("region", region)  # a region file (a plain unknown name gets the schema's own message)
    elif calibration not in (DEFAULT, NONE, *shipped()):
        problem = ("calibration", calibration)
    if problem:
        key, value = problem
        raise ScenarioError(
            f"{source}: {key} = {cut(repr(value))}: an uploaded scenario names packaged data only (a packaged "
            "region, a shipped calibration); files cannot be followed from an upload: run it with `sim run`"
        )


@lru_cache(maxsize=256)
def _resolved(d: Draft) -> dict | None:
    try:
        return d.scenario().model_dump()
    except ScenarioError:
        return None


def flow_yaml(value: Any) -> str:
    """A value as one line of YAML, as ``--set`` takes it (``{2025: 100000, 2030: 120000}``)."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6).strip().removesuffix("...")


def save_upload(data: bytes, name: str, places: Places) -> Draft:
    """An uploaded scenario file, checked as the command line checks a file (size, YAML guards, the
    scenario itself) and for files it names (``refuse_files``); ScenarioError (one line, naming the file) if
    it is refused."""
    name = cut(Path(name).name or "upload.yaml")
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(f"{name}: more than {MAX_FILE_BYTES:,} bytes; a file here is at most {MAX_FILE_BYTES:,}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{name}: cannot be read as a text file (not UTF-8)") from None
    raw = read_yaml_text(text, name, "the file is empty; a scenario needs at least `region`")
    refuse_files(raw, name)
    if isinstance(raw, dict):
        raw.setdefault("name", Path(name).stem)
    what_if(raw, [], name, Path(name).stem)  # refused here, with its message, if it is not a valid scenario
    sha = hashlib.sha256(data).hexdigest()[:16]
    places.uploads.mkdir(parents=True, exist_ok=True)
    path = places.uploads / f"{sha}.yaml"
    if not path.exists():
        from sim.results.files import write_atomic

        named = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
        write_atomic(path, lambda p: Path(p).write_text(named, encoding="utf-8"))
    return Draft(f"upload:{sha}", (), places)


@cache
def presets(folder: str) -> list[tuple[str, str, str, dict]]:
    """(region, file key, name, title by language) of every valid scenario file in ``folder``, sorted;
    invalid ones left out. The region is a packaged region's key, or ``city:NAME`` for a region file."""
    found = []
    places = Places(scenarios=Path(folder))
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            scenario = Draft(f"scenario:{path.stem}", (), places).scenario()
        except ScenarioError:
            continue
        title = scenario.title if isinstance(scenario.title, dict) else {"en": scenario.title, "zh": scenario.title}
        region = f"city:{Path(scenario.region_file['file']).stem}" if scenario.region_file else scenario.region
        found.append((region, path.stem, scenario.name, title))
    return found
