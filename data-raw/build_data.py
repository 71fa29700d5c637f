"""Build the packaged data in sim/data/ from the sourced tables in ../shared/data/.

Run from the repository root:  python data-raw/build_data.py [--shared ../shared/data]
The model never reads ../shared at run time; this script is how its packaged tables were made, so every
derived number can be traced and rebuilt. Outputs:

- population_2020.csv        2020 population by single age 40-99 and 100+ and sex, per region
- mortality_wpp2024.csv      UN WPP2024 central death rates for China, ages 45+, by sex and period
- capacity_transitions.csv   yearly intensities between the five GB/T 42195-2022 levels, by sex and age
- capacity_mortality.csv     hazard of death by level relative to 'intact', by sex and age
- capacity_prevalence.csv    share of persons at each level by sex and age (base-year initial state)
- capacity_fit.json          how the free structural parameters were fitted and how well
- capacity_residence.csv     urban and rural multipliers of onset and death, and the yearly trends
- region_demography.csv      each region's mortality level, net migration, urban share of the 60+
- region_demography.json     how the mortality levels were estimated, and their check
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import yaml
from scipy.linalg import expm
from scipy.optimize import least_squares

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.data.demography import (  # noqa: E402
    AGE_MAX,
    life_expectancy,
    parse_age_group,
    split_age_groups,
)
from sim.data.levels import LEVELS, N_LEVELS  # noqa: E402
from sim.data.regions import URBAN_SHARE_SOURCE, mortality_from_csv, urban_share_of_60plus  # noqa: E402

OUT = ROOT / "sim" / "data"
SEX_CODE = {"male": "male", "female": "female", "M": "male", "F": "female"}
GROUPS_KEPT = [f"{a}-{a + 4}" for a in range(40, 100, 5)] + ["100+"]
CENSUS_SOURCE = (
    "NBS China Population Census Yearbook 2020, Table 1-5 (各地区分年龄、性别的人口), full count; "
    "transcribed in GitHub earfanfan/yuanfan static/data/我国人口普查数据整理2010+2020.xlsx (commit 488a1d0)"
)

# --- Capacity structure (assumptions; see docs/model.md, section 'Capacity') --------------------------
# Fu, Sherris & Xu (2021) give CLHLS intensities between 'healthy' and 'disabled' (needs help with basic
# ADL). We read their 'disabled' as GB/T levels moderate-or-worse and their onset and recovery rates as
# the crossing of that boundary; the moves inside each side are multiples of the same age-sex curves:
#   intact->mild      k_mild * onset        mild->intact      recovery
#   intact->moderate  onset                 mild->moderate    k_worse * onset
#   moderate->mild    recovery              moderate->severe  k_worse * onset
#   severe->moderate  r_severe * recovery   severe->total     k_worse * onset
#   total->severe     r_severe * recovery
# r_severe is an assumption (R_SEVERE). k_mild and k_worse (one per sex: the census sex gap in disabled life
# expectancy is smaller than Fu's rates imply) are fitted to three national 2020 anchors (FITTED below).
# The census-based disabled life expectancies themselves cannot be matched together with the census
# prevalence under the WPP life table and the 2020 age structure (even a prevalence rising 16%/year of
# age gives 0.53 / 0.97 years at 2.34%), so only their female/male ratio is fitted; both are reported.
# Relative hazard of death at level l: (disabled/healthy hazard ratio of Fu et al.) ** LOG_HR_WEIGHT[l]:
# mild sits a quarter of the way (on the log scale) to Fu's average disabled person, total loss beyond it.
LOG_HR_WEIGHT = np.array([0.0, 0.25, 0.75, 1.0, 1.25])
ANCHORS = {
    "share_any_loss_60plus": (
        0.116,
        "NHSA/MCA: about 35 M disabled (失能) older people, 11.6% of 60+ (5th Sample Survey of Urban and "
        "Rural Older People, reported by 雷雯, 《行政管理改革》2025(12)); read as GB/T levels mild-or-worse",
    ),
    "share_severe_or_total_60plus": (
        0.0234,
        "2020 census long form, 'unhealthy and unable to care for oneself' 2.34% of 60+ (Guo, Wang, Ge & "
        "Jiang, BMC Geriatrics 2022, doi:10.1186/s12877-022-03412-w); read as GB/T levels severe-or-total",
    ),
    "disabled_life_expectancy_60_male": (
        0.76,
        "2020 census-based disabled (unable to self-care) life expectancy at 60, men: Guo, Mei & Jiang, "
        "Demographic Research 52(11), 2025, abstract",
    ),
    "disabled_life_expectancy_60_female": (1.18, "same, women"),
    "disabled_life_expectancy_60_female_to_male": (1.18 / 0.76, "[DERIVED] ratio of the two figures above"),
}
FITTED = ("share_any_loss_60plus", "share_severe_or_total_60plus", "disabled_life_expectancy_60_female_to_male")
PARAM_NAMES = ("k_mild", "k_worse_male", "k_worse_female")
R_SEVERE = 0.5  # assumption: recovery from severe or total loss is half as frequent as from moderate
COHORT_START_AGE = 45  # the synthetic cohort starts intact at 45; rates below 65 are extrapolated


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def census_groups(rows: list[dict], region_zh: str) -> dict[tuple[str, str], float]:
    return {
        (r["sex"], r["age_group"]): float(r["persons"])
        for r in rows
        if r["year"] == "2020" and r["region_zh"] == region_zh and r["sex"] in ("male", "female")
    }


def group_sum(groups: dict, sex: str, lo: int, hi: int | None) -> float:
    total = 0.0
    for (s, label), n in groups.items():
        if s != sex or label == "all":
            continue
        a, b = parse_age_group(label)
        if a >= lo and (hi is None or (b is not None and b <= hi)):
            total += n
    return total


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole persons in proportion to ``weights`` that add up to ``total`` exactly."""
    exact = total * weights / weights.sum()
    whole = np.floor(exact).astype(np.int64)
    short = int(total - whole.sum())
    whole[np.argsort(-(exact - whole), kind="stable")[:short]] += 1
    return whole


