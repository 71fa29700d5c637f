"""A user's own region: a YAML file outside the package that a scenario names as ``region: path.yaml``.

A city the package does not hold is described by its own 2020 census counts (all ages, 15-59, 60+ and
65+), its urban share and the care supply it knows, every figure with a source; its parent
province (a packaged region) gives what a city's bulletin does not: the age and sex structure within
each band (scaled to the city's totals), the mortality level and the net migration before 60, the
disability prevalence mix. Care-supply figures the file leaves out are the province's per person aged
60+ and say so in the run's record. ``sim region-template PROVINCE`` writes a commented file to fill in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from sim.common.errors import FieldError, Strict, parse_mapping

SOURCE_HELP = "where the figure comes from (a bulletin, a yearbook table, a URL, or 'assumption: why')"
MAX_POPULATION = 1.5e9  # people of all ages in one region: more is a typing slip
CARE_KEYS_WITH_COUNTS = ("homes", "beds", "dementia_beds", "family_beds", "day_care_places", "destitute_elders")


class Figure(Strict):
    value: float = Field(ge=0)
    source: str = Field(min_length=3, description=SOURCE_HELP)


class Share(Strict):
    value: float = Field(gt=0, lt=1)
    source: str = Field(min_length=3, description=SOURCE_HELP)


class RegionFile(Strict):
    """The contents of a user's region file (see ``sim region-template``)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$", description="the region's name in results")
    name: str = Field(min_length=1, max_length=80)
    name_zh: str = Field(min_length=1, max_length=40)
    level: str = Field("city", max_length=80)
    province: str = Field(description="the packaged province whose structure the city takes (`sim regions`)")
    base_year: int = 2020
    population_2020: Figure
    population_15_59_2020: Figure
    population_60plus_2020: Figure
    population_65plus_2020: Figure
    urban_share_2020: Share
    care: dict[str, Figure | Share] = Field(default_factory=dict)

    @field_validator("province")
    @classmethod
    def _known_province(cls, v: str) -> str:
        from sim.data.regions import PROVINCES, find_region

        key = find_region(v)
        if key not in PROVINCES:
            raise ValueError("must be one of the 31 packaged provinces (e.g. zhejiang or 浙江; `sim regions`)")
        return key

    @field_validator("base_year")
    @classmethod
    def _census_year(cls, v: int) -> int:
        if v != 2020:
            raise ValueError("must be 2020, the census year every packaged table starts from")
        return v

    @field_validator("key")
    @classmethod
    def _not_packaged(cls, v: str) -> str:
        from sim.data.regions import region_keys

        if v in region_keys():
            raise ValueError("names a packaged region: choose another key for your own region")
        return v

    @field_validator("care", mode="before")
    @classmethod
    def _no_care_figures(cls, v: Any) -> Any:
        return {} if v is None else v  # every line under `care:` left commented out

    @field_validator("care")
    @classmethod
    def _care_keys(cls, v: dict) -> dict:
        from sim.data.parameters import care_baselines

        allowed = [k for k in care_baselines()["china"] if k != "population_all_ages"]  # population_2020 says it
        for key, figure in v.items():
            if key not in allowed:
                raise FieldError(f"care.{key}", key, f"unknown care figure (allowed: {', '.join(allowed)})")
            if "share" in key and not 0 <= figure.value <= 1:
                raise FieldError(f"care.{key}.value", figure.value, "is a share: from 0 to 1")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RegionFile:
        total = self.population_2020.value
        if total > MAX_POPULATION:
            raise FieldError(
                "population_2020.value", total, f"must be at most {MAX_POPULATION:,.0f} (China has 1.41 billion)"
            )
        parts = {
            "population_15_59_2020": self.population_15_59_2020.value,
            "population_60plus_2020": self.population_60plus_2020.value,
        }
        for key, n in parts.items():
            if not 0 < n < total:
                raise FieldError(f"{key}.value", n, f"must be above 0 and below population_2020 ({total:,.0f})")
        if sum(parts.values()) > total:
            raise FieldError(
                "population_60plus_2020.value",
                parts["population_60plus_2020"],
                "with the 15-59 it is more than population_2020",
            )
        old, older = self.population_60plus_2020.value, self.population_65plus_2020.value
        if not 0 < older < old:
            raise FieldError("population_65plus_2020.value", older, f"must be above 0 and below the 60+ ({old:,.0f})")
        for key in ("beds", "family_beds", "day_care_places", "destitute_elders"):
            if key in self.care and self.care[key].value > old:
                raise FieldError(f"care.{key}.value", self.care[key].value, f"more than the 60+ ({old:,.0f})")
        return self


