"""The emulator: a Gaussian process per outcome, fitted to model runs, that predicts an outcome (and how
wrong the prediction may be) for factor values within the ranges it was trained on.

Inputs are the experiment's factors, each mapped to [0, 1]: a range by its position in it, an integer or
level factor by the middle of its value's bin, (k + 0.5) / n, so every run of a value has the same input.
The kernel is an amplitude times an anisotropic Matern 5/2 (one length per factor: a factor that does not
matter gets a long one) plus white noise, which takes up what differs between runs of the same levers
(the population drawn, the year's events, the ensemble member), fitted by maximum marginal likelihood
(scipy's L-BFGS-B with the analytic gradient; tests check the likelihood and the predictions against
scikit-learn's Gaussian process). A stored emulator is arrays, no pickle.

- ``latent`` sd: how uncertain the emulator is about the model's mean outcome at those levers (what the
  Sobol indices' intervals take from it);
- ``predictive`` sd: adds the run-to-run noise: the interval a single model run falls in.

An emulator file (``emulator.npz``) holds, per outcome, the training inputs' Cholesky factor and
weights, the kernel's parameters and the outcome's scaling; ``manifest.json`` beside it says what it was
trained on (experiment, code, data and calibration) and how well it predicts held-out runs.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.linalg import cho_solve, solve_triangular

from sim.analysis.design import value
from sim.analysis.experiment import Factor

FILE = "emulator.npz"
SQRT5 = math.sqrt(5.0)
Z90 = 1.6448536269514722  # the normal's 95th percentile: a central 90% interval is mean +- Z90 sd
LENGTH_BOUNDS = (1e-2, 1e3)  # in units of a factor's range: from a hundredth of it to a factor that does not matter
NOISE_BOUNDS = (1e-8, 1.0)  # of the outcome's variance
AMPLITUDE_BOUNDS = (1e-3, 1e3)  # of the outcome's variance
RESTARTS = 1
CHUNK = 128  # points predicted at once: a cross-kernel of 10,000 points at once was slower than its arithmetic


class EmulatorError(Exception):
    """An emulator that cannot be used as asked; the message is one line for the user."""


# --- inputs ---------------------------------------------------------------------------------------------
def levels_of(f: Factor) -> list | None:
    """The values of an integer or level factor, in order; None for a range."""
    if f.levels is not None:
        return list(f.levels)
    if f.type == "int":
        return list(range(int(f.range[0]), int(f.range[1]) + 1))
    return None


def design_values(factors: list[Factor], u: np.ndarray) -> list[tuple]:
    """The factor values of points ``u`` in [0, 1]^d, uniform over each range whatever the factor's
    distribution (the emulator must cover the range; the distribution is the analysis's business)."""
    rows = []
    for point in u:
        row = []
        for f, x in zip(factors, point, strict=True):
            row.append(value(f, x) if levels_of(f) is not None else float(f.range[0] + x * (f.range[1] - f.range[0])))
        rows.append(tuple(row))
    return rows


def encode(factors: list[Factor], values: list[tuple] | list[list]) -> np.ndarray:
    """Factor values -> inputs in [0, 1]; EmulatorError naming the factor for a value outside what the
    emulator was trained on (never extrapolated) or not a number."""
    x = np.empty((len(values), len(factors)))
    for j, f in enumerate(factors):
        column = [row[j] for row in values]
        levels = levels_of(f)
        if levels is None:
            v = np.asarray(column, dtype=float)
            bad = ~np.isfinite(v) | (v < f.range[0]) | (v > f.range[1])
            if bad.any():
                raise EmulatorError(
                    f"{f.name} = {column[int(np.argmax(bad))]}: outside the emulator's training range "
                    f"[{f.range[0]:g}, {f.range[1]:g}]; it is not extrapolated: run the model"
                )
            x[:, j] = (v - f.range[0]) / (f.range[1] - f.range[0])
        else:
            index = {_key(v): k for k, v in enumerate(levels)}
            for i, v in enumerate(column):
                k = index.get(_key(v))
                if k is None:
                    raise EmulatorError(
                        f"{f.name} = {v!r}: not one of the values the emulator was trained on "
                        f"({', '.join(map(str, levels))}); it is not extrapolated: run the model"
                    )
                x[i, j] = (k + 0.5) / len(levels)
    return x


def _key(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() else f


# --- the Gaussian process --------------------------------------------------------------------------------
def matern52(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(1 + sqrt5 d + 5/3 d^2) exp(-sqrt5 d), computed in place: the draws of an emulated sweep take it on
    millions of pairs, and fewer temporary arrays make it half again as fast (the same numbers)."""
    d = _sqdist(a / lengths, b / lengths)
    np.maximum(d, 0.0, out=d)
    np.sqrt(d, out=d)
    scaled = SQRT5 * d
    decay = np.exp(-scaled)
    out = (5.0 / 3.0) * d
    out *= d
    scaled += 1.0
    out += scaled
    out *= decay
    return out


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T


@dataclass(frozen=True)
class Fit:
    """One outcome's Gaussian process, on the outcome scaled to mean 0 and sd 1."""

    amplitude: float  # variance of the latent function, scaled
    lengths: np.ndarray  # per input
    noise: float  # variance of a run about the latent function, scaled
    chol: np.ndarray  # Cholesky factor (lower) of K(X, X) + noise I
    weights: np.ndarray  # (K + noise I)^-1 y
    shift: float  # the outcome's training mean ...
    scale: float  # ... and sd


def fit_outcome(x: np.ndarray, y: np.ndarray, seed: int) -> Fit:
    """Maximum marginal likelihood (type-II) of the kernel's parameters, by L-BFGS-B on their logarithms with
    the analytic gradient, from a neutral start and ``RESTARTS`` seeded random ones; the best kept. (Our own
    rather than scikit-learn's optimiser: the same likelihood, tested against it, many times faster.)"""
    from scipy.optimize import minimize

    shift = float(np.mean(y))
    scale = float(np.std(y)) or 1.0  # a constant outcome: predicted exactly, nothing to scale
    z = (y - shift) / scale
    d = x.shape[1]
    diff2 = (x[:, None, :] - x[None, :, :]) ** 2  # per input, once: every evaluation reweights it
    bounds = [AMPLITUDE_BOUNDS, *[LENGTH_BOUNDS] * d, NOISE_BOUNDS]
    log_bounds = [(math.log(low), math.log(high)) for low, high in bounds]
    rng = np.random.default_rng(seed)
    starts = [np.log(np.r_[1.0, np.full(d, 0.5), 1e-2])]
    starts += [
        np.r_[rng.uniform(-1, 1), rng.uniform(math.log(0.1), math.log(10.0), d), rng.uniform(-8, -1)]
        for _ in range(RESTARTS)
    ]
    best = None
    for start in starts:
        found = minimize(
            _negative_log_likelihood, start, args=(diff2, z), jac=True, method="L-BFGS-B", bounds=log_bounds
        )
        if best is None or found.fun < best.fun:
            best = found
    theta = np.exp(best.x)
    return with_data(x, z, float(theta[0]), theta[1 : 1 + d].copy(), float(theta[-1]), shift, scale)


def _negative_log_likelihood(log_theta: np.ndarray, diff2: np.ndarray, z: np.ndarray) -> tuple[float, np.ndarray]:
    """-log p(z | parameters) and its gradient in the logarithms of (amplitude, lengths, noise)."""
    n, _, d = diff2.shape
    theta = np.exp(log_theta)
    amplitude, lengths, noise = theta[0], theta[1 : 1 + d], theta[-1]
    scaled = diff2 / (lengths * lengths)  # (x_k - x'_k)^2 / l_k^2
    dist = np.sqrt(scaled.sum(-1))
    decay = np.exp(-SQRT5 * dist)
    matern = (1.0 + SQRT5 * dist + (5.0 / 3.0) * dist * dist) * decay
    k = amplitude * matern
    k[np.diag_indices(n)] += noise
    try:
        chol = np.linalg.cholesky(k)
    except np.linalg.LinAlgError:
        return 1e25, np.zeros_like(log_theta)  # not positive definite at these parameters: steer away
    alpha = cho_solve((chol, True), z)
    log_likelihood = -0.5 * z @ alpha - np.log(np.diag(chol)).sum() - 0.5 * n * math.log(2 * math.pi)
    inner = np.outer(alpha, alpha) - cho_solve((chol, True), np.eye(n))  # d log p / d K
    grad = np.empty_like(log_theta)
    grad[0] = 0.5 * np.sum(inner * (amplitude * matern))
    # d K / d log l_k = amplitude * 5/3 (1 + sqrt5 d) exp(-sqrt5 d) * (x_k - x'_k)^2 / l_k^2
    weight = inner * (amplitude * (5.0 / 3.0) * (1.0 + SQRT5 * dist) * decay)
    grad[1 : 1 + d] = 0.5 * (weight.reshape(-1) @ scaled.reshape(-1, d))
    grad[-1] = 0.5 * noise * np.trace(inner)
    return -float(log_likelihood), -grad


def with_data(x: np.ndarray, z: np.ndarray, amplitude: float, lengths: np.ndarray, noise: float, shift, scale) -> Fit:
    """The Gaussian process with these kernel parameters conditioned on scaled outcomes ``z`` at ``x``."""
    k = amplitude * matern52(x, x, lengths) + noise * np.eye(len(x))
    chol = np.linalg.cholesky(k)
    weights = cho_solve((chol, True), z)
    return Fit(amplitude, lengths, noise, chol, weights, shift, scale)


@dataclass(frozen=True)
class Prediction:
    mean: np.ndarray
    latent_sd: np.ndarray  # uncertainty about the model's mean outcome
    predictive_sd: np.ndarray  # ... and about one run's

    def interval(self, z: float = Z90) -> tuple[np.ndarray, np.ndarray]:
        """The central interval one run falls in (90% by default)."""
        return self.mean - z * self.predictive_sd, self.mean + z * self.predictive_sd


def predict_fit(fit: Fit, train: np.ndarray, x: np.ndarray, sd: bool = True) -> Prediction:
    cross = fit.amplitude * matern52(x, train, fit.lengths)
    mean = fit.shift + fit.scale * (cross @ fit.weights)
    if not sd:
        return Prediction(mean, np.full(len(x), np.nan), np.full(len(x), np.nan))
    v = solve_triangular(fit.chol, cross.T, lower=True, check_finite=False)
    latent = np.maximum(fit.amplitude - np.einsum("ij,ij->j", v, v), 0.0)
    return Prediction(mean, fit.scale * np.sqrt(latent), fit.scale * np.sqrt(latent + fit.noise))


def predict_in_chunks(fit: Fit, train: np.ndarray, x: np.ndarray, sd: bool = True) -> Prediction:
    """``predict_fit`` a chunk of points at a time (the same numbers): its arrays stay in the processor's cache."""
    if len(x) <= CHUNK:
        return predict_fit(fit, train, x, sd)
    parts = [predict_fit(fit, train, x[i : i + CHUNK], sd) for i in range(0, len(x), CHUNK)]
    return Prediction(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("mean", "latent_sd", "predictive_sd")))


def latent_draws(fit: Fit, train: np.ndarray, x: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """``draws`` joint samples of the latent function at points ``x`` (draws x points): what the emulator
    thinks the model's mean outcome may be, everywhere at once."""
    cross = fit.amplitude * matern52(x, train, fit.lengths)
    mean = cross @ fit.weights
    v = solve_triangular(fit.chol, cross.T, lower=True, check_finite=False)
    cov = fit.amplitude * matern52(x, x, fit.lengths) - v.T @ v
    root = _jittered_root(cov, fit.amplitude)
    z = rng.standard_normal((len(x), draws))
    return (fit.shift + fit.scale * (mean[:, None] + root @ z)).T


def _jittered_root(cov: np.ndarray, amplitude: float) -> np.ndarray:
    """A Cholesky factor of the conditioned covariance, which is near singular (points close to each other
    or to training points of a noiseless outcome): the least jitter that makes it one, from a hundred
    millionth of the amplitude to a ten thousandth (an sd of 1% of the amplitude's, white, at most)."""
    diagonal = np.diag_indices_from(cov)
    for jitter in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4):
        cov[diagonal] += jitter * amplitude
        try:
            return np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            cov[diagonal] -= jitter * amplitude
    raise EmulatorError("the emulator's joint draws cannot be computed (its covariance is not positive definite)")


# --- the emulator: every outcome, its inputs and what it was trained on -------------------------------
@dataclass(frozen=True)
class Emulator:
    factors: list[Factor]
    outcomes: list[str]
    train: np.ndarray  # inputs of the training runs, in [0, 1]
    fits: dict[str, Fit]
    validation: dict[str, dict]  # per outcome: held-out r2, rmse, coverage, usable
    trained_on: dict  # experiment, code, data and calibration hashes

    def usable(self) -> list[str]:
        """The outcomes the emulator predicts to the standard (the others are not predicted)."""
        return [o for o in self.outcomes if self.validation.get(o, {}).get("usable")]

    def predict(self, values: list[tuple], outcomes: list[str] | None = None, sd: bool = True) -> dict[str, Prediction]:
        """Predictions at factor values (one tuple per point, in factor order); refused outside the
        training ranges."""
        x = encode(self.factors, values)
        return {o: predict_in_chunks(self.fits[o], self.train, x, sd) for o in outcomes or self.outcomes}

    def save(self, folder: Path) -> Path:
        from sim.results.files import write_atomic

        arrays = {"train": self.train}
        for i, o in enumerate(self.outcomes):
            f = self.fits[o]
            arrays[f"{i}.kernel"] = np.array([f.amplitude, f.noise, f.shift, f.scale])
            arrays[f"{i}.lengths"] = f.lengths
            arrays[f"{i}.chol"] = f.chol
            arrays[f"{i}.weights"] = f.weights
        return write_atomic(Path(folder) / FILE, lambda p: _savez(p, arrays))


def _savez(path: Path, arrays: dict) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_arrays(folder: Path, outcomes: list[str], sha256: str) -> tuple[np.ndarray, dict[str, Fit]]:
    """The training inputs and fits stored in ``folder``; EmulatorError if the file is missing, damaged or
    not the one its manifest names."""
    path = Path(folder) / FILE
    if not path.is_file():
        raise EmulatorError(f"{folder}: no {FILE}; train one with sim emulate")
    if file_sha256(path) != sha256:
        raise EmulatorError(f"{path}: damaged or replaced (its SHA-256 is not the manifest's); train it again")
    try:
        with np.load(path, allow_pickle=False) as stored:
            train = stored["train"]
            fits = {}
            for i, o in enumerate(outcomes):
                amplitude, noise, shift, scale = stored[f"{i}.kernel"]
                fits[o] = Fit(
                    float(amplitude),
                    stored[f"{i}.lengths"],
                    float(noise),
                    stored[f"{i}.chol"],
                    stored[f"{i}.weights"],
                    float(shift),
                    float(scale),
                )
    except (OSError, ValueError, KeyError) as e:
        raise EmulatorError(f"{path}: cannot be read ({type(e).__name__}); train it again") from None
    return train, fits


def manifest_of(folder: Path) -> dict:
    from sim.results.files import MANIFEST

    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EmulatorError(
            f"{folder}: not an emulator folder (no readable {MANIFEST}); train one with sim emulate"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "emulator":
        raise EmulatorError(f"{folder}: not an emulator folder of this tool; train one with sim emulate")
    if manifest.get("status") != "complete":
        raise EmulatorError(
            f"{folder}: its training did not finish ({manifest.get('status')}); continue with sim emulate --resume"
        )
    return manifest