def national_single_years(shared: Path) -> dict[str, dict[int, float]]:
    """China 2020 by sex and single age 40-99: the derived split of the census 5-year groups by the 2010
    census single-year counts of the same cohorts, survival-adjusted (see its notes in ../shared)."""
    out: dict[str, dict[int, float]] = {"male": {}, "female": {}}
    for r in read_csv(shared / "census2020_single_year_age_sex_china_derived.csv"):
        if r["sex"] in out and r["age"] != "100+":
            out[r["sex"]][int(r["age"])] = float(r["persons_2020_est_survival_adjusted"])
    return out


def single_years(groups: dict, sex: str, shape: dict[int, float], factor: float = 1.0) -> list[tuple[str, int, str]]:
    """(age, persons, how) for ages 40-99 and 100+: each 5-year group's count (times ``factor``, rounded)
    split over its single years in the national single-year shape, in whole persons that keep the group."""
    out = []
    for label in GROUPS_KEPT:
        lo, hi = parse_age_group(label)
        total = round(groups[(sex, label)] * factor)
        if hi is None:
            out.append((label, total, "census open group"))
            continue
        ages = np.arange(lo, hi)
        for age, n in zip(ages, largest_remainder(total, np.array([shape[a] for a in ages])), strict=True):
            out.append((str(age), int(n), f"{label} group split by the national single-year shape"))
    return out


def build_population(shared: Path, regions: dict) -> list[dict]:
    """Persons by single age 40-99 and 100+ and sex, per region. Single-year counts of 2020 were not found
    for any province or city, so every region takes the national single-year shape (which has the
    1959-61 famine trough and the 1962-63 births boom) within each of its own 5-year census groups."""
    census = read_csv(shared / "census_age_sex_all_ages_2010_2020.csv")
    shape = national_single_years(shared)
    shape_note = (
        "single years: China 2020 census group split by the 2010 census single-year counts of the same "
        "cohorts, survival-adjusted ([DERIVED] census2020_single_year_age_sex_china_derived.csv, from NBS 2010 "
        "census Table 3-1 via Yiguan/CN_pop_simu @f3d346b)"
    )
    rows = []
    for key, meta in regions.items():
        if "census_region" in meta:
            groups = census_groups(census, meta["census_region"])
            for sex in ("male", "female"):
                for age, persons, how in single_years(groups, sex, shape[sex]):
                    rows.append(
                        dict(
                            region=key,
                            sex=sex,
                            age_group=age,
                            persons=persons,
                            method=f"census; {how}",
                            source=CENSUS_SOURCE + f"; rows {meta['census_region']}; {shape_note}",
                        )
                    )
            continue
        prov = census_groups(census, meta["shape_from"])
        pop = meta["population_2020"]
        n_15_59 = meta.get("population_15_59_2020") or pop * meta["share_15_59_pct"] / 100
        n_60 = meta.get("population_60plus_2020") or pop * meta["share_60plus_pct"] / 100
        n_65 = meta.get("population_65plus_2020") or pop * meta["share_65plus_pct"] / 100
        prov_15_59 = sum(group_sum(prov, s, 15, 60) for s in ("male", "female"))
        prov_60_64 = sum(group_sum(prov, s, 60, 65) for s in ("male", "female"))
        prov_65 = sum(group_sum(prov, s, 65, None) for s in ("male", "female"))
        factors = {"15-59": n_15_59 / prov_15_59, "60-64": (n_60 - n_65) / prov_60_64, "65+": n_65 / prov_65}
        for sex in ("male", "female"):
            for band, (lo, hi) in {"15-59": (40, 60), "60-64": (60, 65), "65+": (65, None)}.items():
                in_band = {k: v for k, v in prov.items() if k[1] in GROUPS_KEPT}
                for age, persons, how in single_years(in_band, sex, shape[sex], factors[band]):
                    a = parse_age_group(age)[0]
                    if a < lo or (hi is not None and a >= hi):
                        continue
                    rows.append(
                        dict(
                            region=key,
                            sex=sex,
                            age_group=age,
                            persons=persons,
                            method=f"derived: {meta['shape_from']} census count x {factors[band]:.6f} "
                            f"(city {band} total / province {band} total); {how}",
                            source=f"{CENSUS_SOURCE}; rows {meta['shape_from']}; {shape_note}. City totals: "
                            + "; ".join(f"{k}: {v}" for k, v in meta["sources"].items()),
                        )
                    )
    return rows


def build_mortality(shared: Path) -> list[dict]:
    rows = [r for r in read_csv(shared / "wpp2024_china_mx5.csv") if r["sex"] in ("M", "F")]
    periods = [c for c in rows[0] if c.startswith("mx_")]
    return [
        dict(
            sex=SEX_CODE[r["sex"]],
            age_start=int(r["age_start"].rstrip("+")),
            **{p: float(r[p]) for p in periods},
            source="UN DESA, World Population Prospects 2024, central death rates mx, China (code 156); "
            + r["source"].replace("UN WPP2024 via ", "file "),
        )
        for r in rows
    ]


