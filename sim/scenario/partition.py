"""A region made of regions: China as its 31 provinces (``region: china`` with ``partition: provinces``) or a
list of provinces (``regions: [beijing, tianjin, hebei]``), each run as its own model.

The scenario file is a scenario like any other, with these keys added:

- ``partition: provinces`` (with ``region: china``), or ``regions:`` a list of provinces (key, English or
  Chinese name; each once);
- ``provinces:`` for a province, the levers it sets otherwise than the whole (key paths of the lever catalogue,
  ``policy.beds.total: {2025: 120000}``, or the same nested as in a scenario) and its own ``scale``;
- ``scale: faithful``: each province at its own coarsest faithful scale (``sim.scenario.scale``).

Every other key applies to every province: its levers, data changes, seed, replicates and scale. A lever that
counts beds, places or people a year (its range ends at the region's people aged 60+, in the lever catalogue)
is the whole's: each province gets its share of it, in proportion to its people aged 60+ in the base year.
Each province's seed is derived from the scenario's seed and the province's key alone, so its results do not
depend on which provinces run with it, in which order or where. Plan targets are the whole's: they are
checked against its totals, not per province.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

from sim.catalogues.levers import POPULATION_60PLUS, lever_catalogue
from sim.common.errors import ScenarioError, show
from sim.data.regions import PROVINCES, find_region, load_region
from sim.scenario.files import apply_overrides, set_value, what_if_changes, what_if_name
from sim.scenario.schema import Scenario, parse_scenario

PARTITION_KEYS = ("partition", "regions", "provinces")
PARTITIONS = ("provinces",)
WHOLE = "china"  # the region a partition into provinces is of
OWN_KEYS = ("scale",)  # what a province may set for itself besides levers
FAITHFUL = "faithful"  # scale: each province at its own coarsest faithful scale


def is_partitioned(raw: Any) -> bool:
    return isinstance(raw, dict) and any(key in raw for key in PARTITION_KEYS)


@dataclass(frozen=True)
class Partition:
    """The whole (its scenario as a region of its own: name, seed, horizon, targets) and each province's."""

    whole: Scenario
    provinces: dict[str, Scenario]  # key -> its scenario, in the order given
    raw: dict  # the scenario file's mapping, --set changes made (what runs it again)

    @property
    def total_region(self) -> str:
        """The region column of the totals: china for all 31 provinces, else total."""
        return WHOLE if set(self.provinces) == set(PROVINCES) else "total"


