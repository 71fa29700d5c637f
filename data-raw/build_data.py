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
from sim.data.regions import mortality_from_csv  # noqa: E402

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


def cohort_prevalence(fu: dict, params: tuple[float, ...]) -> np.ndarray:
    """Level shares among survivors at each exact age 45..110 of a cohort intact at 45, [sex, age, level]."""
    rates = living_rates(fu, *params)
    death = fu["death_healthy"][..., None] * hazard_ratios(fu)
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
    write_csv(out / "capacity_prevalence.csv", prev_rows)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