def fu_rates(shared: Path) -> dict[str, np.ndarray]:
    """Fu et al. (2021) intensities as arrays [sex, age 45..110]; below 65 extrapolated log-linearly."""
    rows = [r for r in read_csv(shared / "disability_transitions_china.csv") if r["source_id"] == "fu2021_clhls_static"]
    kinds = {
        ("healthy", "disabled"): "onset",
        ("disabled", "healthy"): "recovery",
        ("healthy", "dead"): "death_healthy",
        ("disabled", "dead"): "death_disabled",
    }
    ages = np.arange(COHORT_START_AGE, AGE_MAX + 1)
    out = {k: np.zeros((2, ages.size)) for k in kinds.values()}
    for r in rows:
        a = int(r["age_group"])
        s = 0 if r["sex"] == "male" else 1
        out[kinds[(r["from_state"], r["to_state"])]][s, a - COHORT_START_AGE] = float(r["value"])
    i65, i70 = 65 - COHORT_START_AGE, 70 - COHORT_START_AGE
    for arr in out.values():
        slope = np.log(arr[:, i70] / arr[:, i65]) / 5
        young = np.arange(COHORT_START_AGE, 65) - 65
        arr[:, :i65] = arr[:, [i65]] * np.exp(slope[:, None] * young)
    return out


def living_rates(fu: dict, k_mild: float, k_worse_male: float, k_worse_female: float) -> np.ndarray:
    on, rec = fu["onset"], fu["recovery"]
    k_worse = np.array([[k_worse_male], [k_worse_female]])
    r_severe = R_SEVERE
    rates = np.zeros(on.shape + (N_LEVELS, N_LEVELS))
    rates[..., 0, 1] = k_mild * on
    rates[..., 0, 2] = on
    rates[..., 1, 0] = rec
    rates[..., 1, 2] = k_worse * on
    rates[..., 2, 1] = rec
    rates[..., 2, 3] = k_worse * on
    rates[..., 3, 2] = r_severe * rec
    rates[..., 3, 4] = k_worse * on
    rates[..., 4, 3] = r_severe * rec
    return rates


def hazard_ratios(fu: dict) -> np.ndarray:
    ratio = fu["death_disabled"] / fu["death_healthy"]
    return ratio[..., None] ** LOG_HR_WEIGHT


def cohort_prevalence(fu: dict, params: tuple[float, ...], onset=1.0, death_multiplier=1.0) -> np.ndarray:
    """Level shares among survivors at each exact age 45..110 of a cohort intact at 45, [sex, age, level];
    ``onset`` [sex, age] multiplies onset and worsening, ``death_multiplier`` [sex, age, level] the deaths."""
    worse = np.triu(np.ones((N_LEVELS, N_LEVELS), dtype=bool), k=1)
    rates = living_rates(fu, *params) * np.where(worse, np.expand_dims(np.asarray(onset, dtype=float), (-2, -1)), 1.0)
    death = fu["death_healthy"][..., None] * hazard_ratios(fu) * death_multiplier
    n = N_LEVELS + 1
    gen = np.zeros(rates.shape[:2] + (n, n))
    gen[..., :N_LEVELS, :N_LEVELS] = rates
    gen[..., :N_LEVELS, N_LEVELS] = death
    idx = np.arange(n)
    gen[..., idx, idx] = -gen.sum(axis=-1)
    step = expm(gen)
    shares = np.zeros(rates.shape[:2] + (N_LEVELS,))
    state = np.zeros((2, n))
    state[:, 0] = 1.0
    for i in range(rates.shape[1]):
        living = state[:, :N_LEVELS]
        shares[:, i] = living / living.sum(axis=1, keepdims=True)
        state = np.einsum("sj,sjk->sk", state, step[:, i])
    return shares


def anchor_values(prev60: np.ndarray, weights: np.ndarray, q60: np.ndarray) -> dict[str, float]:
    """The four anchors implied by level shares prev60[sex, age 60..110, level]."""
    any_loss = prev60[..., 1:].sum(-1)
    severe = prev60[..., 3:].sum(-1)
    survivors = np.concatenate([np.ones((2, 1)), np.cumprod(1 - q60[:, :-1], axis=1)], axis=1)
    person_years = survivors * (1 - q60 / 2)
    person_years[:, -1] = survivors[:, -1] * (1 - q60[:, -1] / 2) / q60[:, -1]
    dle = (person_years * severe).sum(1)
    return {
        "share_any_loss_60plus": float((any_loss * weights).sum() / weights.sum()),
        "share_severe_or_total_60plus": float((severe * weights).sum() / weights.sum()),
        "disabled_life_expectancy_60_male": float(dle[0]),
        "disabled_life_expectancy_60_female": float(dle[1]),
        "disabled_life_expectancy_60_female_to_male": float(dle[1] / dle[0]),
    }


def to_params(x: np.ndarray) -> tuple[float, ...]:
    """Optimiser space (logs) -> multipliers."""
    return tuple(float(v) for v in np.exp(x))


def fit_capacity(fu: dict, weights: np.ndarray, q60: np.ndarray) -> tuple[tuple, dict]:
    names = list(FITTED)
    targets = np.array([ANCHORS[k][0] for k in names])
    i60 = 60 - COHORT_START_AGE

    def residuals(log_params):
        prev = cohort_prevalence(fu, to_params(log_params))[:, i60:]
        got = anchor_values(prev, weights, q60)
        return np.log(np.array([got[k] for k in names]) / targets)

    fit = least_squares(residuals, x0=np.zeros(3), bounds=(np.log(0.01), np.log(100)))
    params = to_params(fit.x)
    got = anchor_values(cohort_prevalence(fu, params)[:, i60:], weights, q60)
    report = {
        "method": "scipy.optimize.least_squares on log(simulated/observed) of the fitted anchors; "
        "synthetic cohort intact at 45 run through the yearly matrix exponential of the intensities",
        "parameters": dict(zip(PARAM_NAMES, params, strict=True)),
        "anchors": {
            k: {"observed": round(v, 5), "model": round(got[k], 5), "fitted": k in FITTED, "source": src}
            for k, (v, src) in ANCHORS.items()
        },
        "weights": "China 2020 census population aged 60+ by single year and sex (split of 5-year groups)",
        "life_table": "WPP2024 China death rates at 2020.5",
        "cost": float(fit.cost),
    }
    return params, report