def read_region_file(path: Path) -> dict:
    """A region file validated, as a plain mapping (what a scenario carries to its workers and records).

    Raises ScenarioError with one line naming the file, the key, the value and what is allowed."""
    from sim.common.user_files import read_yaml_file

    raw = read_yaml_file(path, "the file is empty; `sim region-template PROVINCE` writes one to fill in")
    parsed = parse_mapping(RegionFile, raw, str(path))
    definition = parsed.model_dump()
    definition["file"] = str(path)
    definition["sha256"] = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    return definition


def check_definition(definition: dict) -> dict:
    """A definition carried by a scenario (a run's record), checked as its file was."""
    contents = {k: v for k, v in definition.items() if k not in ("file", "sha256")}
    parse_mapping(RegionFile, contents, "region_file")
    return {**definition, "file": str(definition.get("file", "?")), "sha256": str(definition.get("sha256", ""))}


def care_supply(definition: dict, province_care: dict, province_60plus: float) -> dict[str, dict[str, Any]]:
    """The city's base-year care supply: its own figures, the others the province's per person aged 60+."""
    ratio = definition["population_60plus_2020"]["value"] / province_60plus
    care = {}
    for key, figure in province_care.items():
        if key in definition["care"]:
            care[key] = dict(definition["care"][key])
        elif key in CARE_KEYS_WITH_COUNTS or key == "trained_per_year":
            care[key] = {
                "value": round(figure["value"] * ratio),
                "source": f"assumption: {definition['province']}'s figure per person aged 60+ ({figure['source']})",
            }
        elif key == "population_all_ages":
            care[key] = dict(definition["population_2020"])
        else:
            care[key] = {"value": figure["value"], "source": f"assumption: {definition['province']}'s value"}
    return care


def template(province: str) -> str:
    """A commented region file for a city of ``province``, its figures left empty (null) to be filled in:
    the province's own figures are shown beside them for scale, never as values a run would use."""
    from sim.data.parameters import care_baselines
    from sim.data.regions import load_region, region_catalogue

    meta, data = region_catalogue()[province], load_region(province)
    pop = meta["population_2020"]
    care = care_baselines()[province]
    lines = [
        f"# Your own region, on the structure of {meta['name']} ({meta['name_zh']}). Fill in every null with the",
        "# city's 2020 figure and say where it comes from; a scenario then names this file as `region: <path>`.",
        "# `sim validate SCENARIO` checks it (one line naming the key and what is allowed). The province gives",
        "# the age and sex structure within each band, the mortality level and the net migration.",
        "key: my_city                 # the region's name in results: lower-case letters, digits, _ or -",
        "name: My City",
        "name_zh: 我的城市",
        f"level: prefecture-level city ({meta['name']})",
        f"province: {province}        # {meta['name_zh']}",
        "base_year: 2020",
        f"population_2020:             # all ages, 2020 census ({meta['name']}: {pop:,})",
        "  value: null",
        "  source: null              # e.g. the city's 7th-census bulletin (第七次全国人口普查公报), with its URL",
        "population_15_59_2020:       # the census bulletin gives the 15-59 share: multiply it out",
        "  value: null",
        "  source: null",
        f"population_60plus_2020:      # ({meta['name']}: {data.population_total():,.0f})",
        "  value: null",
        "  source: null",
        "population_65plus_2020:",
        "  value: null",
        "  source: null",
        f"urban_share_2020:            # share of all ages living in towns, 0-1 ({meta['name']}: "
        f"{meta['urban_share_2020']['value']})",
        "  value: null",
        "  source: null",
        "# Care supply at the end of 2020. Leave a figure out to take the province's per person aged 60+ (the",
        "# run records it as an assumption); shares are 0-1.",
        "care:",
    ]
    for key, figure in care.items():
        if key == "population_all_ages":
            continue
        lines.append(f"  # {key}: {{value: null, source: null}}   # {meta['name']}: {figure['value']:,}")
    return "\n".join(lines) + "\n"
