"""The record of a fit (``sim calibrate``): ``fit.yaml`` (the fitted values, how they were obtained, the
fit table; the file a region ships), ``fit.csv`` (every target and hold-out: observed, simulated,
within or not), ``ensemble.csv`` (the posterior's parameter sets), ``history.csv`` (every parameter set
evaluated) and ``report.md``, written all at once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import yaml

from sim.analysis.fitting import PROFILE_STEPS, Fit
from sim.data.fits import with_values
from sim.data.parameters import behaviour_sha256
from sim.data.parameters import defaults as parameter_defaults
from sim.data.regions import data_file_hashes
from sim.outputs.formats import number
from sim.results.files import replace_folder

FIT_FILE = "fit.yaml"  # the marker of a fit folder: only a folder holding one is replaced


def fit_record(fit: Fit, spec_text: str, command: list[str] | None) -> dict:
    from sim.results.runs import code_version

    spec = fit.spec
    fitted = {k: round(v, 6) for k, v in fit.values.items()}
    inherited = {**spec.inherited(), **fit.member}  # the inherited member the point estimate was found with
    post = fit.posterior
    return {
        "name": spec.name,
        "region": spec.region_key(),
        "base_year": spec.base_year,
        "description": spec.description,
        "fitted": fitted,
        "inherited": {"from": spec.inherit, "values": inherited} if spec.inherit else None,
        "parameters": with_values({**inherited, **fitted}, parameter_defaults()),
        "fit": {
            "objective": round(fit.objective, 6),
            "objective_definition": "mean over fitted targets of ((simulated - observed) / tolerance)^2, simulated"
            " = mean over the fit replicates (of the point estimate: the best set evaluated)",
            "all_targets_within_tolerance": bool(fit.table[fit.table.kind != "hold-out"].within.all()),
            "holdouts_within_bounds": bool(fit.table[fit.table.kind == "hold-out"].within.all()),
            "method": "adaptive tempered sequential Monte Carlo (sim.analysis.posterior): uniform prior on the"
            " ranges, Gaussian error with sd = tolerance / 2",
            "method_settings": spec.method.model_dump(mode="json"),
            "stages": len(post.stages),
            "evaluations": len(fit.history),
            "scale": spec.scale,
            "seed": spec.seed,
            "replicates": spec.replicates,
            "check_seed": spec.check_seed,
            "check_replicates": spec.check_replicates,
            "workers": fit.workers,
            "wall_seconds": round(fit.seconds, 1),
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "code": code_version(),
            "data_files_sha256": data_file_hashes(),
            "parameter_values_sha256": behaviour_sha256(),
            "calibration_file_sha256": hashlib.sha256(spec_text.encode("utf-8")).hexdigest(),
        },
        "posterior": {
            "stages": [
                {"beta": round(st.beta, 6), "ess": round(st.ess, 3), "acceptance": round(st.acceptance, 3)}
                for st in post.stages
            ],
            "summary": {
                name: {
                    "mean": round(float(col.mean()), 6),
                    "sd": round(float(col.std()), 6),
                    "p05": round(float(col.quantile(0.05)), 6),
                    "p50": round(float(col.quantile(0.5)), 6),
                    "p95": round(float(col.quantile(0.95)), 6),
                    "distinct": int(col.nunique()),
                }
                for name, col in fit.ensemble.items()
            },
        },
        "ensemble": {
            "parameters": list(fit.ensemble.columns),
            "members": [[round(float(v), 6) for v in row] for row in fit.ensemble.itertuples(index=False)],
        },
        "profile": [
            {"parameter": r.parameter, "step": r.step, "value": round(r.value, 6), "objective": round(r.objective, 6)}
            for r in fit.profile.itertuples()
        ],
        "table": [
            {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
            for row in fit.table.to_dict(orient="records")
        ],
        "spec": spec.model_dump(mode="json"),
    }


def fit_number(v: float | None) -> str:
    """A number of a fit table: blank if missing, thousands separated from 100 up, else three decimals."""
    return number(v, if_missing="", small=".3f")


def report_markdown(record: dict) -> str:
    f = record["fit"]
    lines = [
        f"# Calibration {record['name']}: {record['region']}, {record['base_year']}",
        "",
        record["description"],
        "",
        f"Fitted by `{' '.join(f['command'] or ['sim', 'calibrate'])}` on {f['created_utc']} "
        f"(code {f['code'].get('git_commit') or f['code']['package']}), {f['wall_seconds']} s on {f['workers']} "
        f"worker(s): {f['method']}; sampler seed {f['method_settings']['seed']}, "
        f"{f['method_settings']['particles']} particles, {f['stages']} tempering stages, {f['evaluations']} "
        f"evaluations of {record['spec']['replicates']} replicate(s) each at "
        f"{f['scale']:g} persons per agent (model seed {f['seed']}). Objective ({f['objective_definition']}): "
        f"**{f['objective']:.4f}**.",
        "",
        "## Parameters",
        "",
        "The ensemble: parameter sets drawn from the posterior (runs draw their parameters from it); the point"
        " estimate: the best-fitting set evaluated (used when a scenario asks for `parameter_sets: point`).",
        "",
        "| Parameter | Range searched | Default | Point estimate | Ensemble mean (90% interval) | Why free |",
        "|---|---|---|---|---|---|",
    ]
    summary = record["posterior"]["summary"]
    defaults = parameter_defaults()
    for p in record["spec"]["parameters"]:
        default = defaults
        for key in p["name"].split("."):
            default = default[int(key)] if isinstance(default, list) else default[key]
        post = summary[p["name"]]
        lines.append(
            f"| `{p['name']}` | {p['low']:g} to {p['high']:g} | {default:g} | {record['fitted'][p['name']]:.3f} "
            f"| {post['mean']:.3f} ({post['p05']:.3f} to {post['p95']:.3f}) | {p['reason']} |"
        )
    stages = record["posterior"]["stages"]
    lines += [
        "",
        "Tempering stages (beta: the likelihood's exponent reached; ESS: effective sample size before resampling;"
        " acceptance: share of Metropolis moves accepted): "
        + "; ".join(f"{st['beta']:.3g} / {st['ess']:.2f} / {st['acceptance']:.2f}" for st in stages)
        + ".",
    ]
    if record["profile"]:
        lines += [
            "",
            f"How sharply the targets fix each parameter: the objective (best {f['objective']:.4f}) with one parameter"
            " moved by a share of its range, the others at their best.",
            "",
            "| Parameter | " + " | ".join(f"{s:+.0%}" for s in PROFILE_STEPS) + " |",
            "|---|" + "---|" * len(PROFILE_STEPS),
        ]
        for name in dict.fromkeys(r["parameter"] for r in record["profile"]):
            at = {r["step"]: r["objective"] for r in record["profile"] if r["parameter"] == name}
            lines.append(
                f"| `{name}` | " + " | ".join(f"{at[s]:.3f}" if s in at else "(outside)" for s in PROFILE_STEPS) + " |"
            )
    if record["inherited"]:
        inherited = ", ".join(f"`{k}` = {v:.3f}" for k, v in record["inherited"]["values"].items())
        lines += ["", f"Kept from calibration {record['inherited']['from']}: {inherited}."]
    lines += [
        "",
        f"## Fit: {f['check_replicates']} check replicates (seed {f['check_seed']}, not the fit's)",
        "",
        "Point estimate: mean (5th-95th percentile) over the check replicates, random draws only; 'within' is"
        " judged on its mean. Ensemble: mean (5th-95th percentile) over check replicates that each draw another"
        " member, random draws and parameter uncertainty. Uncalibrated: mean with the documented defaults.",
        "",
        "| Kind | Observed quantity | Year | Observed | Accepted | Point estimate | Ensemble | Uncalibrated | Within"
        " | Source |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in record["table"]:
        accepted = f"{fit_number(r['lower']) or '...'} to {fit_number(r['upper']) or '...'}"
        n = fit_number
        lines.append(
            f"| {r['kind']} | {r['label']} | {r['year']} | {n(r['observed'])} | {accepted} | "
            f"{n(r['simulated'])} ({n(r['p05'])}-{n(r['p95'])}) | "
            f"{n(r.get('ensemble_mean'))} ({n(r.get('ensemble_p05'))}-{n(r.get('ensemble_p95'))}) | "
            f"{n(r['uncalibrated'])} | "
            f"{'yes' if r['within'] else '**no**'} | {r['source']} |"
        )
    return "\n".join(lines) + "\n"


def write_fit(fit: Fit, out: Path, spec_text: str, command: list[str] | None = None) -> dict:
    """Write fit.yaml, fit.csv, ensemble.csv, history.csv and report.md into ``out``, all or nothing."""
    record = fit_record(fit, spec_text, command)
    with replace_folder(Path(out), marker=FIT_FILE) as tmp:
        (tmp / FIT_FILE).write_text(
            yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None),
            encoding="utf-8",
        )
        fit.table.to_csv(tmp / "fit.csv", index=False)
        fit.history.to_csv(tmp / "history.csv", index=False)
        fit.ensemble.to_csv(tmp / "ensemble.csv", index=False)
        (tmp / "report.md").write_text(report_markdown(record), encoding="utf-8")
    return record