# --- Urban and rural, and the trends over calendar time (Hanewald, Li & Shao 2019) ---------------------
# Their CLHLS GLM gives log intensities of healthy->disabled, healthy->dead and disabled->dead by sex and
# residence, log mu = b0 + b1 x + b2 x^2 + t (b3 + b4 x + b5 x^2), x = age - 65, t = year - 1998.
# - Residence: the urban/rural ratio of each intensity at 2020 multiplies our national rates, scaled so
#   that the mix of China's 60+ (URBAN_SHARE_60PLUS_CHINA urban) keeps the national rate. Onset and
#   worsening take the healthy->disabled ratio (our worsening is a multiple of onset), recovery none (no
#   coefficient); the hazard of death by level takes healthy->dead at 'intact', disabled->dead from
#   'moderate' on and the geometric mean of the two at 'mild' (the same log-scale weights as the hazards).
# - Trend: d log mu / dt = b3 + b4 x + b5 x^2, per year, for onset and worsening and for the hazard of
#   death with a loss of capacity relative to intact (healthy->dead has no trend in their fit; the life
#   table keeps the level of deaths). The CLHLS sample is 65+: x is held at 0 below 65 and at 40 above 105.
HANEWALD_SOURCE = (
    "Hanewald, Li & Shao 2019, Annals of Actuarial Science 13(1):145-165, doi:10.1017/S1748499518000167, "
    "Table 3 (as in disability_transition_model_params_china.csv)"
)
RESIDENCE_NAMES = ("rural", "urban")
GLM_TERMS = ("intercept", "x (= age - 65)", "x^2", "t (= calendar year - 1998)", "t*x", "t*x^2")
TREND_BASE_YEAR = 2020


def hanewald_coefficients(shared: Path) -> dict[tuple[str, str, str], np.ndarray]:
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for r in read_csv(shared / "disability_transition_model_params_china.csv"):
        key = (r["transition"], r["sex"], r["residence"])
        out.setdefault(key, np.zeros(len(GLM_TERMS)))[GLM_TERMS.index(r["term"])] = float(
            r["coefficient_used_in_model"]
        )
    return out


def glm_terms(ages: np.ndarray, year: float) -> tuple[np.ndarray, np.ndarray]:
    """(level terms at ``year``, trend terms) of the GLM at these ages: log mu = level @ b, d/dt = trend @ b."""
    x = np.clip(ages - 65.0, 0.0, 40.0)
    t = year - 1998.0
    level = np.stack([np.ones_like(x), x, x**2, t * np.ones_like(x), t * x, t * x**2], axis=-1)
    trend = np.stack([np.zeros_like(x)] * 3 + [np.ones_like(x), x, x**2], axis=-1)
    return level, trend


def residence_effects(coefs: dict, ages: np.ndarray, urban_share: float) -> dict[str, np.ndarray]:
    """Multipliers [residence, sex, age] on onset, intact and disabled death hazards, and yearly log
    trends [residence, sex, age] of onset and of the disabled death hazard."""
    level, trend = glm_terms(ages, TREND_BASE_YEAR)
    out = {}
    for name, transition in (
        ("onset", "healthy->disabled"),
        ("death_intact", "healthy->dead"),
        ("death_disabled", "disabled->dead"),
    ):
        log_mu = np.array(
            [[level @ coefs[(transition, sex, res)] for sex in ("male", "female")] for res in RESIDENCE_NAMES]
        )
        ratio = np.exp(log_mu[1] - log_mu[0])  # urban / rural, [sex, age]
        rural = 1.0 / (urban_share * ratio + 1 - urban_share)
        out[name] = np.stack([rural, rural * ratio])
    for name, transition in (("onset_trend", "healthy->disabled"), ("death_disabled_trend", "disabled->dead")):
        out[name] = np.array(
            [[trend @ coefs[(transition, sex, res)] for sex in ("male", "female")] for res in RESIDENCE_NAMES]
        )
    return out


def level_death_multipliers(effects: dict) -> np.ndarray:
    """[residence, sex, age, level] multipliers of the death hazard: intact's, disabled's, between at mild."""
    w = np.clip(LOG_HR_WEIGHT, 0.0, 1.0)
    return effects["death_intact"][..., None] ** (1 - w) * effects["death_disabled"][..., None] ** w


# --- Each region's mortality level and net migration (intercensal cohort survival) -------------------
# No 2020 census life table by province was found. Both censuses (1 November 2010 and 2020) count every
# province by 5-year age group, so each cohort's 10-year survival ratio P2020(a + 10) / P2010(a) is observed.
# Divided by the same ratio for China, census coverage and the level of the national life table cancel;
# what remains is the region's survival relative to the nation's, times its net migration. At 60-79 in
# 2010 net migration is assumed nil (older people rarely move between provinces), so those cohorts give
# the region's multiplier k on the national death rates; the cohorts aged 40-54 in 2010 (40-64 over the
# decade: the ages of the 2021-2035 entrants) then give the yearly net migration left after k.
# Cities take their province's values. The published 2010 census life expectancies at birth are the check.
# A region's census rows: its own (census_region: China and the 31 provinces) or its province's
# (shape_from: the cities; city003's Hebei is an assumption, see regions.yaml).
def census_rows_of(meta: dict) -> str:
    return meta.get("census_region") or meta["shape_from"]


