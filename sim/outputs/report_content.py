"""What a report says, in any format: the key indicators, the targets, the evaluation's verdicts, titles and
the scenario's summary, in the report's language (``report`` writes HTML and PDF, ``documents`` Word and
Excel, the app shows the same tables)."""

from __future__ import annotations

import json
from datetime import date
from itertools import product
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.catalogues.indicators import BREAKDOWN, catalogue
from sim.data.regions import region_name
from sim.outputs.charts import CHARTS, spread_text
from sim.outputs.formats import number, shown, shown_label
from sim.outputs.labels import key_label, labels, run_description, run_title, run_vintage, vintage_text
from sim.results.folder import Run

# the key indicators of a report (and of comparisons): indicator and breakdown (the total where not given)
KEY_INDICATORS = [
    ("population", {"age_group": "60+"}),
    ("population", {"age_group": "80+"}),
    ("persons_with_need", {}),
    ("persons_with_unmet_need", {}),
    ("elders_by_setting", {"group": "institution"}),
    ("beds", {}),
    ("occupancy", {}),
    ("waiting_list", {}),
    ("workers", {}),
    ("ltci_balance", {}),
]


def report_years(runs: list[Run]) -> list[int]:
    first = runs[0].scenario
    return sorted(
        {first["base_year"], 2025, 2030, first["horizon"]} & set(range(first["base_year"], first["horizon"] + 1))
    )


def key_indicator_table(runs: list[Run], lang: str) -> pd.DataFrame:
    """Rows: key indicators; columns: year (and run, when several)."""
    columns = {}
    units = [catalogue()[ind].unit for ind, _ in KEY_INDICATORS]
    for run in runs:
        means = [run.series(ind, **breakdown)["mean"] for ind, breakdown in KEY_INDICATORS]
        for year in report_years(runs):
            col = str(year) if len(runs) == 1 else f"{run.name} {year}"
            columns[col] = [shown(m.get(year), unit) for m, unit in zip(means, units, strict=True)]
    return pd.DataFrame(columns, index=[shown_label(ind, lang, **breakdown) for ind, breakdown in KEY_INDICATORS])


def targets_table(runs: list[Run], lang: str) -> pd.DataFrame:
    R = labels(lang)["report"]
    rows = []
    # the chance of meeting each target, where a run has several replicates to tell it
    chances = any(r.manifest.get("replicates", 1) > 1 and "share_met" in r.targets for r in runs)
    for run in runs:
        for t in run.targets.itertuples() if not run.targets.empty else []:
            share = getattr(t, "share_met", float("nan")) if run.manifest.get("replicates", 1) > 1 else float("nan")
            unit = catalogue()[catalogue().target(t.target).indicator].unit
            rows.append(
                {
                    **({R["summary"]: run.name} if len(runs) > 1 else {}),
                    R["target"]: catalogue().target(t.target).labels[lang],
                    R["kind"]: R["kinds"][t.kind],
                    R["by"]: t.target_year,
                    R["target_value"]: shown(t.target_value, unit),
                    R["scheduled"]: "-" if pd.isna(t.scheduled) else shown(t.scheduled, unit),
                    R["value_then"]: shown(t.value_at_target_year, unit),
                    R["tolerance"]: catalogue().target(t.target).tolerance_text(lang),
                    R["met"]: (
                        (R["answer_yes"] if t.met_at_target_year else R["answer_no"])
                        if t.kind == "outcome"
                        else R["delivered"]
                        if t.met_at_target_year
                        else R["not_delivered"]
                    ),
                    **({R["share_met"]: "-" if pd.isna(share) else f"{share:.0%}"} if chances else {}),
                    R["first_met"]: "-" if pd.isna(t.first_year_met) else str(int(t.first_year_met)),
                    R["gap"]: shown(t.gap_at_target_year, unit),
                }
            )
    return pd.DataFrame(rows)


def breakdowns(indicator: str) -> list[dict[str, str]]:
    """The indicator's total, or, along each breakdown without a total (e.g. the groups of care hours),
    every value."""
    ind = catalogue()[indicator]
    choices = [[ind.default(b)] if ind.default(b) is not None else list(ind.values[b]) for b in BREAKDOWN]
    return [dict(zip(BREAKDOWN, key, strict=True)) for key in product(*choices)]


