"""Region data: who lives there in the base year, who turns 60 later, and their rates.

Packaged regions (China, its 31 provinces, and the cities of the source plans) are read from ``sim/data``
(built by ``data-raw/build_data.py`` with a source on every row); nothing is fetched at run time. A
user's own city comes from a region file (``sim/data/user_region.py``) on top of its parent province.
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


# the 31 provinces (province-level divisions of the census), as packaged region keys
PROVINCES = (
    "beijing", "tianjin", "hebei", "shanxi", "inner_mongolia", "liaoning", "jilin", "heilongjiang", "shanghai",
    "jiangsu", "zhejiang", "anhui", "fujian", "jiangxi", "shandong", "henan", "hubei", "hunan", "guangdong",
    "guangxi", "hainan", "chongqing", "sichuan", "guizhou", "yunnan", "tibet", "shaanxi", "gansu", "qinghai",
    "ningxia", "xinjiang",
)  # fmt: skip


def _spelling(text: str) -> str:
    return "".join(str(text).lower().replace("_", " ").replace("-", " ").split())


def find_region(text: str) -> str | None:
    """The packaged region a user means: its key, English name or Chinese name (with or without 省/市/
    自治区: 浙江, 浙江省, Zhejiang, inner mongolia); None if none."""
    wanted = _spelling(text)
    for key, meta in region_catalogue().items():
        census = meta.get("census_region", "")
        if wanted in {_spelling(key), _spelling(meta["name"]), meta["name_zh"], census} and wanted:
            return key
    return None


def region_name(key: str, lang: str, region_file: dict | None = None) -> str:
    """A region's name in a language (English or Chinese); a user's region's from its file."""
    meta = region_file or region_catalogue().get(key)
    if meta is None:
        return key
    return meta["name_zh"] if lang == "zh" else meta["name"]


# Urban and rural people aged 60+: 2020 census bulletin No. 7 and the NBS reading of the census: 23.81% of
# rural and 15.82% of urban residents aged 60+ (65+: 17.72% and 11.11%, confirmed in Liu et al., IJERPH
# 2022, 19(23):15631). A region's urban share of its 60+ follows from its all-ages urban share.
OLD_SHARE_URBAN, OLD_SHARE_RURAL = 0.1582, 0.2381
URBAN_SHARE_SOURCE = (
    "NBS 7th census bulletin No. 7 (urban/rural totals) and the NBS reading of the census: 60+ are 23.81% of "
    "rural and 15.82% of urban residents; a region's urban share of the 60+ is derived from its all-ages "
    "urban share with that national ratio (assumption)"
)


def urban_share_of_60plus(urban_all_ages: float) -> float:
    urban = urban_all_ages * OLD_SHARE_URBAN
    return urban / (urban + (1 - urban_all_ages) * OLD_SHARE_RURAL)


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


@dataclass(frozen=True, eq=False)
class RegionData:
    """One region's inputs as arrays indexed [sex, age - 60, ...] (entrants: [sex]; with residence first
    where urban and rural differ). Two are the same region when their ``identity`` is (the key, and for a
    user's region the SHA-256 of its file): caches of what a region's rates give are keyed by it."""

    key: str
    identity: str
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

    def __hash__(self) -> int:
        return hash(self.identity)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RegionData) and other.identity == self.identity

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


def load_region(key: str, region_file: dict | None = None) -> RegionData:
    """A packaged region, or a user's region from its file's definition (``region_file``: what a scenario
    naming the file carries with it, so any process can build the region from the scenario alone)."""
    if region_file is not None:
        return _load_user_region(region_file["sha256"], region_file)
    return _load_packaged(key)


def _population_by_age(key: str) -> np.ndarray:
    """Persons by [sex, age 40..110] in the base year (population_2020.csv)."""
    rows = [r for r in _read_csv("population_2020.csv") if r["region"] == key]
    by_age = np.array(
        [
            split_age_groups([(*parse_age_group(r["age_group"]), float(r["persons"])) for r in rows if r["sex"] == sex])
            for sex in SEXES
        ]
    )
    assert by_age.shape[1] == AGE_MAX - FIRST_TABULATED_AGE + 1
    return by_age


@cache
def _load_packaged(key: str) -> RegionData:
    meta = region_catalogue()[key]
    demography = _region_demography()[key]
    return _region_data(key, key, meta, _population_by_age(key), demography, float(meta["urban_share_2020"]["value"]))


_USER_REGIONS: dict[str, RegionData] = {}  # by the SHA-256 of the region file: a cache of content, not names


def _load_user_region(sha256: str, city: dict) -> RegionData:
    """The city's totals on its province's structure: each band (40-59, 60-64, 65+) of the province's
    single-year table scaled to the city's count in that band (the 40-59 by the 15-59 ratio)."""
    if sha256 in _USER_REGIONS:
        return _USER_REGIONS[sha256]
    key = city["key"]
    province = city["province"]
    demography = dict(_region_demography()[province])
    structure = _population_by_age(province)
    ages = np.arange(FIRST_TABULATED_AGE, AGE_MAX + 1)
    n60, n65 = city["population_60plus_2020"]["value"], city["population_65plus_2020"]["value"]
    bands = [
        (ages < 60, city["population_15_59_2020"]["value"] / demography["population_15_59"]),
        ((ages >= 60) & (ages < 65), (n60 - n65) / structure[:, (ages >= 60) & (ages < 65)].sum()),
        (ages >= 65, n65 / structure[:, ages >= 65].sum()),
    ]
    by_age = np.zeros_like(structure)
    for in_band, factor in bands:
        by_age[:, in_band] = structure[:, in_band] * factor
    urban = city["urban_share_2020"]["value"]
    demography["urban_share_60plus"] = urban_share_of_60plus(urban)
    meta = {
        **{k: city[k] for k in ("name", "name_zh", "level", "base_year")},
        "sources": {
            "file": f"{city['file']} (sha256 {city['sha256'][:12]})",
            **{k: city[k]["source"] for k in city if k.startswith(("population_", "urban_share"))},
            "structure": f"{province}'s 2020 census table by single year and sex, scaled to the city's bands; "
            f"{province}'s mortality level and net migration",
        },
    }
    _USER_REGIONS[sha256] = _region_data(key, f"{key}:{sha256}", meta, by_age, demography, urban)
    return _USER_REGIONS[sha256]


def _region_data(
    key: str, identity: str, meta: dict, by_age: np.ndarray, demography: dict, urban_all_ages: float
) -> RegionData:
    rates, hr, prev, prev_own = _capacity_tables()
    national = mortality_table()
    level = demography["mortality_multiplier"]
    return RegionData(
        key=key,
        identity=identity,
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
        urban_share_all_ages=urban_all_ages,
        rural_share_change=demography["rural_share_change_per_year"],
        transition_rates=rates,
        hazard_ratio=hr,
        prevalence=mix_preserving(prev, prev_own, demography["urban_share_60plus"]),
        residence=residence_effects(),
    )
