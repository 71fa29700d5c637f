"""Running a scenario's replicates and writing the results folder, all or nothing.

A results folder holds ``results.parquet`` and ``results.csv`` (one row per run, replicate, year,
indicator and breakdown), ``summary.csv`` and ``summary.parquet`` (mean, the 5th, 25th, 50th, 75th and 95th
percentiles across replicates, their number and what their spread includes), ``targets.csv`` (each plan
target: met by its year or not, first year met, gap), ``scenario.yaml`` (the scenario as resolved, defaults
filled in), ``manifest.json`` (what made it: seed, replicate streams, code and data versions, timings) and
``charts/en/`` (the default chart set as PNG). The folder is written all at once by ``sim.results.files``.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from sim import __version__
from sim.data.regions import data_file_hashes
from sim.data.vintage import data_vintage
from sim.model.model import AgeingModel
from sim.results.files import MANIFEST, replace_folder
from sim.results.record import PERCENTILES, summarise
from sim.results.record import table as record_table
from sim.results.targets import check_targets
from sim.scenario import Scenario


@dataclass
class RunResult:
    scenario: Scenario
    results: pd.DataFrame
    summary: pd.DataFrame
    targets: pd.DataFrame
    replicate_seconds: list[float]
    wall_seconds: float


def run_replicate(scenario: Scenario, replicate: int, on_year: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One replicate's yearly table; ``on_year(year)`` after each simulated year (the app's progress, and its
    Cancel: an exception raised there stops the run)."""
    model = AgeingModel(scenario, replicate)
    while model.running:
        model.step()
        if on_year:
            on_year(model.year)
    table = record_table(model.record)
    table.insert(0, "replicate", replicate)
    table.insert(0, "run", scenario.name)
    return table


def run_scenario(scenario: Scenario, on_replicate_done: Callable[[int], None] | None = None) -> RunResult:
    start = time.perf_counter()
    tables, seconds = [], []
    for r in range(scenario.replicates):
        t = time.perf_counter()
        tables.append(run_replicate(scenario, r))
        seconds.append(time.perf_counter() - t)
        if on_replicate_done:
            on_replicate_done(r)
    return combine(scenario, tables, seconds, time.perf_counter() - start)


def combine(scenario: Scenario, tables: list[pd.DataFrame], seconds: list[float], wall: float) -> RunResult:
    """The run from its replicates' tables (in replicate order, wherever each ran)."""
    results = pd.concat(tables, ignore_index=True)
    summary = summarise(results)
    summary["spread"] = spread_included(scenario)  # what the percentiles' spread includes, on every row of summary.csv
    targets = check_targets(summary, scenario.targets, scenario, results)
    return RunResult(scenario, results, summary, targets, seconds, wall)