MORTALITY_COHORTS_2010 = (60, 65, 70, 75)
MIGRATION_COHORTS_2010 = (40, 45, 50)
E0_2010_CENSUS = {  # NBS 2010 census-based life expectancy at birth (check only; see region_demography.json)
    "全国": 74.83,
    "天津": 78.89,
    "浙江": 77.73,
    "河南": 74.57,
}
E0_2010_SOURCE = (
    "NBS 2010 census-based life expectancy at birth by province, as listed at "
    "https://wenxuecity.com/blog/201906/69106/31015.html (national 74.83 also in 中国人口和就业统计年鉴2024)"
)
SURVIVAL_TO_45 = 0.965  # assumption for the check only: share of births alive at 45 (China around 2010)
# Urbanisation: 63.89% (census, 2020) to 67.89% (NBS year-end 2025): the rural share fell by a constant
# fraction a year, which the urban share of each year's new 60-year-olds follows (docs/model.md).
RURAL_SHARE_2020, RURAL_SHARE_2025 = 1 - 0.6389, 1 - 0.6789
URBANISATION_SOURCE = "NBS 7th census bulletin No. 7 (63.89%, 2020); NBS 2025年国民经济运行情况 (67.89%, end 2025)"


def ten_year_survival(mortality, lo: int, k: float) -> np.ndarray:
    """Survival over 2010-2020 of the persons aged lo..lo+4 in 2010, [sex], under k x the national rates."""
    alive = np.ones((2, 5))
    for j in range(10):
        ages = np.maximum(np.arange(lo, lo + 5) + j, 45)  # the table starts at 45; younger rates are small
        alive *= np.exp(-k * mortality.rates(2010.5 + j, ages))
    return alive.mean(axis=1)


def survival_ratios(census: list[dict], region_zh: str, starts) -> np.ndarray:
    """P2020(a+10)/P2010(a) by [cohort, sex], for 2010 5-year groups starting at ``starts``."""
    out = np.zeros((len(starts), 2))
    for i, lo in enumerate(starts):
        for s, sex in enumerate(("male", "female")):
            n = {
                r["year"]: float(r["persons"])
                for r in census
                if r["region_zh"] == region_zh
                and r["sex"] == sex
                and r["age_group"] == (f"{lo}-{lo + 4}" if r["year"] == "2010" else f"{lo + 10}-{lo + 14}")
            }
            out[i, s] = n["2020"] / n["2010"]
    return out


def mortality_level(census: list[dict], mortality, region_zh: str) -> tuple[float, float, dict]:
    """(k, net migration per year at 40-64, diagnostics) of a province from its intercensal survival."""
    from scipy.optimize import brentq

    if region_zh == "全国":
        return 1.0, 0.0, {}
    relative = survival_ratios(census, region_zh, MORTALITY_COHORTS_2010) / survival_ratios(
        census, "全国", MORTALITY_COHORTS_2010
    )
    national = np.array([ten_year_survival(mortality, lo, 1.0) for lo in MORTALITY_COHORTS_2010])

    def excess(k: float) -> float:
        mine = np.array([ten_year_survival(mortality, lo, k) for lo in MORTALITY_COHORTS_2010])
        return float(np.log(mine / national).mean() - np.log(relative).mean())

    k = brentq(excess, 0.2, 3.0)
    moving = survival_ratios(census, region_zh, MIGRATION_COHORTS_2010) / survival_ratios(
        census, "全国", MIGRATION_COHORTS_2010
    )
    survival_gain = np.array(
        [ten_year_survival(mortality, lo, k) / ten_year_survival(mortality, lo, 1.0) for lo in MIGRATION_COHORTS_2010]
    )
    migration = float(np.exp(np.log(moving / survival_gain).mean() / 10) - 1)
    return (
        k,
        migration,
        {
            "relative_survival_60_79": relative.round(4).tolist(),
            "relative_survival_40_54": moving.round(4).tolist(),
        },
    )


# --- The mortality level from published deaths --------------------------------------------------------
# WPP2024's death rates applied to China's 2020 census population give about 11.4 M deaths a year, where
# NBS reports 10.1-10.4 M for 2021-2022 (and WPP itself estimates 10.8-11.0 M): the level of mortality
# that China's own statistics imply is below WPP's. A region's level is therefore the multiplier on
# WPP's rates at every age that reproduces the deaths its statistics bureau published (data-raw/
# published_deaths.csv: the years fitted; other years are held out in sim/data/validation), with its
# census 2020 population aged forward (no births after the census: the youngest ages keep the census's
# age-0 count; no migration). Regions with no published deaths keep their intercensal survival relative
# to China (mortality_level) on China's level from its deaths.
PUBLISHED_DEATHS = ROOT / "data-raw" / "published_deaths.csv"
YOUNG_MORTALITY = ROOT / "data-raw" / "wpp2024_china_mx5_under45.csv"


def all_ages_mortality(mortality):
    """WPP2024 rates at every age: the packaged table (45+) and the younger groups beside this script."""
    from sim.data.demography import MortalityTable

    young = read_csv(YOUNG_MORTALITY)
    starts = sorted({int(r["age_start"]) for r in young})
    mx = np.zeros((2, len(starts), mortality.mx.shape[2]))
    for r in young:
        periods = [v for k, v in r.items() if k.startswith("mx_")]
        mx[0 if r["sex"] == "M" else 1, starts.index(int(r["age_start"]))] = [float(v) for v in periods]
    return MortalityTable(
        np.concatenate([starts, mortality.age_starts]), mortality.period_mids, np.concatenate([mx, mortality.mx], 1)
    )


