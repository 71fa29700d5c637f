"""Sobol indices from an emulator (sim sweep --emulator): the Ishigami function's analytic indices within
the emulated intervals, intervals that widen when the emulator knows less, refusals of an emulator that
does not fit the experiment, and the same numbers every time."""

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from test_sweep import ishigami_indices
from typer.testing import CliRunner

from sim.analysis.emulated_sensitivity import indices_with_uncertainty
from sim.analysis.emulator_training import Plan, load_emulator, train_emulator
from sim.analysis.experiment import load_experiment
from sim.analysis.sensitivity import COLUMNS
from sim.cli import app

runner = CliRunner()
PI = math.pi
# Ishigami as in experiments/ishigami-sobol.yaml, N = 1024 (the emulator predicts every point: N only
# sets the Monte Carlo error), and its one output read twice, so that one outcome can be below the standard
ISHIGAMI = {
    "name": "ishigami-emulated",
    "model": "ishigami",
    "seed": 20201101,
    "method": {"name": "sobol", "base_samples": 1024},
    "factors": [{"key": k, "range": [-PI, PI]} for k in ("x1", "x2", "x3")],
    "outcomes": [{"name": "y", "indicator": "y"}, {"name": "y_again", "indicator": "y"}],
}
MANY, FEW = Plan(runs=256, holdout=32, replicates=1), Plan(runs=64, holdout=32, replicates=1)


def write(folder, spec, name="exp.yaml"):
    path = folder / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def changed(**changes):
    return {**ISHIGAMI, **changes}


@pytest.fixture(scope="module")
def emulators(tmp_path_factory):
    """The experiment file, an emulator trained on 256 runs (held-out R² 0.99) and one on 64 (below the
    standard: R² 0.5)."""
    folder = tmp_path_factory.mktemp("emulated")
    path = write(folder, ISHIGAMI)
    exp = load_experiment(path)
    train_emulator(exp, folder / "many", MANY, workers=1)
    train_emulator(exp, folder / "few", FEW, workers=1)
    return path, folder / "many", folder / "few"


def sweep(*args):
    return runner.invoke(app, ["sweep", *map(str, args)])


def test_emulated_indices_hold_the_analytic_ones_within_their_intervals(emulators, tmp_path):
    path, many, _ = emulators
    out = tmp_path / "out"
    result = sweep(path, "--emulator", many, "--out", out)
    assert result.exit_code == 0, result.output
    assert "y: x1 " in result.output and "indices of 2 of 2 outcomes from the emulator" in result.output
    indices = pd.read_csv(out / "indices.csv")
    assert list(indices.columns) == COLUMNS
    assert (indices.sample_size == 1024).all() and (indices.runs == MANY.runs).all()  # the model runs behind them
    s1, st = ishigami_indices()
    got = indices[indices.outcome == "y"].set_index(["index", "factor"])
    for index, analytic in (("S1", s1), ("ST", st)):
        for factor, expected in zip(("x1", "x2", "x3"), analytic, strict=True):
            row = got.loc[(index, factor)]
            assert abs(row.value - expected) <= row.conf, (index, factor, row.value, expected, row.conf)
            assert row.conf < 0.1  # narrow enough for the check to mean something
    parts = pd.read_csv(out / "uncertainty.csv")
    assert np.allclose(parts.conf, np.hypot(parts.bootstrap_conf, parts.emulator_conf))
    assert (parts.emulator_sd > 0).all() and np.allclose(parts.conf, indices.conf)
    assert sorted(pd.read_csv(out / "convergence.csv").sample_size.unique()) == [128, 256, 512, 1024]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["emulated"] is True and manifest["design"]["model_runs"] == 0
    assert manifest["emulator"] == str(many.resolve())
    stored = json.loads((many / "manifest.json").read_text())
    assert manifest["emulator_sha256"] == stored["emulator_sha256"] and manifest["trained_on"] == stored["trained_on"]
    assert manifest["experiment_sha256"] == load_experiment(path).fingerprint() and manifest["code"]["package"]
    for lang in ("en", "zh"):
        assert sorted(p.name for p in (out / "charts" / lang).iterdir()) == [
            "convergence_y.png",
            "convergence_y_again.png",
            "ranking_y.png",
            "ranking_y_again.png",
        ]


def test_the_charts_say_they_are_an_emulators(emulators, tmp_path):
    import matplotlib.pyplot as plt

    from sim.outputs.sweep_charts import Emulated, sweep_figures

    path, many, _ = emulators
    exp = load_experiment(path)
    result = indices_with_uncertainty(exp, load_emulator(many), ["y"])
    for lang, word in (("en", "(emulator)"), ("zh", "代理模型")):
        figures = dict(
            sweep_figures(exp, result.indices, result.convergence, 256, lang, Emulated(str(many), 256, 5120))
        )
        for fig in figures.values():
            texts = [t.get_text() for t in fig.texts] + [fig._suptitle.get_text()]
            assert word in fig._suptitle.get_text()
            assert any(str(many) in t and "256" in t for t in texts)  # the source line names the emulator
        plain = dict(sweep_figures(exp, result.indices, result.convergence, 256, lang))
        assert word not in plain["ranking_y"]._suptitle.get_text()
    plt.close("all")