def differences(runs: list[Run], indicators: list[str] | None = None) -> pd.DataFrame:
    """Each key indicator (or each named indicator at its total, or at every value of a breakdown that
    has none) at the target years and the horizon: value per run and difference from the first run.
    One row per indicator, breakdown and year."""
    years = sorted(
        {int(y) for r in runs if not r.targets.empty for y in r.targets["target_year"]} | {runs[0].scenario["horizon"]}
    )
    specs = KEY_INDICATORS if not indicators else [(i, b) for i in indicators for b in breakdowns(i)]
    rows = []
    for ind, breakdown in specs:
        key = catalogue()[ind].resolve(**breakdown)
        means = [r.series(ind, key["group"], key["capacity"], key["age_group"])["mean"] for r in runs]
        for year in years:
            row = {"indicator": ind, **key, "year": year}
            values = [m.get(year, float("nan")) for m in means]
            for run, v in zip(runs, values, strict=True):
                row[run.name] = v
            for run, v in zip(runs[1:], values[1:], strict=True):
                row[f"{run.name} - {runs[0].name}"] = v - values[0]
            rows.append(row)
    return pd.DataFrame(rows)


def report_title(runs: list[Run], lang: str) -> str:
    R = labels(lang)["report"]
    if len(runs) == 1:
        return R["title"].format(scenario=run_title(runs[0], lang))
    return R["compare_title"].format(scenarios=" / ".join(run_title(r, lang) for r in runs))


def summary_rows(runs: list[Run], lang: str) -> list[tuple[str, str]]:
    L, R = labels(lang), labels(lang)["report"]
    rows = []
    for run in runs:
        s = run.scenario
        rows += [
            (R["summary"], run.name),
            (R["region"], region_name(s["region"], L["lang"], s.get("region_file"))),
            (R["period"], f"{s['base_year']}-{s['horizon']}"),
            (R["replicates"], str(s["replicates"])),
            (R["intervals"], spread_text(run.manifest, L)),
            (L["vintage"]["heading"], vintage_text(run_vintage(run), lang)),
            (R["seed"], str(s["seed"])),
            (R["description"], run_description(run, lang)),
        ]
    return rows


def generated_line(runs: list[Run], lang: str) -> str:
    R = labels(lang)["report"]
    return R["generated"].format(
        version=__version__, runs=", ".join(str(r.folder.name) for r in runs), date=date.today().isoformat()
    )


EVALUATION_FILES = ("evaluation.csv", "evaluation.json", "fans.csv", "observed.csv")
EVALUATION_COLUMNS = ("target", "kind", "target_year", "target_value", "scheduled", "p_met", "verdict", "expected")


def evaluation_problem(folder: Path, runs: list[Run]) -> str | None:
    """Why an evaluation folder cannot go into a report of ``runs`` (one line), or None: a file missing or
    damaged, a target this version does not know, or an evaluation of another plan than the runs'."""
    folder = Path(folder)
    for name in EVALUATION_FILES:
        if not (folder / name).is_file():
            return f"not a folder of sim evaluate (no {name})"
    try:
        record = json.loads((folder / "evaluation.json").read_text(encoding="utf-8"))
        table = pd.read_csv(folder / "evaluation.csv")
        scenario, as_of = record["scenario"], int(record["as_of"])
        plan, region = scenario["name"], scenario["region"]
    except (OSError, ValueError, KeyError, TypeError) as e:  # pandas' and json's errors are ValueErrors
        return f"its files cannot be read ({type(e).__name__}); evaluate the plan again"
    missing = [c for c in EVALUATION_COLUMNS if c not in table.columns]
    if missing:
        return f"evaluation.csv has no column {missing[0]}; evaluate the plan again"
    unknown = [t for t in table["target"].astype(str) if t not in catalogue().targets]
    if unknown:
        return f"target {unknown[0]!r} is not one this version of sim knows; evaluate the plan again"
    if not any(r.name == plan and r.scenario.get("region") == region for r in runs):
        names = ", ".join(f"{r.name} ({r.scenario.get('region')})" for r in runs)
        return f"an evaluation of {plan} ({region}) as of {as_of}, not of the report's run {names}"
    return None


def evaluation_table(folder: Path, lang: str) -> pd.DataFrame:
    """The verdict table of an evaluation folder (``sim evaluate``), in the report's words."""
    R, V = labels(lang)["report"], labels(lang)["charts"]["evaluation"]["verdicts"]
    table = pd.read_csv(Path(folder) / "evaluation.csv")
    as_of = json.loads((Path(folder) / "evaluation.json").read_text(encoding="utf-8"))["as_of"]
    rows = []
    for t in table.itertuples():
        share = catalogue()[catalogue().target(t.target).indicator].unit == "share"

        def fmt(v: float, share: bool = share) -> str:
            return "-" if pd.isna(v) else (f"{v:.1%}" if share else number(v))

        rows.append(
            {
                R["target"]: catalogue().target(t.target).labels[lang],
                R["kind"]: R["kinds"][t.kind],
                R["by"]: t.target_year,
                R["target_value"]: fmt(t.target_value),
                R["scheduled"]: fmt(t.scheduled),
                R["p_met"]: f"{t.p_met:.2f}",
                R["verdict"]: V[t.verdict],
                R["expected"]: f"{fmt(t.expected)} ({fmt(t.p05)}-{fmt(t.p95)})",
                R["before"]: f"{fmt(t.prior_expected)} ({fmt(t.prior_p05)}-{fmt(t.prior_p95)})",
                R["what_it_takes"]: what_it_takes(t, as_of, lang),
            }
        )
    return pd.DataFrame(rows)