def calendar_deaths(groups: dict, mortality, k: float, years: list[int], below: int = AGE_MAX + 1) -> float:
    """Deaths in the calendar ``years`` at ages under ``below`` (default: all) of the region whose 2020
    census groups are ``groups``, under k x the rates: the census population (1 November 2020) aged year
    by year, a calendar year's deaths being ten twelfths of the model's year to 1 November and two twelfths
    of the next."""
    ages = np.arange(0, AGE_MAX + 1)
    pop = np.array(
        [
            split_age_groups(
                [(*parse_age_group(label), n) for (s, label), n in groups.items() if s == sex and label != "all"]
            )
            for sex in ("male", "female")
        ]
    )
    born = pop[:, 0].copy()
    by_model_year = {}
    for year in range(2021, max(years) + 2):
        q = 1 - np.exp(-k * mortality.rates(year - 0.5, ages))
        by_model_year[year] = float((pop * q)[:, :below].sum())
        survivors = pop * (1 - q)
        pop = np.concatenate([born[:, None], survivors[:, :-2], survivors[:, -2:].sum(1, keepdims=True)], axis=1)
    return sum(by_model_year[y] * 10 / 12 + by_model_year[y + 1] * 2 / 12 for y in years)


DEATH_YEARS = range(2021, 2026)


def under_60_deaths(census: list[dict], mortality, region_zh: str, k: float, meta: dict) -> dict[int, float]:
    """Deaths under 60 by calendar year (the model has no one under 60: a check adds these to the model's
    deaths at 60+ to compare with the published deaths at all ages). A city scales its province's by its
    own persons under 60."""
    groups = census_groups(census, region_zh)
    share = 1.0
    if "census_region" not in meta:
        aged_60plus = meta.get("population_60plus_2020") or meta["population_2020"] * meta["share_60plus_pct"] / 100
        under_60 = meta["population_2020"] - aged_60plus
        province_under_60 = sum(group_sum(groups, sex, 0, 60) for sex in ("male", "female"))
        share = under_60 / province_under_60
    return {y: round(share * calendar_deaths(groups, mortality, k, [y], below=60)) for y in DEATH_YEARS}


def deaths_level(census: list[dict], mortality, region_zh: str) -> tuple[float, list[dict]] | None:
    """(k, the published deaths it reproduces) for a region with published deaths, else None."""
    from scipy.optimize import brentq

    published = [r for r in read_csv(PUBLISHED_DEATHS) if r["region_zh"] == region_zh]
    if not published:
        return None
    groups = census_groups(census, region_zh)
    years = [int(r["year"]) for r in published]
    target = sum(float(r["deaths"]) for r in published)
    k = brentq(lambda k: calendar_deaths(groups, mortality, k, years) - target, 0.2, 3.0)
    return k, published


def e0_gap_multiplier(mortality, gap: float) -> float:
    """k on the national death rates at 45+ that adds ``gap`` years to life expectancy at birth, when the
    whole gap is at 45+ and SURVIVAL_TO_45 of births reach 45 (a rough check of the census estimate)."""
    from scipy.optimize import brentq

    ages = np.arange(45, AGE_MAX + 1)

    def e45(k: float) -> float:
        q = 1 - np.exp(-k * mortality.rates(2010.5, ages))
        return float(life_expectancy(q).mean())

    base = e45(1.0)
    return brentq(lambda k: SURVIVAL_TO_45 * (e45(k) - base) - gap, 0.2, 3.0)


def working_age(groups: dict) -> float:
    return sum(group_sum(groups, sex, 15, 60) for sex in ("male", "female"))


