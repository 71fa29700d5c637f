"""The emulator: trained on model runs, judged on runs it never saw, refused when what it learnt changes."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from typer.testing import CliRunner

from sim.analysis.emulator import EmulatorError, encode, matern52, predict_fit
from sim.analysis.emulator_training import Plan, load_emulator, train_emulator, training_runs
from sim.analysis.experiment import load_experiment
from sim.cli import app

runner = CliRunner()
PLAN = ROOT / "scenarios" / "shengzhou-2026.yaml"
# Shengzhou's plan to 2026 at 20,000 people aged 60+: a few hundredths of a second a run
TINY = {
    "name": "tiny-emulator",
    "scenario": str(PLAN),
    "set": {"horizon": 2026, "data.population_60plus": 20000},
    "method": {"name": "sobol", "base_samples": 64},
    "factors": [
        {"key": "policy.beds.total.2024", "range": [3000, 6000]},
        {"key": "policy.insurance.eligible_from", "levels": ["moderate", "severe", "total"]},
        {"key": "policy.insurance.start_year", "type": "int", "range": [2021, 2025]},
    ],
    "outcomes": [
        {"name": "occupancy_2026", "indicator": "occupancy", "year": 2026},
        {"name": "waiting_2026", "indicator": "waiting_list", "year": 2026},
        {"name": "pop60_2026", "indicator": "population", "year": 2026},
    ],
}
SMALL = Plan(runs=48, holdout=12, replicates=3)


def write(tmp_path, spec, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("emulator")
    exp = load_experiment(write(folder, TINY))
    return exp, train_emulator(exp, folder / "em", SMALL, workers=1)


def test_ishigami_emulator_predicts_held_out_points_and_says_how_wrong(tmp_path):
    exp = load_experiment(ROOT / "experiments" / "ishigami-sobol.yaml")
    result = train_emulator(exp, tmp_path / "ish", Plan(runs=256, holdout=32, replicates=1), workers=1)
    row = result.validation.iloc[0]
    assert row.r2 > 0.95 and row.usable  # a smooth function of three inputs, 256 points
    held = pd.read_csv(tmp_path / "ish" / "heldout.csv")
    x = [(a, b, c) for a, b, c in zip(*[np.linspace(-3, 3, 5)] * 3, strict=True)]
    truth = [7 * np.sin(b) ** 2 + np.sin(a) * (1 + 0.1 * c**4) for a, b, c in x]
    pred = result.emulator.predict(x)["y"]
    assert np.all(np.abs(pred.mean - truth) < 4 * pred.latent_sd + 0.5)  # the truth within its stated uncertainty
    assert ((held.model >= held.low_90) & (held.model <= held.high_90)).mean() == pytest.approx(row.coverage_90)


def test_training_validates_every_outcome_on_runs_it_never_saw(trained):
    exp, result = trained
    v = result.validation.set_index("outcome")
    assert list(v.index) == [o.name for o in exp.spec.outcomes]
    assert (v.heldout_runs == SMALL.holdout * SMALL.replicates).all()
    training = training_runs(exp, SMALL)
    train = {v for p, _, v in training.runs if p < SMALL.runs}
    held = {v for p, _, v in training.runs if p >= SMALL.runs}
    assert not train & held
    assert v.loc["occupancy_2026", "r2"] > 0.8  # beds decide occupancy
    for name, row in v.iterrows():  # usable exactly when it meets the standard stated in the table
        assert row.usable == (row.r2 >= 0.95 and row.coverage_90 >= 0.85), name
    assert set(result.emulator.usable()) == set(v.index[v.usable])


def test_predictions_agree_with_scikit_learns_own(trained):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    exp, result = trained
    em = result.emulator
    fit = em.fits["occupancy_2026"]
    kernel = ConstantKernel(fit.amplitude, "fixed") * Matern(fit.lengths, "fixed", nu=2.5) + WhiteKernel(
        fit.noise, "fixed"
    )
    z = fit.chol @ (fit.chol.T @ fit.weights)  # the scaled training outcomes, (K + noise I) weights
    gp = GaussianProcessRegressor(kernel, optimizer=None).fit(em.train, z)
    x = np.random.default_rng(1).random((20, em.train.shape[1]))
    mean, sd = gp.predict(x, return_std=True)
    ours = predict_fit(fit, em.train, x)
    assert np.allclose(ours.mean, fit.shift + fit.scale * mean, rtol=1e-6, atol=1e-9 * fit.scale)
    assert np.allclose(ours.predictive_sd, fit.scale * sd, rtol=1e-5)
    assert np.allclose(matern52(x, x, fit.lengths).diagonal(), 1.0)


def test_stored_emulator_reads_back_and_predicts_the_same(trained):
    exp, result = trained
    back = load_emulator(result.out)
    points = [(4000.0, "severe", 2023), (5500.0, "moderate", 2021)]
    a, b = result.emulator.predict(points), back.predict(points)
    for o in back.outcomes:
        assert np.array_equal(a[o].mean, b[o].mean) and np.array_equal(a[o].predictive_sd, b[o].predictive_sd)


@pytest.mark.parametrize(
    "point, message",
    [
        (
            (7000.0, "severe", 2023),
            "policy.beds.total.2024 = 7000.0: outside the emulator's training range [3000, 6000]",
        ),
        ((float("nan"), "severe", 2023), "policy.beds.total.2024 = nan: outside the emulator's training range"),
        ((4000.0, "mild", 2023), "policy.insurance.eligible_from = 'mild': not one of the values"),
        ((4000.0, "severe", 2026), "policy.insurance.start_year = 2026: not one of the values"),
    ],
)
def test_a_prediction_outside_the_training_ranges_is_refused(trained, point, message):
    with pytest.raises(EmulatorError, match="^" + message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        trained[1].emulator.predict([point])


def test_integer_and_level_inputs_sit_in_the_middle_of_their_bins(trained):
    exp = trained[0]
    x = encode(exp.factors, [(3000.0, "moderate", 2021), (6000.0, "total", 2025)])
    assert x.tolist() == [[0.0, 1 / 6, 0.1], [1.0, 5 / 6, 0.9]]


def test_killed_training_resumes_to_the_same_emulator(trained, tmp_path):
    exp, result = trained
    from sim.analysis.sweep import RUNS

    folder = tmp_path / "again"
    train_emulator(exp, folder, SMALL, workers=1)
    parts = sorted((folder / RUNS).glob("part-*.parquet"))
    for part in parts[len(parts) // 2 :]:  # as if killed half-way
        part.unlink()
    (folder / "emulator.npz").unlink()
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["status"] = "running"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    again = train_emulator(exp, folder, SMALL, workers=2, resume=True)
    assert again.runs_now > 0
    assert (folder / "emulator.npz").read_bytes() == (result.out / "emulator.npz").read_bytes()


def test_an_emulator_of_other_code_data_or_a_damaged_file_is_refused(trained, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(trained[1].out, folder)
    monkeypatch.setattr("sim.results.runs.model_code_sha256", lambda: "0" * 64)
    with pytest.raises(EmulatorError, match="trained on other model code"):
        load_emulator(folder)
    monkeypatch.undo()
    data = dict(__import__("sim.data.regions", fromlist=["x"]).data_file_hashes())
    data["regions.yaml"] = "changed"
    monkeypatch.setattr("sim.data.regions.data_file_hashes", lambda: data)
    with pytest.raises(EmulatorError, match="trained on other packaged data"):
        load_emulator(folder)
    monkeypatch.undo()
    raw = bytearray((folder / "emulator.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (folder / "emulator.npz").write_bytes(bytes(raw))
    with pytest.raises(EmulatorError, match="damaged or replaced"):
        load_emulator(folder)
    with pytest.raises(EmulatorError, match="not an emulator folder"):
        load_emulator(tmp_path)


def test_command_trains_and_reports_and_bad_input_gets_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = write(tmp_path, TINY)
    result = runner.invoke(app, ["emulate", str(exp), "--runs", "8", "--out", "x"])
    assert (
        result.exit_code == 2
        and result.output.strip().startswith("error: --runs = 8")
        and not (tmp_path / "x").exists()
    )
    result = runner.invoke(
        app,
        ["emulate", str(exp), "--runs", "32", "--holdout", "8", "--replicates", "2", "--workers", "1", "--out", "em"],
    )
    assert result.exit_code == 0, result.output
    assert "outcomes predicted to the standard" in result.output
    again = runner.invoke(
        app,
        ["emulate", str(exp), "--runs", "32", "--holdout", "8", "--replicates", "2", "--workers", "1", "--out", "em"],
    )
    assert again.exit_code == 2 and "holds an emulator already (complete)" in again.output
    other = runner.invoke(
        app,
        [
            "emulate",
            str(exp),
            "--runs",
            "64",
            "--holdout",
            "8",
            "--replicates",
            "2",
            "--workers",
            "1",
            "--out",
            "em",
            "--resume",
        ],
    )
    assert other.exit_code == 2 and len(other.output.strip().splitlines()) == 1 and "training plan" in other.output
