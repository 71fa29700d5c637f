"""The scenario schema: every key, its default, unit and allowed values in one place, and the checks that
need more than one key (years within the run, levers within their ranges, known targets)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.catalogues.indicators import catalogue
from sim.common.errors import FieldError, ScenarioError, Strict, parse_mapping
from sim.data.regions import (
    disability_trends,
    find_region,
    load_region,
    region_keys,
    register_user_region,
    user_region,
)


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
        description="Care-system parameters by name (sim/data/care_parameters.yaml lists them with units and sources).",
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


# Money a user can set, far above any plan's (Tianjin's insurance: 70 yuan a day, 2,100 a month, 240 a year):
# a typing slip beyond them would overflow the accounts into infinity and NaN.
MAX_DAILY, MAX_MONTHLY, MAX_YEARLY = 10_000.0, 100_000.0, 1_000_000.0

NAME = re.compile(r"[\w\-][\w.\-]*")
YearPath = float | dict[int, float]  # a constant, or year -> value (one year: a target; several: a schedule)


def _path(description: str, default=None, ge: float = 0, le: float | None = None):
    return Field(default, description=description, json_schema_extra={"minimum": ge, "maximum": le})


class Beds(Strict):
    """Institutional beds and home-based capacity. Counts are persons/places, shares in 0-1."""

    total: YearPath | None = _path("Institutional beds of all types (schedule or target; default: the region's count).")
    nursing_share: YearPath | None = _path("Nursing-type beds as a share of institutional beds.", le=1)
    dementia_per_10k: YearPath | None = _path("Dementia-care beds per 10,000 older people.", le=10000)
    public_share_of_new: float = Field(0.2, ge=0, le=1, description="Share of new beds built in public homes.")
    family_beds: YearPath | None = _path("Family elderly-care beds (家庭养老床位): institutional-grade care at home.")
    day_care_places: YearPath | None = _path("Day-care places in community care centres.")


class Insurance(Strict):
    """Long-term-care insurance (长期护理保险). Defaults are Tianjin's pilot rules (2020)."""

    start_year: int | None = Field(None, description="First year benefits are paid; null = no insurance.")
    coverage: str = Field("urban_employees", description="Who is covered: urban_employees, urban or all.")
    eligible_from: str = Field("severe", description="Lowest capacity level that qualifies: moderate, severe or total.")
    institution_daily: float = Field(
        70.0, ge=0, le=MAX_DAILY, description="Standard daily amount for institutional care, yuan."
    )
    institution_share: float = Field(0.70, ge=0, le=1, description="Share of the daily amount the fund pays.")
    home_monthly_cap: float = Field(
        2100.0, ge=0, le=MAX_MONTHLY, description="Monthly cap on home-care services, yuan."
    )
    home_share: float = Field(
        0.75, ge=0, le=1, description="Share of home-care spending (up to the cap) the fund pays."
    )
    family_cash_monthly: float = Field(
        0.0, ge=0, le=MAX_MONTHLY, description="Monthly cash for family carers of eligible people, yuan."
    )
    premium_per_person: float = Field(
        240.0, ge=0, le=MAX_YEARLY, description="Yearly contribution per covered person (all ages), yuan."
    )
    fund_rule: str = Field(
        "carry_over",
        description="What a surplus or deficit does: carry_over (surplus kept, deficit topped up from public "
        "money) or revise_premium (next year's premium pays this year's spending and closes a third of the "
        "gap to the reserve).",
    )
    reserve_months: float = Field(
        6.0, ge=0, le=120, description="Reserve the fund aims at under revise_premium, months of spending."
    )

    @field_validator("fund_rule")
    @classmethod
    def _fund_rule(cls, v: str) -> str:
        if v not in ("carry_over", "revise_premium"):
            raise ValueError("must be one of carry_over, revise_premium")
        return v

    @field_validator("coverage")
    @classmethod
    def _coverage(cls, v: str) -> str:
        if v not in ("urban_employees", "urban", "all"):
            raise ValueError("must be one of urban_employees, urban, all")
        return v

    @field_validator("eligible_from")
    @classmethod
    def _eligible(cls, v: str) -> str:
        if v not in ("moderate", "severe", "total"):
            raise ValueError("must be one of moderate, severe, total")
        return v


class Subsidies(Strict):
    nursing_subsidy_monthly: YearPath | None = _path(
        "Nursing subsidy for poor elders at moderate loss or worse, yuan/month.", le=MAX_MONTHLY
    )
    old_age_allowance_monthly: YearPath | None = _path("Allowance for everyone aged 80+, yuan/month.", le=MAX_MONTHLY)
    service_voucher_monthly: YearPath | None = _path(
        "Voucher for formal care services, poor elders with a care need, yuan/month.", le=MAX_MONTHLY
    )