def build_region_demography(shared: Path, regions: dict, mortality) -> tuple[list[dict], dict]:
    census = read_csv(shared / "census_age_sex_all_ages_2010_2020.csv")
    rows, report = [], {}
    rural_change = (RURAL_SHARE_2025 / RURAL_SHARE_2020) ** (1 / 5) - 1
    every_age = all_ages_mortality(mortality)
    china_level, china_deaths = deaths_level(census, every_age, "全国")
    report["china"] = {"mortality_multiplier": round(china_level, 4), "from_deaths": china_deaths}
    for key, meta in regions.items():
        province = census_rows_of(meta)
        relative, migration, diagnostics = mortality_level(census, mortality, province)
        own = deaths_level(census, every_age, province)
        k = own[0] if own else relative * china_level
        if own:
            years = ", ".join(r["year"] for r in own[1])
            how = f"the deaths {province} published for {years} with its census 2020 population aged forward"
            source_level = "; ".join(r["source"] for r in own[1]) + f"; {CENSUS_SOURCE}; WPP2024 rates at every age"
        else:
            how = (
                "China's deaths (NBS, 2021-2022) with its census 2020 population aged forward"
                if province == "全国"
                else f"intercensal cohort survival of {province} relative to China (cohorts aged 60-79 in 2010, "
                f"net migration at those ages assumed nil: {relative:.4g}), times China's level from its "
                f"deaths ({china_level:.4g})"
            )
            source_level = "; ".join(r["source"] for r in china_deaths) + f"; {CENSUS_SOURCE}; WPP2024 rates"
        urban = meta["urban_share_2020"]["value"]
        urban_old = urban_share_of_60plus(urban)
        report.setdefault("deaths_under_60", {})[key] = under_60_deaths(census, every_age, province, k, meta)
        if province != "全国":
            report[key] = diagnostics | {
                "mortality_multiplier": round(k, 4),
                "decided_by": "published deaths" if own else "intercensal survival x China's level",
                "intercensal_survival_relative_to_china": round(relative, 4),
                "intercensal_survival_x_china_level": round(relative * china_level, 4),
                "net_migration_per_year_40_64": round(migration, 5),
                "check_multiplier_from_2010_census_e0_gap": (
                    round(e0_gap_multiplier(mortality, E0_2010_CENSUS[province] - E0_2010_CENSUS["全国"]), 4)
                    if province in E0_2010_CENSUS
                    else None  # no published 2010 e0 found for the province: no check
                ),
            }
        source_census = (
            f"{CENSUS_SOURCE}; 2010 and 2020 rows of {province} and 全国; WPP2024 rates for the national survival"
        )
        rows += [
            dict(
                region=key,
                quantity="mortality_multiplier",
                value=f"{k:.6g}",
                method=f"multiplier on WPP2024's death rates: {how}",
                source=source_level,
            ),
            dict(
                region=key,
                quantity="net_migration_per_year",
                value=f"{migration:.6g}",
                method=(
                    "none: China's own rates"
                    if province == "全国"
                    else f"intercensal cohort survival of {province} relative to China: cohorts aged 40-54 in "
                    "2010, net of the relative mortality; applied to each cohort from the base year until it "
                    "turns 60"
                ),
                source=source_census,
            ),
            dict(
                region=key,
                quantity="urban_share_60plus",
                value=f"{urban_old:.6g}",
                method=f"derived from the all-ages urban share {urban} (regions.yaml)",
                source=URBAN_SHARE_SOURCE,
            ),
            *(
                [
                    dict(
                        region=key,
                        quantity="population_15_59",
                        value=f"{working_age(census_groups(census, province)):.0f}",
                        method="census count aged 15-59, both sexes: a user's city in this province scales its "
                        "40-59 year-olds by its own 15-59 over this (sim/data/user_region.py)",
                        source=f"{CENSUS_SOURCE}; 2020 rows of {province}",
                    )
                ]
                if "census_region" in meta
                else []
            ),
            dict(
                region=key,
                quantity="rural_share_change_per_year",
                value=f"{rural_change:.6g}",
                method="national rural share of all ages, 2020-2025, constant yearly change; the urban share of "
                "new 60-year-olds starts at the 60+ share and its rural part shrinks at this rate (assumption)",
                source=URBANISATION_SOURCE,
            ),
        ]
    report["e0_2010_census"] = {"values": E0_2010_CENSUS, "source": E0_2010_SOURCE, "survival_to_45": SURVIVAL_TO_45}
    return rows, report


# --- The census pace of decline of 'unable to care for oneself' (2010 -> 2020) -------------------------
# The 2010 and 2020 censuses' long forms give 2.95% and 2.34% of the 60+ 'unable to care for oneself'
# (crude). The 2020 age pattern (our severe-or-total shares by sex and age) applied to the 2010 census's
# single-year ages gives what 2010 would have shown with 2020's age-specific rates; the rest of the gap
# is the age-specific decline, here as a constant yearly rate (disability_trends.json uses it).
CENSUS_UNABLE = {
    2010: (0.0295, "2010 census long form, 生活不能自理 2.95% of 60+ (disability_trends_china.csv)"),
    2020: (0.0234, "2020 census long form, 2.34% of 60+ (Guo et al., BMC Geriatrics 2022)"),
}


