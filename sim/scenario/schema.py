"""The scenario schema: every key, its default, unit and allowed values in one place, and the checks that
need more than one key (years within the run, levers within their ranges, known targets)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.catalogues.indicators import catalogue
from sim.common.errors import FieldError, ScenarioError, Strict, parse_mapping
from sim.data.regions import (
    disability_trends,
    find_region,
    load_region,
    region_keys,
)
from sim.scenario.policy import Policy, check_levers


class DataOverrides(Strict):
    """Changes to the packaged region data, for sensitivity and local knowledge."""

    population_60plus: int | None = Field(
        None,
        gt=0,
        le=2_000_000_000,
        description="Rescale the base-year population aged 60+ to this many persons (age-sex shares kept).",
    )
    entrants_multiplier: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Multiplier on the persons turning 60 each year, beyond the region's packaged net migration.",
    )
    mortality_multiplier: float = Field(
        1.0,
        gt=0,
        le=10,
        description="Multiplier on the region's death rates at every age, beyond its packaged mortality level.",
    )
    onset_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of first loss of capacity (intact -> any level)."
    )
    worsening_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of moving to a worse level from one with some loss."
    )
    recovery_multiplier: float = Field(
        1.0, ge=0, le=10, description="Multiplier on the rates of moving to a better level."
    )
    disability_trend: str = Field(
        "central",
        description="Change of onset, worsening and the death hazard by level over calendar time "
        "(sim/data/disability_trends.json): none (2020's rates), low (Hanewald, Li & Shao 2019), central "
        "(half the 2010-2020 census decline), high (all of it).",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="Care-system parameters and unit costs by name (sim/data/care_parameters.yaml and plan_costs.yaml"
        " list them with units and sources).",
    )

    @field_validator("disability_trend")
    @classmethod
    def _known_trend(cls, v: str) -> str:
        if v not in disability_trends():
            raise ValueError(f"must be one of {', '.join(disability_trends())}")
        return v

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, v: dict[str, Any]) -> dict[str, Any]:
        from sim.data.parameters import ParameterError, check_overrides

        try:
            check_overrides(v)
        except ParameterError as e:
            raise FieldError(f"data.parameters.{e.name}", e.value, e.allowed) from None
        return v


NAME = re.compile(r"[\w\-][\w.\-]*")


class Target(Strict):
    indicator: str = Field(description="A plan indicator (see docs/model.md, Targets).")
    value: float = Field(description="Target value.")
    year: int = Field(description="Year by which it should be met.")
    direction: str = Field("at_least", description="at_least or at_most.")

    @field_validator("direction")
    @classmethod
    def _direction(cls, v: str) -> str:
        if v not in ("at_least", "at_most"):
            raise ValueError("must be at_least or at_most")
        return v


class Scenario(Strict):
    """A simulation scenario. Units: years, persons; ``scale`` is persons per agent."""

    name: str = Field("", description="Label for results; defaults to the file name.")
    title: str | dict[str, str] = Field(
        "", description="Title for reports: text, or {en: ..., zh: ...} for each language (default: the name)."
    )
    description: str | dict[str, str] = Field(
        "", description="Free text shown in reports: text, or {en: ..., zh: ...} for each language."
    )

    @field_validator("title", "description")
    @classmethod
    def _languages(cls, v: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(v, dict) and not set(v) <= {"en", "zh"}:
            raise ValueError(f"languages must be en and zh (got {', '.join(map(str, v))})")
        return v

    region: str = Field(
        description="A packaged region: its key, English or Chinese name (see `sim regions`); or the path of your"
        " own region file (`sim region-template`), relative to the scenario file."
    )
    region_file: dict[str, Any] | None = Field(
        None, description="Filled in from the region file that `region` names (recorded with the results)."
    )
    base_year: int = Field(2020, description="First year (the census); must be the region's base year.")
    horizon: int = Field(2035, description="Last simulated year.")
    seed: int = Field(20201101, ge=0, lt=2**63, description="Seed of the random streams; replicate r uses stream r.")
    replicates: int = Field(1, ge=1, le=1000, description="Independent runs with different random streams.")
    scale: float = Field(
        1.0, ge=1, le=10000, description="Persons per agent; 1 = one agent per person. Results are always in persons."
    )
    calibration: str = Field(
        "default",
        description="Fitted parameters to use: 'default' (the region's shipped calibration), 'none' (the documented"
        " defaults alone), a shipped calibration's name, or the path of a fit file written by `sim calibrate`."
        " data.parameters apply on top.",
    )
    parameter_sets: Literal["ensemble", "point"] = Field(
        "ensemble",
        description="Which of the calibration's parameter sets a replicate uses: 'ensemble' (each replicate draws"
        " its own member of the posterior ensemble, so intervals include parameter uncertainty) or 'point' (every"
        " replicate the best-fitting set: intervals are random draws only).",
    )
    parameter_member: int | None = Field(
        None,
        ge=0,
        description="One member of the ensemble for every replicate (null: each replicate draws its own). A sweep"
        " factor over it treats parameter uncertainty as an uncertain factor.",
    )
    observed: str | None = Field(
        None,
        description="CSV of observed figures (indicator, year, value, tolerance, source) that `sim evaluate` conditions"
        " the plan on; a path relative to the scenario file.",
    )
    data: DataOverrides = Field(default_factory=DataOverrides)
    policy: Policy = Field(default_factory=Policy)
    targets: list[Target] = Field(default_factory=list, description="Plan targets checked every year.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        # the name becomes a folder (runs/<name>): no separators, no leading dot, nothing a shell would mangle
        if v and not NAME.fullmatch(v):
            raise ValueError("must be letters, digits, '-', '_' or '.', not starting with '.' (it names a folder)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _region_by_name_or_file(cls, raw: Any) -> Any:
        """A region named in English or Chinese becomes its key; a region file is read and validated, and
        travels with the scenario (so workers and the run's record have it)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("region"), str):
            return raw
        raw = dict(raw)
        if raw["region"].endswith((".yaml", ".yml")):
            from sim.data.user_region import read_region_file

            path = Path(raw["region"])
            if not path.is_file():
                raise FieldError("region", raw["region"], "no such region file")
            try:
                raw["region_file"] = read_region_file(path)
            except ScenarioError as e:
                raise FieldError("region", raw["region"], str(e)) from None
        elif isinstance(raw.get("region_file"), dict):  # a scenario as a run recorded it
            from sim.data.user_region import check_definition

            try:
                raw["region_file"] = check_definition(raw["region_file"])
            except ScenarioError as e:
                raise FieldError("region_file", raw["region_file"].get("key"), str(e)) from None
        else:
            key = find_region(raw["region"])
            if key is None:
                raise FieldError(
                    "region",
                    raw["region"],
                    f"unknown region (allowed: a key, English or Chinese name from `sim regions`, e.g. "
                    f"{', '.join(region_keys()[:6])}, ...; or the path of a region file ending .yaml)",
                )
            raw["region"] = key
            return raw
        raw["region"] = raw["region_file"]["key"]  # the region travels with the scenario: no registry
        return raw

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.region not in region_keys() and (self.region_file or {}).get("key") != self.region:
            # a user's region only with its file: the scenario must be reproducible in a fresh process
            raise FieldError("region", self.region, "unknown region: a user's region is named by its file's path")
        region = load_region(self.region, self.region_file)
        if self.base_year != region.base_year:
            raise FieldError(
                "base_year", self.base_year, f"must be {region.base_year}, the base year of region {self.region}"
            )
        if not self.base_year < self.horizon <= region.last_year:
            raise FieldError(
                "horizon", self.horizon, f"must be after base_year ({self.base_year}) and at most {region.last_year}"
            )
        from sim.data.fits import resolve

        try:
            found = resolve(self.calibration, self.region, self.base_year, self.region_file)
        except ValueError as e:
            raise FieldError("calibration", self.calibration, str(e)) from None
        if self.parameter_member is not None:
            size = len(found["ensemble"]) if found else 0
            if self.parameter_sets == "point" or not size:
                raise FieldError(
                    "parameter_member",
                    self.parameter_member,
                    "needs parameter_sets: ensemble and a calibration with one",
                )
            if self.parameter_member >= size:
                raise FieldError(
                    "parameter_member", self.parameter_member, f"must be below the ensemble's size ({size})"
                )
        if self.observed is not None:
            from sim.scenario.observations import load_observations

            try:
                load_observations(Path(self.observed), self.base_year, self.horizon)
            except ScenarioError as e:
                raise FieldError("observed", self.observed, str(e).removeprefix(f"{self.observed}: ")) from None
        check_levers(self.policy, self.base_year, self.horizon, float(region.population_by_age[:, 20:].sum()))
        _check_targets(self.targets, self.base_year, self.horizon)
        return self


def _check_targets(targets: list[Target], base_year: int, horizon: int) -> None:
    known = catalogue().targets
    for i, t in enumerate(targets):
        if t.indicator not in known:
            raise FieldError(f"targets.{i}.indicator", t.indicator, f"unknown indicator (allowed: {', '.join(known)})")
        if not base_year <= t.year <= horizon:
            raise FieldError(f"targets.{i}.year", t.year, f"must be from {base_year} to {horizon}")


def parse_scenario(raw: Any, source: str = "scenario") -> Scenario:
    return parse_mapping(Scenario, raw, source)