def code_version() -> dict:
    """The package version and, when running from a git checkout, the commit and whether it is dirty."""
    info = {"package": __version__, "git_commit": None, "git_dirty": None}
    root = Path(__file__).resolve().parents[2]  # the checkout: sim/results/runs.py
    if (root / ".git").exists():
        try:
            git = ["git", "-C", str(root)]
            info["git_commit"] = subprocess.run(
                [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
            ).stdout.strip()
            status = subprocess.run(
                [*git, "status", "--porcelain", "--", "sim"], capture_output=True, text=True, check=True
            ).stdout
            info["git_dirty"] = bool(status.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    return info


MODEL_CODE = ("common", "catalogues", "data", "scenario", "model", "results")  # what a run executes and reads


def model_code_sha256() -> str:
    """SHA-256 of the package's code and packaged files that make a run's numbers (the layers up to
    results, and the outcomes read from a run): unchanged by work on the analysis, outputs, app or
    command line, so what was computed from runs (an emulator) stays valid until the model changes."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = [f for layer in MODEL_CODE for f in sorted((package / layer).rglob("*")) if f.is_file()]
    files.append(package / "analysis" / "outcomes.py")
    for f in files:
        if f.suffix in (".pyc",) or "__pycache__" in f.parts:
            continue
        digest.update(str(f.relative_to(package)).encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def calibration_record(scenario: Scenario) -> dict | None:
    """Which fitted parameter sets the run used: name, file, its SHA-256, the point estimate, and the
    ensemble member each replicate drew (none when the scenario asks for the point estimate)."""
    from sim.data.fits import resolve
    from sim.model.streams import ensemble_member

    found = resolve(scenario.calibration, scenario.region, scenario.base_year, scenario.region_file)
    if found is None:
        return None
    size = len(found["ensemble"]) if scenario.parameter_sets == "ensemble" else 0
    members = None
    if size:
        fixed = scenario.parameter_member
        members = [
            fixed if fixed is not None else ensemble_member(scenario.seed, r, size) for r in range(scenario.replicates)
        ]
    return {k: found[k] for k in ("name", "file", "sha256", "fitted")} | {
        "parameter_sets": ("member" if scenario.parameter_member is not None else "ensemble") if size else "point",
        "ensemble_size": len(found["ensemble"]),
        "replicate_members": members,
    }


def interval_meaning(scenario: Scenario) -> str:
    """What the spread across a run's replicates includes: 'random draws', or also 'parameter uncertainty'."""
    calibration = calibration_record(scenario) or {}
    ensemble = calibration.get("parameter_sets") == "ensemble"
    return "random draws and parameter uncertainty" if ensemble else "random draws"


def spread_included(scenario: Scenario) -> str:
    """What the spread of the percentiles across a run's replicates includes, as summary.csv and the manifest say
    it: 'none (one replicate, no interval)', 'random draws', or 'random draws and parameter uncertainty'."""
    return "none (one replicate, no interval)" if scenario.replicates == 1 else interval_meaning(scenario)


def environment() -> dict:
    """The interpreter, platform and the versions of the libraries results depend on."""
    import mesa
    import numpy as np

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "mesa": mesa.__version__,
        "pandas": pd.__version__,
    }


def manifest(result: RunResult, command: list[str] | None = None, changes: list[str] | None = None) -> dict:
    s = result.scenario
    return {
        "scenario": s.model_dump(mode="json"),
        "changes": changes or [],  # key.path=value changes made to the scenario file (--set, --seed)
        "seed": s.seed,
        "replicates": s.replicates,
        "replicate_streams": "numpy SeedSequence(seed, spawn_key=(replicate,)) -> PCG64",
        "code": code_version(),
        "data_files_sha256": data_file_hashes(),
        "data_vintage": data_vintage(s.region, s.base_year, s.calibration, s.region_file),
        "calibration": calibration_record(s),
        "intervals": f"90% interval across replicates: {interval_meaning(s)}",
        "percentiles": {
            "columns": [f"p{q:02d}" for q in PERCENTILES],
            "replicates": s.replicates,
            "spread": spread_included(s),
        },
        "wall_seconds": round(result.wall_seconds, 3),
        "replicate_seconds": [round(t, 3) for t in result.replicate_seconds],
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command or sys.argv,
        "environment": environment(),
    }


SIGNIFICANT = 6  # digits targets.csv keeps: plans state targets to 2-3, and 15-digit floats only hide them


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every float rounded to ``SIGNIFICANT`` significant digits (written as a plain number)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = [float(f"{v:.{SIGNIFICANT}g}") if pd.notna(v) else v for v in out[column]]
    return out


def write_run(
    result: RunResult,
    out: Path,
    command: list[str] | None = None,
    charts: Callable[[Path], object] | None = None,
    changes: list[str] | None = None,
) -> Path:
    """Write every results file, all or nothing (``sim.results.files.replace_folder``: OutputError if
    ``out`` is neither absent, empty, nor an earlier results folder); ``charts(folder)`` draws the charts
    into the folder before it takes the place of the old one (``sim.outputs.charts.draw_default_charts``)."""
    out = Path(out)
    with replace_folder(out) as tmp:
        result.results.to_parquet(tmp / "results.parquet", index=False)
        result.results.to_csv(tmp / "results.csv", index=False)
        result.summary.to_parquet(tmp / "summary.parquet", index=False)
        result.summary.to_csv(tmp / "summary.csv", index=False)
        readable(result.targets).to_csv(tmp / "targets.csv", index=False)
        resolved = result.scenario.model_dump()
        if resolved["observed"] is not None:  # the file it names, from wherever the copy is run
            resolved["observed"] = str(Path(resolved["observed"]).resolve())
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True),  # year keys stay numbers
            encoding="utf-8",
        )
        (tmp / MANIFEST).write_text(
            json.dumps(manifest(result, command, changes), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if charts is not None:
            charts(tmp)
    return out