def what_it_takes(t, as_of: int, lang: str) -> str:
    """The lever search's finding for a target (a row of evaluation.csv) in the report's language."""
    T = labels(lang)["report"]["takes"]
    if not isinstance(t.what_it_takes, str) or not t.what_it_takes:
        return ""
    if not hasattr(t, "lever_amount"):  # an evaluation written before the lever's amount was recorded
        return t.what_it_takes
    lever = key_label(t.lever, labels(lang))
    if not pd.isna(t.lever_factor):
        amount = number(t.lever_amount) if abs(t.lever_amount) >= 100 else f"{t.lever_amount:.3g}"
        return T["reached"].format(
            lever=lever, factor=f"{t.lever_factor:.3g}", as_of=as_of, amount=amount, year=t.target_year
        )
    if not pd.isna(t.p_met_with_change):
        return T["not_reached"].format(
            lever=lever, factor=f"{t.lever_factor_tried:.3g}", as_of=as_of, p=f"{t.p_met_with_change:.2f}"
        )
    return T["zero"]


def evaluation_text(folder: Path, lang: str) -> tuple[str, str]:
    R = labels(lang)["report"]
    record = json.loads((Path(folder) / "evaluation.json").read_text(encoding="utf-8"))
    text = R["evaluation_text"].format(
        runs=record["replicates"],
        observations=record["observations_used"],
        as_of=record["as_of"],
        ess=record["effective_size"],
        on_track=record["thresholds"]["on_track"],
        off_track=record["thresholds"]["off_track"],
    )
    return R["evaluation"].format(as_of=record["as_of"]), text


def charts_for(runs: list[Run]) -> list[str]:
    return [c for c in CHARTS if c != "targets" or any(not r.targets.empty for r in runs)]


def why_notes(runs: list[Run], lang: str) -> list[str]:
    """A short "why" beside the results that surprise a planner, from the run's own numbers: trainees are not
    workers in post (most trainees are workers already in post, and workers leave), and many more beds need not
    fill while the public waiting list grows (a bed takes residents only with care workers to staff it: the public
    homes fill their staffed beds and the list waits for them; private beds stand empty at their prices)."""
    W = labels(lang)["why"]
    notes = []
    for run in runs:
        s, first, last = run.scenario, run.scenario["base_year"], run.scenario["horizon"]
        prefix = f"{run.name}: " if len(runs) > 1 else ""
        trained = run.series("workers_trained")["mean"]
        workers = run.series("workers")["mean"]
        total_trained = float(trained.get(last, 0) - trained.get(first, 0))  # the indicator is cumulative
        if total_trained > 0 and workers.get(last, 0) - workers.get(first, 0) < total_trained:
            entry = s["policy"]["workforce"]["entry_share"]
            left = float(run.series("workers_left")["mean"].loc[first + 1 : last].sum())
            notes.append(prefix + W["workers"].format(
                trained=number(total_trained), first=first, last=last, before=number(workers.get(first)),
                after=number(workers.get(last)), entry=f"{entry:.0%}", left=number(left),
            ))  # fmt: skip
        beds = run.series("beds")["mean"]
        occupancy = run.series("occupancy")["mean"].get(last, float("nan"))
        waiting = run.series("waiting_list")["mean"]
        grew = beds.get(last, 0) >= 1.5 * beds.get(first, 1)
        if grew and occupancy < 0.6 and waiting.get(last, 0) > waiting.get(first, 0):
            at = {  # the horizon's beds, staffed and occupied, of all homes and the public ones
                (ind, owner): run.series(ind, group=f"{owner}/all")["mean"].get(last, float("nan"))
                for ind in ("beds", "staffed_beds", "occupied_beds")
                for owner in ("all", "public")
            }
            private = run.series("occupancy", group="private")["mean"].get(last, float("nan"))
            notes.append(prefix + W["beds"].format(
                before=number(beds.get(first)), after=number(beds.get(last)), first=first, last=last,
                occupancy=f"{occupancy:.0%}", waiting_before=number(waiting.get(first)),
                waiting_after=number(waiting.get(last)), staffed=number(at["staffed_beds", "all"]),
                public_beds=number(at["beds", "public"]), public_staffed=number(at["staffed_beds", "public"]),
                public_occupied=number(at["occupied_beds", "public"]), private=f"{private:.0%}",
            ))  # fmt: skip
    return notes