def census_age_specific_change(shared: Path, severe_2020: np.ndarray) -> dict:
    """Yearly age-specific change of severe-or-total 2010-2020 implied by the censuses' crude shares."""
    persons = np.zeros((2, AGE_MAX - 60 + 1))
    for r in read_csv(shared / "census2010_single_year_age_sex_china.csv"):
        age = int(r["age"].rstrip("+"))
        if r["sex"] in ("male", "female") and age >= 60:
            persons[0 if r["sex"] == "male" else 1, min(age, AGE_MAX) - 60] += float(r["persons"])
    at_2020_rates = float((severe_2020 * persons).sum() / persons.sum())
    ratio = CENSUS_UNABLE[2010][0] / at_2020_rates
    return {
        "crude_2010": CENSUS_UNABLE[2010][0],
        "crude_2020": CENSUS_UNABLE[2020][0],
        "2010_ages_at_2020_rates": round(at_2020_rates, 6),
        "age_specific_change_per_year": round(ratio ** (-1 / 10) - 1, 6),
        "sources": [
            CENSUS_UNABLE[2010][1],
            CENSUS_UNABLE[2020][1],
            "NBS 2010 census Table 3-1, single ages (census2010_single_year_age_sex_china.csv)",
        ],
        "note": "2010 ages 100+ counted at 100+ as one age; our 2020 severe-or-total shares by sex and age",
    }


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write (default: the package's data folder)")
    args = ap.parse_args()
    build(args.shared, args.out)


def build(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    regions = yaml.safe_load((OUT / "regions.yaml").read_text(encoding="utf-8"))

    population = build_population(shared, regions)
    write_csv(out / "population_2020.csv", population)
    write_csv(out / "mortality_wpp2024.csv", build_mortality(shared))
    mortality = mortality_from_csv(out / "mortality_wpp2024.csv")

    fu = fu_rates(shared)
    national = {
        s: split_age_groups(
            [
                (*parse_age_group(r["age_group"]), r["persons"])
                for r in population
                if r["region"] == "china" and r["sex"] == s
            ]
        )
        for s in ("male", "female")
    }
    weights = np.array([national[s][60 - 40 :] for s in ("male", "female")])
    ages60 = np.arange(60, AGE_MAX + 1)
    q60 = mortality.death_probability(2020.5, ages60)
    params, report = fit_capacity(fu, weights, q60)
    severe_2020 = cohort_prevalence(fu, params)[:, 60 - COHORT_START_AGE :, 3:].sum(-1)
    report["census_unable_to_self_care_2010_2020"] = census_age_specific_change(shared, severe_2020)
    report["life_expectancy_60_table_2020_5"] = dict(
        zip(("male", "female"), life_expectancy(q60).round(3).tolist(), strict=True)
    )
    (out / "capacity_fit.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    i60 = 60 - COHORT_START_AGE
    rates = living_rates(fu, *params)[:, i60:]
    hr = hazard_ratios(fu)[:, i60:]
    prev = cohort_prevalence(fu, params)[:, i60:]
    fu_note = "Fu, Sherris & Xu 2021 (Annals of Actuarial Science, doi:10.1017/S1748499521000233), CLHLS static model"
    fu_note += "; ages 60-64 extrapolated log-linearly from 65-70"
    k_mild, k_worse_m, k_worse_f = params
    r_severe = R_SEVERE
    worse = f"k_worse (male {k_worse_m:.4f}, female {k_worse_f:.4f}) x onset"
    structure = {
        (0, 1): f"k_mild={k_mild:.4f} x onset",
        (0, 2): "onset",
        (1, 0): "recovery",
        (1, 2): worse,
        (2, 1): "recovery",
        (2, 3): worse,
        (3, 2): f"r_severe={r_severe:.4f} x recovery",
        (3, 4): worse,
        (4, 3): f"r_severe={r_severe:.4f} x recovery",
    }
    trans_rows, hr_rows, prev_rows = [], [], []
    for s, sex in enumerate(("male", "female")):
        for i, age in enumerate(ages60):
            for (a, b), how in structure.items():
                trans_rows.append(
                    dict(
                        sex=sex,
                        age=age,
                        from_level=LEVELS[a],
                        to_level=LEVELS[b],
                        rate_per_year=f"{rates[s, i, a, b]:.8g}",
                        basis=f"{how}; {fu_note}; multipliers fitted (capacity_fit.json)",
                    )
                )
            for lvl in range(N_LEVELS):
                hr_rows.append(
                    dict(
                        sex=sex,
                        age=age,
                        level=LEVELS[lvl],
                        hazard_ratio=f"{hr[s, i, lvl]:.6g}",
                        basis=f"(Fu et al. disabled/healthy death-rate ratio) ** {LOG_HR_WEIGHT[lvl]}"
                        " (weight is an assumption)",
                    )
                )
                prev_rows.append(
                    dict(
                        sex=sex,
                        age=age,
                        level=LEVELS[lvl],
                        share=f"{prev[s, i, lvl]:.6g}",
                        basis="survivors' level shares at exact age of a cohort intact at 45 run "
                        "through these intensities and hazard ratios (capacity_fit.json)",
                    )
                )
    write_csv(out / "capacity_transitions.csv", trans_rows)
    write_csv(out / "capacity_mortality.csv", hr_rows)

    china_urban = regions["china"]["urban_share_2020"]["value"]
    urban_old = urban_share_of_60plus(china_urban)
    effects = residence_effects(hanewald_coefficients(shared), np.arange(COHORT_START_AGE, AGE_MAX + 1), urban_old)
    death_by_level = level_death_multipliers(effects)
    # the trend of the death hazard with a loss of capacity, relative to intact, on the hazards' log weights
    death_trends = effects["death_disabled_trend"][..., None] * np.clip(LOG_HR_WEIGHT, 0.0, 1.0) + 0.0  # no "-0"
    by_residence = [cohort_prevalence(fu, params, effects["onset"][r], death_by_level[r])[:, i60:] for r in range(2)]
    for row in prev_rows:
        row["residence"] = "all"
    for r, res in enumerate(RESIDENCE_NAMES):
        for s, sex in enumerate(("male", "female")):
            for i, age in enumerate(ages60):
                for lvl in range(N_LEVELS):
                    prev_rows.append(
                        dict(
                            sex=sex,
                            age=age,
                            level=LEVELS[lvl],
                            share=f"{by_residence[r][s, i, lvl]:.6g}",
                            basis=f"as 'all', with the {res} multipliers of capacity_residence.csv (the model "
                            "keeps each region's mix of the two at the 'all' shares)",
                            residence=res,
                        )
                    )
    write_csv(out / "capacity_prevalence.csv", [{"residence": r.pop("residence"), **r} for r in prev_rows])
    residence_rows = []
    for r, res in enumerate(RESIDENCE_NAMES):
        for s, sex in enumerate(("male", "female")):
            for i, age in enumerate(ages60):
                j = i + i60
                residence_rows.append(
                    dict(
                        residence=res,
                        sex=sex,
                        age=age,
                        onset_multiplier=f"{effects['onset'][r, s, j]:.6g}",
                        **{
                            f"death_multiplier_{name}": f"{death_by_level[r, s, j, lvl]:.6g}"
                            for lvl, name in enumerate(LEVELS)
                        },
                        onset_trend_per_year=f"{effects['onset_trend'][r, s, j]:.6g}",
                        **{
                            f"death_trend_per_year_{name}": f"{death_trends[r, s, j, lvl]:.6g}"
                            for lvl, name in enumerate(LEVELS)
                        },
                        basis=f"{HANEWALD_SOURCE}: urban/rural ratio at 2020 scaled to keep the national rate "
                        f"at China's urban share of the 60+ ({urban_old:.4f}); trends d log(rate)/dt, age held "
                        "within 65-105; by level on the log weights of the hazard ratios",
                    )
                )
    write_csv(out / "capacity_residence.csv", residence_rows)

    demography_rows, demography_report = build_region_demography(shared, regions, mortality)
    write_csv(out / "region_demography.csv", demography_rows)
    (out / "region_demography.json").write_text(
        json.dumps(demography_report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(json.dumps(report | {"regions": demography_report}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
