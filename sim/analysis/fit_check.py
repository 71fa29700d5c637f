"""A fit re-checked on the packaged data as they are now: its fitted targets and hold-outs re-run on the
check seed (`sim validate-fit`), which files changed since the fit in a way that changes the model's
behaviour, and a fit renewed on new data without refitting where every fitted target still holds."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.analysis.executors import make_executor
from sim.analysis.fitting import CalibrationSpec, check
from sim.data.parameters import COST_FILES, behaviour_sha256
from sim.data.regions import data_file_hashes


@dataclass
class Validation:
    region: str
    table: pd.DataFrame
    notes: list[str]


def stale_data(fit: dict) -> list[str]:
    """The packaged data files that changed since a fit (its record's ``fit`` section) in a way that changes
    the model's behaviour: the care parameters by their values (a reworded source or a new bound does not
    make a fit stale), unit costs never (they change no behaviour), every other file by its bytes."""
    recorded = fit["data_files_sha256"]
    changed = []
    for name, sha in data_file_hashes().items():
        if name in COST_FILES:
            continue
        if name == "care_parameters.yaml" and "parameter_values_sha256" in fit:
            if fit["parameter_values_sha256"] != behaviour_sha256():
                changed.append(name)
        elif recorded.get(name) != sha:
            changed.append(name)
    return sorted(changed)


def validate(name: str, replicates: int | None = None, workers: int = 1) -> Validation:
    """Re-check a fit (a shipped name or a fit file) against its targets and hold-outs."""
    from sim.data.fits import read_fit, shipped, shipped_path

    path = shipped_path(name) if name in shipped() else Path(name)
    if not path.is_file():
        raise ValueError(
            "unknown calibration (allowed: a shipped one named <region>-<base year> such as tianjin-2020 "
            "(`sim regions` says which regions have one), or the path of a fit file)"
        )
    record, _ = read_fit(path)
    # the values inherited at fit time, not the inherited calibration as it is now
    spec = CalibrationSpec.model_validate({**record["spec"], "inherit": None})
    values = {**((record.get("inherited") or {}).get("values") or {}), **record["fitted"]}
    from sim.data.fits import ensemble_members

    ensemble = ensemble_members(record)
    if replicates is not None:
        spec = spec.model_copy(update={"check_replicates": replicates})
    notes = []
    changed = stale_data(record["fit"])
    if changed:
        notes.append(f"packaged data changed since the fit: {', '.join(changed)}")
    with make_executor(workers) as executor:
        table = check(spec, values, executor, compare_defaults=False, ensemble=ensemble)
    return Validation(spec.region, table, notes)


def renewed(record: dict, result: Validation, command: list[str]) -> dict:
    """The fit ``record`` renewed on the packaged data as they are now, with its fitted values, ensemble and
    posterior kept: allowed only when ``result`` (its re-check on these data) has every fitted target and
    input check within tolerance. The renewal is recorded (``rechecked``: when, what changed, the re-check),
    so the record says the fit was re-checked, not refitted, on the new data."""
    from sim.results.runs import code_version

    targets = result.table[result.table.kind != "hold-out"]
    if not targets.within.all():
        missed = ", ".join(targets[~targets.within].label)
        raise ValueError(f"not renewed: outside tolerance on the new data ({missed}); refit with `sim calibrate`")
    out = copy.deepcopy(record)
    fit = out["fit"]
    changed = stale_data(fit)
    out.setdefault("rechecked", []).append(
        {
            "utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
            "code": code_version(),
            "changed": changed,
            "previous_sha256": {name: fit["data_files_sha256"].get(name) for name in changed},
            "check": [
                {
                    "label": r.label,
                    "kind": r.kind,
                    "observed": _plain(r.observed),
                    "simulated": _plain(r.simulated),
                    "within": bool(r.within),
                }
                for r in result.table.itertuples()
            ],
        }
    )
    fit["data_files_sha256"] = data_file_hashes()
    fit["parameter_values_sha256"] = behaviour_sha256()
    return out


def _plain(v) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 6)