class Workforce(Strict):
    trained_per_year: YearPath | None = _path(
        "Care workers trained and certified per year (new entrants and upgrades)."
    )
    entry_share: float = Field(0.3, ge=0, le=1, description="Share of trainees who are new to care work.")
    migrants_per_year: YearPath | None = _path("Care workers recruited from outside the region per year.")
    pay_uplift: YearPath | None = _path("Pay rise for care workers as a share of the base wage.", le=5)
    certification_bonus_monthly: YearPath | None = _path(
        "Post allowance for certified workers, yuan/month.", le=MAX_MONTHLY
    )
    attrition_multiplier: float = Field(1.0, ge=0, le=5, description="Multiplier on the yearly leaving rate.")


class Family(Strict):
    carers_trained_per_year: YearPath | None = _path("Family carers trained per year.")
    respite_days: YearPath | None = _path(
        "Respite days per year for each family caring for an elder at severe loss or worse.", le=365
    )


class Health(Strict):
    onset_multiplier: YearPath | None = _path("Prevention: multiplier on the onset of capacity loss, by year.", le=10)


class Policy(Strict):
    """Policy levers. A lever is a number, or a mapping year -> value: one year is a target reached by
    that year along a straight line from the base year, several years a schedule."""

    beds: Beds = Field(default_factory=Beds)
    insurance: Insurance = Field(default_factory=Insurance)
    subsidies: Subsidies = Field(default_factory=Subsidies)
    workforce: Workforce = Field(default_factory=Workforce)
    family: Family = Field(default_factory=Family)
    health: Health = Field(default_factory=Health)


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
            raw["region"] = find_region(raw["region"]) or raw["region"]
            return raw
        raw["region"] = register_user_region(raw["region_file"])
        return raw

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        if v not in region_keys() and user_region(v) is None:
            raise ValueError(
                f"unknown region (allowed: a key, English or Chinese name from `sim regions`, e.g. "
                f"{', '.join(region_keys()[:6])}, ...; or the path of a region file ending .yaml)"
            )
        return v

    @model_validator(mode="after")
    def _years(self) -> Scenario:
        if self.region not in region_keys() and (self.region_file or {}).get("key") != self.region:
            # a user's region only with its file: the scenario must be reproducible in a fresh process
            raise FieldError("region", self.region, "unknown region: a user's region is named by its file's path")
        region = load_region(self.region)
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
            found = resolve(self.calibration, self.region, self.base_year)
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
        _check_paths(self.policy, "policy", self.base_year, self.horizon)
        _check_targets(self.targets, self.base_year, self.horizon)
        start = self.policy.insurance.start_year
        if start is not None and not self.base_year <= start <= self.horizon:
            raise FieldError(
                "policy.insurance.start_year",
                start,
                f"must be from {self.base_year} to the horizon ({self.horizon}); null for no insurance",
            )
        _check_counts(self, region)
        return self


def _check_paths(model: BaseModel, prefix: str, base_year: int, horizon: int) -> None:
    """Every lever path: years within the run, values within the lever's range."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}.{name}"
        if isinstance(value, BaseModel):
            _check_paths(value, key, base_year, horizon)
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else None
        if extra is None or value is None:
            continue
        lo, hi = extra["minimum"], extra["maximum"]
        values = list(value.values()) if isinstance(value, dict) else [value]
        if isinstance(value, dict) and any(not base_year <= y <= horizon for y in value):
            raise FieldError(key, value, f"years must be from {base_year} to {horizon}")
        if any(v < lo or (hi is not None and v > hi) for v in values):
            allowed = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
            raise FieldError(key, value, f"must be {allowed}" + (" in every year" if isinstance(value, dict) else ""))


COUNT_LEVERS = (
    "policy.beds.total",
    "policy.beds.family_beds",
    "policy.beds.day_care_places",
    "policy.workforce.trained_per_year",
    "policy.workforce.migrants_per_year",
    "policy.family.carers_trained_per_year",
)


def _check_counts(scenario: Scenario, region) -> None:
    """Beds, places and people trained or recruited a year at most the region's people aged 60+ in the base
    year: more is a typing slip (and would fill the memory with empty beds, or with one row per worker)."""
    older = float(region.population_by_age[:, 20:].sum())
    for key in COUNT_LEVERS:
        node = scenario
        for part in key.split("."):
            node = getattr(node, part)
        values = list(node.values()) if isinstance(node, dict) else [] if node is None else [node]
        if any(v > older for v in values):
            raise FieldError(key, node, f"must be at most the region's people aged 60+ ({older:,.0f})")


def _check_targets(targets: list[Target], base_year: int, horizon: int) -> None:
    known = catalogue().targets
    for i, t in enumerate(targets):
        if t.indicator not in known:
            raise FieldError(f"targets.{i}.indicator", t.indicator, f"unknown indicator (allowed: {', '.join(known)})")
        if not base_year <= t.year <= horizon:
            raise FieldError(f"targets.{i}.year", t.year, f"must be from {base_year} to {horizon}")


def parse_scenario(raw: Any, source: str = "scenario") -> Scenario:
    return parse_mapping(Scenario, raw, source)
