"""A results folder of ``sim run``, read back: its summary (replicate mean and 90% interval), targets and the
manifest that says what made it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.results.files import recover
from sim.results.query import value


@dataclass
class Run:
    """A results folder: its summary (replicate mean and 90% interval), targets and what made it."""

    folder: Path
    scenario: dict
    manifest: dict
    summary: pd.DataFrame
    targets: pd.DataFrame

    @classmethod
    def load(cls, folder: Path) -> Run:
        """The results folder's contents; a write of it killed between its two renames is undone first (the
        previous results put back)."""
        folder = Path(folder)
        recover(folder)
        summary = pd.read_parquet(folder / "summary.parquet")
        summary = summary[(summary.sex == "all")]
        targets_file = folder / "targets.csv"
        targets = (
            pd.read_csv(targets_file) if targets_file.exists() and targets_file.stat().st_size > 1 else pd.DataFrame()
        )
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return cls(folder, manifest["scenario"], manifest, summary, targets)

    @property
    def name(self) -> str:
        return self.scenario["name"]

    def series(
        self,
        indicator: str,
        group: str | None = None,
        capacity: str | None = None,
        age_group: str | None = None,
        residence: str | None = None,
    ) -> pd.DataFrame:
        """mean, p05, p95 by year of the indicator at a breakdown (sex all; the indicator's total where a
        breakdown is not given)."""
        return value(
            self.summary,
            indicator,
            age_group=age_group,
            capacity=capacity,
            residence=residence,
            group=group,
            column=["mean", "p05", "p95"],
        )