def test_an_emulator_trained_on_few_runs_widens_the_intervals(emulators):
    path, many, few = emulators
    exp = load_experiment(path)
    well = indices_with_uncertainty(exp, load_emulator(many), ["y"]).uncertainty.set_index(["index", "factor"])
    poorly = indices_with_uncertainty(exp, load_emulator(few), ["y"]).uncertainty.set_index(["index", "factor"])
    assert (poorly.emulator_conf > 1.5 * well.emulator_conf).all()  # on 64 runs the emulator knows less ...
    assert (poorly.emulator_conf > poorly.bootstrap_conf).mean() >= 0.5  # ... and that is most of the interval
    assert (well.emulator_conf < well.bootstrap_conf).all()  # on 256 the Monte Carlo error is most of it


def test_an_outcome_below_the_standard_is_listed_not_computed(emulators, tmp_path):
    path, many, few = emulators
    below = tmp_path / "below"
    shutil.copytree(many, below)
    manifest = json.loads((below / "manifest.json").read_text())
    for row in manifest["validation"]:  # as if y_again were predicted poorly
        if row["outcome"] == "y_again":
            row.update(r2=0.5, usable=False, why_not="held-out R² 0.500 < 0.95")
    (below / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "out"
    result = sweep(path, "--emulator", below, "--out", out)
    assert result.exit_code == 0, result.output
    line = "note: y_again: not predicted to the standard by the emulator (held-out R² 0.500"
    assert line in result.output and "indices of 1 of 2 outcomes" in result.output
    assert set(pd.read_csv(out / "indices.csv").outcome) == {"y"}
    assert any(
        "y_again: not predicted to the standard" in n for n in json.loads((out / "manifest.json").read_text())["notes"]
    )
    # none to the standard: refused, naming each with its R²
    result = sweep(path, "--emulator", few, "--out", tmp_path / "none")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "none of its outcomes is predicted to the standard" in result.output and "y: not predicted" in result.output
    assert not (tmp_path / "none").exists()


def _renamed_factor(folder, tmp_path):
    """A copy of the emulator that says it was trained on x4 where the experiment has x3."""
    other = tmp_path / "other"
    shutil.copytree(folder, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["experiment"]["experiment"]["factors"][2]["key"] = "x4"
    manifest["factors"][2]["key"] = "x4"  # where the emulator reads its factors from
    (other / "manifest.json").write_text(json.dumps(manifest))
    return other


@pytest.mark.parametrize(
    "spec, options, message",
    [
        (
            changed(factors=[{"key": "x1", "range": [-4, 4]}] + ISHIGAMI["factors"][1:]),
            [],
            "factor x1: range [-4, 4] goes beyond the emulator's training range [-3.14159, 3.14159]",
        ),
        (
            changed(factors=[{"key": "x1", "type": "int", "range": [-3, 3]}] + ISHIGAMI["factors"][1:]),
            [],
            "factor x1: whole numbers here, a range in the emulator",
        ),
        (
            changed(outcomes=[{"name": "z", "indicator": "y"}]),
            [],
            "outcome z: the emulator in {em} does not predict it",
        ),
        (
            changed(method={"name": "morris", "trajectories": 10}),
            [],
            "method.name = 'morris': an emulated sweep gives Sobol indices (allowed: sobol)",
        ),
        (None, ["--renamed"], "factor x3: the emulator in {em} was not trained on it (its factors: x1, x2, x4)"),
        (None, ["--workers", "2"], "--workers = 2 with --emulator: an emulated sweep runs no model"),
        (None, ["--resume"], "--resume with --emulator: an emulated sweep runs no model; leave --resume out"),
        (None, ["--scheduler", "tcp://127.0.0.1:9"], "--scheduler = 'tcp://127.0.0.1:9' with --emulator"),
    ],
)
def test_refusals_are_one_line_exit_2_and_write_nothing(emulators, tmp_path, spec, options, message):
    path, many, _ = emulators
    if spec is not None:
        path = write(tmp_path, spec)
    emulator = many
    if "--renamed" in options:
        emulator, options = _renamed_factor(many, tmp_path), []
    out = tmp_path / "out"
    result = sweep(path, "--emulator", emulator, "--out", out, *options)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert message.replace("{em}", str(emulator)) in result.output
    assert not out.exists()


def test_the_same_command_gives_the_same_indices_and_never_replaces_a_model_sweep(emulators, tmp_path):
    path, many, _ = emulators
    first, second = tmp_path / "a", tmp_path / "b"
    assert sweep(path, "--emulator", many, "--out", first, "--no-charts").exit_code == 0
    assert sweep(path, "--emulator", many, "--out", second, "--no-charts").exit_code == 0
    assert (first / "indices.csv").read_bytes() == (second / "indices.csv").read_bytes()
    assert (first / "uncertainty.csv").read_bytes() == (second / "uncertainty.csv").read_bytes()
    again = sweep(path, "--emulator", many, "--out", first, "--no-charts")  # an emulated sweep is replaced
    assert again.exit_code == 0 and (first / "indices.csv").read_bytes() == (second / "indices.csv").read_bytes()
    model = tmp_path / "model"  # a model sweep's folder: never replaced, nor resumed as one
    model.mkdir()
    (model / "manifest.json").write_text(json.dumps({"kind": "sweep", "status": "complete"}))
    result = sweep(path, "--emulator", many, "--out", model)
    assert result.exit_code == 2 and "holds a sweep of model runs" in result.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    result = sweep(path, "--emulator", many, "--out", other)
    assert result.exit_code == 2 and sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    result = sweep(path, "--out", first, "--resume", "--workers", "1")
    assert result.exit_code == 2 and "holds an emulated sweep (no model runs)" in result.output
