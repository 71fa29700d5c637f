"""Benchmark: a mid-term evaluation (`sim evaluate`) of the Tianjin plan at its coarsest faithful scale.

    python benchmarks/bench_evaluate.py [--workers 2] [--replicates 100]

Runs `sim evaluate scenarios/tianjin-14th-fyp.yaml --as-of 2023 --set scale=16` as a user does (a fresh
process: start-up, the ensemble, the search for what each off-track outcome would take, the files and two
charts) and prints the wall seconds with the split the evaluation records: the ensemble's runs, and the
lever search (each trial of a lever factor re-runs the whole ensemble on the same seeds).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--replicates", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ev"
        command = [
            str(ROOT / ".venv" / "bin" / "sim"),
            "evaluate",
            str(ROOT / "scenarios" / "tianjin-14th-fyp.yaml"),
            "--as-of",
            "2023",
            "--set",
            "scale=16",
            "--replicates",
            str(args.replicates),
            "--workers",
            str(args.workers),
            "--out",
            str(out),
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        wall = time.perf_counter() - start
        record = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    seconds = record["seconds"]
    print(f"Tianjin plan evaluated as of 2023, scale 16, {args.replicates} runs, {args.workers} workers")
    print(f"  whole command      {wall:7.1f} s")
    print(f"  ensemble           {seconds['ensemble']:7.1f} s  ({seconds['ensemble'] / args.replicates:.3f} s a run)")
    print(f"  what it would take {seconds['what_it_takes']:7.1f} s")
    print(f"  rest (start-up, files, charts) {wall - sum(seconds.values()):.1f} s")


if __name__ == "__main__":
    main()
