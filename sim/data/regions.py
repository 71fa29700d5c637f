"""Packaged region data: who lives there in the base year, who turns 60 later, and their rates.

Everything is read from ``sim/data`` (built by ``data-raw/build_data.py`` with a source on every row);
nothing is fetched or read from outside the package at run time.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

import numpy as np
import yaml

from sim.data.demography import AGE_MAX, AGE_MIN, N_AGES, SEXES, MortalityTable, parse_age_group, split_age_groups
from sim.data.levels import LEVELS, N_LEVELS

RESIDENCES = ("rural", "urban")  # 乡村, 城镇 (census); an elder's residence is fixed from entry

DATA = files("sim") / "data"
ENTRY_AGE = AGE_MIN
FIRST_TABULATED_AGE = 40  # population_2020.csv starts here; the 45-59 year-olds are the future entrants


def _read_csv(name: str) -> list[dict]:
    with DATA.joinpath(name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@cache
def region_catalogue() -> dict[str, dict]:
    return yaml.safe_load(DATA.joinpath("regions.yaml").read_text(encoding="utf-8"))


def region_keys() -> list[str]:
    return sorted(region_catalogue())


@cache
def data_file_hashes() -> dict[str, str]:
    """SHA-256 of every packaged data file, recorded in each run's manifest."""
    return {
        f.name: hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(DATA.iterdir(), key=lambda f: f.name)
        if f.is_file() and f.name.endswith((".csv", ".yaml", ".json"))
    }


@cache
def mortality_table() -> MortalityTable:
    """The packaged national death rates (WPP2024); each region applies its own level to them."""
    return mortality_from_rows(_read_csv("mortality_wpp2024.csv"))


def mortality_from_csv(path) -> MortalityTable:
    with open(path, encoding="utf-8") as f:
        return mortality_from_rows(list(csv.DictReader(f)))


def mortality_from_rows(rows: list[dict]) -> MortalityTable:
    periods = [c for c in rows[0] if c.startswith("mx_")]
    ages = sorted({int(r["age_start"]) for r in rows})
    mx = np.zeros((2, len(ages), len(periods)))
    for r in rows:
        mx[SEXES.index(r["sex"]), ages.index(int(r["age_start"]))] = [float(r[p]) for p in periods]
    return MortalityTable(np.array(ages), np.array([int(p[3:7]) + 2.5 for p in periods]), mx)


def _by_sex_age_level(name: str, column: str, from_to: bool = False, residence: str | None = None) -> np.ndarray:
    shape = (2, N_AGES, N_LEVELS, N_LEVELS) if from_to else (2, N_AGES, N_LEVELS)
    out = np.zeros(shape)
    for r in _read_csv(name):
        if residence is not None and r["residence"] != residence:
            continue
        idx = (SEXES.index(r["sex"]), int(r["age"]) - AGE_MIN)
        if from_to:
            idx += (LEVELS.index(r["from_level"]), LEVELS.index(r["to_level"]))
        else:
            idx += (LEVELS.index(r["level"]),)
        out[idx] = float(r[column])
    return out


@cache
def _capacity_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """National intensities, hazard ratios and prevalence, and the prevalence of each residence's own
    cohort ([residence, sex, age, level])."""
    return (
        _by_sex_age_level("capacity_transitions.csv", "rate_per_year", from_to=True),
        _by_sex_age_level("capacity_mortality.csv", "hazard_ratio"),
        _by_sex_age_level("capacity_prevalence.csv", "share", residence="all"),
        np.stack([_by_sex_age_level("capacity_prevalence.csv", "share", residence=r) for r in RESIDENCES]),
    )


@dataclass(frozen=True)
class ResidenceEffects:
    """Urban and rural: multipliers on the national rates and yearly trends, each [residence, sex, age]
    (with [..., level] for deaths)."""

    onset: np.ndarray  # on onset and worsening
    death: np.ndarray  # on the death hazard by level
    onset_trend: np.ndarray  # d log(onset, worsening) / d year
    death_trend: np.ndarray  # d log(death hazard by level) / d year


@cache
def residence_effects() -> ResidenceEffects:
    shape = (len(RESIDENCES), 2, N_AGES)
    onset, onset_trend = np.zeros(shape), np.zeros(shape)
    death, death_trend = np.zeros(shape + (N_LEVELS,)), np.zeros(shape + (N_LEVELS,))
    for r in _read_csv("capacity_residence.csv"):
        i = (RESIDENCES.index(r["residence"]), SEXES.index(r["sex"]), int(r["age"]) - AGE_MIN)
        onset[i], onset_trend[i] = float(r["onset_multiplier"]), float(r["onset_trend_per_year"])
        death[i] = [float(r[f"death_multiplier_{name}"]) for name in LEVELS]
        death_trend[i] = [float(r[f"death_trend_per_year_{name}"]) for name in LEVELS]
    return ResidenceEffects(onset, death, onset_trend, death_trend)


@cache
def disability_trends() -> dict[str, dict]:
    """The disability trend variants (disability_trends.json, fitted by data-raw/fit_disability_trends.py):
    name -> factor on Hanewald et al.'s trends and the uniform yearly change of onset and worsening."""
    return json.loads(DATA.joinpath("disability_trends.json").read_text(encoding="utf-8"))["variants"]


