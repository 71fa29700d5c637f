"""An emulated sweep: the Sobol indices of an experiment from a trained emulator (``sim sweep
EXPERIMENT.yaml --emulator DIR``), written to a folder of its own, no model run.

The folder holds ``indices.csv`` and ``convergence.csv`` (a model sweep's columns;
``sim.analysis.emulated_sensitivity`` says what the values and intervals are), ``uncertainty.csv``
(each interval's parts: bootstrap and emulator), ``charts/`` (a sweep's charts, titled as the
emulator's), and ``manifest.json``: kind ``sweep`` with ``emulated: true``, the emulator's folder, its
SHA-256 and what it was trained on, its held-out validation, the experiment and its fingerprint, the
code. The whole folder is written at once (``replace_folder``): a failure leaves the earlier one. It
replaces only an earlier emulated sweep: a model sweep's folder, or anything not this tool's, is refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sim.analysis.emulated_sensitivity import (
    DRAW_BASE_SAMPLES,
    DRAWS,
    EmulatedIndices,
    check_emulator,
    emulated_indices,
)
from sim.analysis.emulator import manifest_of
from sim.analysis.emulator_training import load_emulator
from sim.analysis.experiment import Experiment
from sim.analysis.sweep import SweepError
from sim.results.files import MANIFEST, OutputError, check_output_dir, replace_folder, write_atomic, write_json

INTERVAL = (
    "conf = sqrt(bootstrap_conf^2 + (z * emulator_sd)^2): bootstrap_conf is SALib's bootstrap half-width on the "
    "emulator's mean at the experiment's design; emulator_sd the sd of the index across {draws} joint draws of the "
    "emulator's latent mean function at the first {blocks} base samples of that design; z the normal quantile of "
    "the confidence level"
)


@dataclass
class EmulatedSweep:
    out: Path
    indices: EmulatedIndices
    notes: list[str]
    analysis_seconds: float
    wall_seconds: float


def check_emulated_folder(out: Path) -> None:
    """SweepError (one line) unless ``out`` is absent, empty, or an earlier emulated sweep's folder."""
    out = Path(out)
    try:
        check_output_dir(out)  # absent, empty or holding a manifest; and writable
    except OutputError as e:
        raise SweepError(str(e)) from None
    if not (out / MANIFEST).is_file():
        return
    try:
        stored = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = None
    if not isinstance(stored, dict) or stored.get("kind") != "sweep":
        raise SweepError(f"{out}: exists and is not an emulated sweep folder of this tool; choose another --out")
    if not stored.get("emulated"):
        raise SweepError(
            f"{out}: holds a sweep of model runs; an emulated sweep never replaces one: choose another --out"
        )


def run_emulated_sweep(
    exp: Experiment,
    emulator_folder: Path,
    out: Path,
    charts: Callable[..., object] | None = None,
    command: list[str] | None = None,
) -> EmulatedSweep:
    """Check the folder and the emulator, compute, write. ``charts(exp, indices, convergence, training_runs,
    folder, emulator, points)`` draws the charts. EmulatorError or SweepError (one line) before anything
    is written."""
    start = time.perf_counter()
    out, emulator_folder = Path(out), Path(emulator_folder)
    check_emulated_folder(out)
    emulator = load_emulator(emulator_folder)
    trained = manifest_of(emulator_folder)
    check_emulator(exp, emulator, trained, emulator_folder)
    result = emulated_indices(exp, emulator)
    analysis_seconds = time.perf_counter() - start
    runs = len(emulator.train)
    with replace_folder(out) as tmp:
        for name, table in (
            ("indices.csv", result.indices),
            ("convergence.csv", result.convergence),
            ("uncertainty.csv", result.uncertainty),
        ):
            write_atomic(tmp / name, lambda p, t=table: t.to_csv(p, index=False))
        if charts is not None:
            charts(
                exp,
                result.indices,
                result.convergence,
                runs,
                tmp / "charts",
                str(emulator_folder),
                result.design.points,
            )
        manifest = new_manifest(exp, emulator_folder, trained, result, command)
        manifest["timings"] = {
            "analysis_seconds": round(analysis_seconds, 2),
            "wall_seconds": round(time.perf_counter() - start, 2),
        }
        write_json(tmp / MANIFEST, manifest)
    return EmulatedSweep(out, result, result.notes, analysis_seconds, time.perf_counter() - start)


def new_manifest(
    exp: Experiment, folder: Path, trained: dict, result: EmulatedIndices, command: list[str] | None
) -> dict:
    """What a reader needs to know that these numbers come from an emulator, and which."""
    from sim.data.regions import data_file_hashes
    from sim.results.runs import code_version, environment

    m, design = exp.spec.method, result.design
    blocks = min(DRAW_BASE_SAMPLES, design.blocks)
    return {
        "kind": "sweep",
        "emulated": True,
        "name": exp.name,
        "status": "complete",
        "experiment_file": str(exp.path),
        "experiment_sha256": exp.fingerprint(),
        "seed": exp.spec.seed,
        "emulator": str(folder.resolve()),
        "emulator_sha256": trained["emulator_sha256"],
        "trained_on": trained["trained_on"],
        "emulator_training": trained.get("training"),
        "emulator_experiment_sha256": trained.get("experiment_sha256"),
        "emulator_validation": trained.get("validation"),
        "design": {
            "method": m.name,
            "settings": m.model_dump(mode="json", exclude_none=True),
            "points": design.points,
            "blocks": design.blocks,
            "points_per_block": design.block,
            "model_runs": 0,
            "predicted_by": "the emulator's mean at every point of the experiment's design",
            "draws": {"draws": DRAWS, "base_samples": blocks, "distinct_points": result.draw_points},
            "streams": "design: SeedSequence(seed, spawn_key=(2**32, 0)); bootstrap: (2**32, 1); the emulator's "
            "draws for the experiment's i-th outcome: (2**32, 6, i)",
        },
        "interval": INTERVAL.format(draws=DRAWS, blocks=blocks),
        "notes": result.notes,
        "experiment": exp.resolved(),
        "data_files_sha256": data_file_hashes(),
        "environment": environment(),
        "code": code_version(),
        "command": command,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