def province_seed(seed: int, province: str) -> int:
    """A province's seed: from the scenario's seed and the province's key alone (below 2**63)."""
    digest = hashlib.sha256(f"{seed}/{province}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def parse_partition(raw: dict, source: str, overrides: list[str] | None = None, default_name: str = "") -> Partition:
    """The whole's and the provinces' scenarios of a partitioned scenario file (``--set`` changes apply to the
    whole); ScenarioError, one line, for an unknown province, one listed twice, a province's override of a lever
    the catalogue does not have, or a scale a province cannot run faithfully or in this machine's memory."""
    from sim.scenario.scale import scale_problem

    raw = apply_overrides(raw, overrides or [])
    raw.setdefault("name", default_name)
    changes = what_if_changes(overrides or [])
    if changes and isinstance(raw["name"], str) and not any(c.split("=", 1)[0].strip() == "name" for c in changes):
        raw["name"] = what_if_name(raw["name"], changes)  # a what-if is another scenario: its own folder
    keys = _province_keys(raw, source)
    own = _own_settings(raw.get("provinces"), keys, source)
    whole_raw = {k: v for k, v in raw.items() if k not in PARTITION_KEYS} | {"region": WHOLE}
    faithful = whole_raw.get("scale") == FAITHFUL
    if faithful:
        whole_raw["scale"] = 1.0  # the whole is not run: its scale is only recorded as the provinces'
    whole = parse_scenario(whole_raw, source)
    shares = _shares_of_older_people(keys)
    provinces = {}
    for key in keys:
        mine = copy.deepcopy(whole_raw)
        mine |= {"region": key, "seed": province_seed(whole.seed, key), "targets": []}
        mine["name"] = f"{whole.name}.{key}"
        _apportion(mine, shares[key])
        for path, value in own.get(key, {}).items():
            set_value(mine, path, value, f"provinces.{key}.{path}")
        scenario = parse_scenario(mine, f"{source} (province {key})")
        if faithful and "scale" not in own.get(key, {}):
            from sim.scenario.scale import coarsest_faithful_scale

            scenario = scenario.model_copy(update={"scale": coarsest_faithful_scale(scenario).scale})
        problem = scale_problem(scenario)
        if problem:
            raise ScenarioError(f"{source}: province {key}: {problem}")
        provinces[key] = scenario
    return Partition(whole, provinces, raw)


def _province_keys(raw: dict, source: str) -> list[str]:
    partition, listed = raw.get("partition"), raw.get("regions")
    if partition is not None and listed is not None:
        raise ScenarioError(f"{source}: partition = {show(partition)}: give partition or regions, not both")
    if partition is not None:
        if partition not in PARTITIONS:
            raise ScenarioError(f"{source}: partition = {show(partition)}: must be one of {', '.join(PARTITIONS)}")
        if find_region(str(raw.get("region", ""))) != WHOLE:
            region = show(raw.get("region"))
            raise ScenarioError(f"{source}: region = {region}: partition: provinces needs region: china")
        return list(PROVINCES)
    if not isinstance(listed, list) or not listed:
        raise ScenarioError(f"{source}: regions = {show(listed)}: must be a list of provinces (e.g. [beijing, hebei])")
    if raw.get("region") is not None and find_region(str(raw["region"])) != WHOLE:
        raise ScenarioError(f"{source}: region = {show(raw['region'])}: with regions, leave region out or give china")
    keys: list[str] = []
    for i, name in enumerate(listed):
        key = find_region(str(name))
        if key not in PROVINCES:
            raise ScenarioError(
                f"{source}: regions.{i} = {show(name)}: unknown province (allowed: the 31 provinces' keys, English or "
                f"Chinese names, e.g. {', '.join(PROVINCES[:4])}, ...)"
            )
        if key in keys:
            raise ScenarioError(f"{source}: regions.{i} = {show(name)}: {key} is listed twice")
        keys.append(key)
    return keys


def _own_settings(block: Any, keys: list[str], source: str) -> dict[str, dict[str, Any]]:
    """A province's own levers and scale, by key path; ScenarioError for a province not in the run or a key
    that is not a lever of the catalogue."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ScenarioError(f"{source}: provinces = {show(block)}: must be a mapping of province to its own levers")
    levers = lever_catalogue()
    out: dict[str, dict[str, Any]] = {}
    for name, settings in block.items():
        key = find_region(str(name))
        if key not in keys:
            raise ScenarioError(
                f"{source}: provinces.{name} = {show(settings)}: not a province of this run ({', '.join(keys)})"
            )
        if key in out:
            raise ScenarioError(f"{source}: provinces.{name}: {key} is listed twice")
        if not isinstance(settings, dict):
            raise ScenarioError(f"{source}: provinces.{name} = {show(settings)}: must be a mapping of levers to values")
        flat = _flatten(settings, levers)
        for path, value in flat.items():
            if path not in OWN_KEYS and path not in levers:
                raise ScenarioError(
                    f"{source}: provinces.{name}.{path} = {show(value)}: not a lever of the catalogue (allowed: "
                    f"scale or a lever of sim/catalogues/levers.yaml, e.g. {', '.join(list(levers.levers)[:3])}, ...)"
                )
        out[key] = flat
    return out


def _flatten(settings: dict, levers, prefix: str = "") -> dict[str, Any]:
    """Key paths to values, down to a lever or a value that is not a mapping."""
    flat = {}
    for k, v in settings.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict) and path not in levers and path not in OWN_KEYS:
            flat |= _flatten(v, levers, path + ".")
        else:
            flat[path] = v
    return flat


def _shares_of_older_people(keys: list[str]) -> dict[str, float]:
    older = {key: load_region(key).population_total() for key in keys}
    total = sum(older.values())
    return {key: n / total for key, n in older.items()}


def _apportion(raw: dict, share: float) -> None:
    """The province's share of the whole's counts: every lever whose range ends at the people aged 60+ (beds,
    places, people a year), and a rescaled population aged 60+."""
    for lever in lever_catalogue().levers.values():
        if lever.high != POPULATION_60PLUS:
            continue
        node = raw
        for part in lever.key.split(".")[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(lever.name) is not None:
            node[lever.name] = _times(node[lever.name], share)
    data = raw.get("data")
    if isinstance(data, dict) and isinstance(data.get("population_60plus"), int | float):
        data["population_60plus"] = max(1, round(data["population_60plus"] * share))


def _times(spec: Any, share: float) -> Any:
    """A lever's value as written (a number, {year: value}, or a profile {to, by, ...}) times ``share``."""
    if isinstance(spec, bool) or spec is None:
        return spec
    if isinstance(spec, int | float):
        return spec * share
    if isinstance(spec, dict) and "to" in spec:
        return spec | {"to": _times(spec["to"], share)}
    if isinstance(spec, dict):
        return {year: _times(value, share) for year, value in spec.items()}
    return spec  # not a value a lever takes: the schema says so, naming it