@cache
def _region_demography() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for r in _read_csv("region_demography.csv"):
        out.setdefault(r["region"], {})[r["quantity"]] = float(r["value"])
    return out


def mix_preserving(national: np.ndarray, own: np.ndarray, urban_share: float) -> np.ndarray:
    """Level shares [residence, sex, age, level] whose mix at ``urban_share`` is ``national``, urban and
    rural apart in proportion to their own cohorts' shares (``own``, [residence, ...]): iterative
    proportional fitting of each residence's shares (adding to one) to the national mix by level."""
    weights = np.array([1 - urban_share, urban_share]).reshape(2, 1, 1, 1)
    shares = own.copy()
    for _ in range(200):
        mixed = (weights * shares).sum(axis=0)
        shares *= np.divide(national, mixed, out=np.ones_like(mixed), where=mixed > 0)
        total = shares.sum(axis=-1, keepdims=True)
        if np.abs(total - 1).max() < 1e-13:
            break
        shares /= total
    return shares


@dataclass(frozen=True)
class RegionData:
    """One region's inputs as arrays indexed [sex, age - 60, ...] (entrants: [sex]; with residence first
    where urban and rural differ)."""

    key: str
    name: str
    name_zh: str
    level: str
    base_year: int
    sources: dict
    population_by_age: np.ndarray = field(repr=False)  # [sex, age 40..110], persons at the base year
    mortality: MortalityTable = field(repr=False)  # the national rates times the region's level
    mortality_level: float  # that level: multiplier on the national death rates (region_demography.csv)
    net_migration: float  # yearly net migration of the cohorts before they turn 60, share of persons
    urban_share_60plus: float  # base year
    urban_share_all_ages: float  # base year
    rural_share_change: float  # yearly relative change of the rural share (urbanisation)
    transition_rates: np.ndarray = field(repr=False)  # [sex, age, from, to], per person-year, national mix
    hazard_ratio: np.ndarray = field(repr=False)  # [sex, age, level], death hazard relative to intact
    prevalence: np.ndarray = field(repr=False)  # [residence, sex, age, level], base-year shares by level
    residence: ResidenceEffects = field(repr=False)

    @property
    def last_year(self) -> int:
        """Last year whose new 60-year-olds are in the base-year table (aged 45 at the base year)."""
        return self.base_year + ENTRY_AGE - (FIRST_TABULATED_AGE + 5)

    def base_population(self) -> np.ndarray:
        """Persons aged 60..110 at the base year, [sex, age]."""
        return self.population_by_age[:, AGE_MIN - FIRST_TABULATED_AGE :]

    def entrants(self, year: int, mortality_multiplier: float = 1.0) -> np.ndarray:
        """Expected persons turning 60 in ``year``, [sex]: the base-year cohort survived to 60."""
        age_then = ENTRY_AGE - (year - self.base_year)
        if not FIRST_TABULATED_AGE + 5 <= age_then < ENTRY_AGE:
            raise ValueError(f"no entrant cohort for {year} in region {self.key}")
        persons = self.population_by_age[:, age_then - FIRST_TABULATED_AGE].copy()
        for k in range(year - self.base_year):
            q = self.mortality.death_probability(
                self.base_year + k + 0.5, np.array([age_then + k]), mortality_multiplier
            )
            persons *= (1.0 - q[:, 0]) * (1.0 + self.net_migration)
        return persons

    def urban_share_of_entrants(self, year: int) -> float:
        """Urban share of the people turning 60 in ``year``: the 60+'s in the base year, its rural part
        shrinking as the whole population's rural share does (docs/model.md, 'Residence')."""
        return 1.0 - (1.0 - self.urban_share_60plus) * (1.0 + self.rural_share_change) ** (year - self.base_year)

    def population_total(self) -> float:
        return float(self.base_population().sum())


@cache
def load_region(key: str) -> RegionData:
    meta = region_catalogue()[key]
    rows = [r for r in _read_csv("population_2020.csv") if r["region"] == key]
    by_age = np.array(
        [
            split_age_groups([(*parse_age_group(r["age_group"]), float(r["persons"])) for r in rows if r["sex"] == sex])
            for sex in SEXES
        ]
    )
    assert by_age.shape[1] == AGE_MAX - FIRST_TABULATED_AGE + 1
    rates, hr, prev, prev_own = _capacity_tables()
    demography = _region_demography()[key]
    national = mortality_table()
    level = demography["mortality_multiplier"]
    return RegionData(
        key=key,
        name=meta["name"],
        name_zh=meta["name_zh"],
        level=meta["level"],
        base_year=meta["base_year"],
        sources=meta["sources"],
        population_by_age=by_age,
        mortality=MortalityTable(national.age_starts, national.period_mids, national.mx * level),
        mortality_level=level,
        net_migration=demography["net_migration_per_year"],
        urban_share_60plus=demography["urban_share_60plus"],
        urban_share_all_ages=float(meta["urban_share_2020"]["value"]),
        rural_share_change=demography["rural_share_change_per_year"],
        transition_rates=rates,
        hazard_ratio=hr,
        prevalence=mix_preserving(prev, prev_own, demography["urban_share_60plus"]),
        residence=residence_effects(),
    )
