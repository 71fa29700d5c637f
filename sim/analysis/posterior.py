"""Parameter uncertainty: the ensemble of parameter sets consistent with what was observed.

The observation model: each observed value is the model's mean plus an independent Normal error whose
standard deviation is half the target's tolerance (a tolerance is read as two standard deviations: a
parameter set that reproduces the truth misses a target by more than its tolerance one time in twenty).
The prior is uniform over each free parameter's range and, for a calibration that inherits another, uniform
over the inherited ensemble's members. The posterior under that model is sampled by adaptive tempered
sequential Monte Carlo (Del Moral, Doucet & Jasra 2006; Jasra et al. 2011): particles drawn from the prior
pass through the targets prior x likelihood^beta, beta rising from 0 to 1 in steps chosen so that the
effective sample size falls to a set share of the particles; after each step they are resampled
(systematic) and moved by Metropolis random-walk steps scaled to their own spread (2.38/sqrt(d), Roberts &
Rosenthal 2001). With a Gaussian error this is ABC with a Gaussian kernel, exact for a model with that
error (Wilkinson 2013), and each step's acceptance is a diagnostic of how well the particles mix.

Every random draw is made here, in one process, from one generator; the likelihoods are computed in
batches by the caller (on any executor), so the ensemble does not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

ERROR_SD_PER_TOLERANCE = 0.5  # a target's tolerance is two standard deviations of its error
MEMBER_SWITCH = 0.3  # share of moves that also propose another member of an inherited ensemble

# loglik(theta (k, d), members (k,)) -> (k,) log-likelihoods
LogLik = Callable[[np.ndarray, np.ndarray], np.ndarray]


def log_likelihood(simulated: np.ndarray, observed: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """Gaussian log-likelihood (up to a constant) of the observations; ``simulated`` (..., targets)."""
    z = (simulated - observed) / (ERROR_SD_PER_TOLERANCE * tolerance)
    return -0.5 * np.sum(z**2, axis=-1)


@dataclass
class Stage:
    beta: float  # the tempering exponent reached
    ess: float  # effective sample size before resampling, as a share of the particles
    acceptance: float  # share of Metropolis proposals accepted in this stage's moves


@dataclass
class Posterior:
    theta: np.ndarray  # (n, d): the equally weighted particles at beta = 1
    members: np.ndarray  # (n,): each particle's member of the inherited ensemble (0 if none)
    loglik: np.ndarray  # (n,)
    stages: list[Stage]
    evaluated: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    # every batch evaluated: (stage, theta, members, loglik)

    def best(self) -> tuple[np.ndarray, int, float]:
        """The parameter set with the highest likelihood among all evaluated (the point estimate)."""
        stage_best = [(ll.max(), t[ll.argmax()], m[ll.argmax()]) for _, t, m, ll in self.evaluated if len(ll)]
        ll, theta, member = max(stage_best, key=lambda x: x[0])
        return theta.copy(), int(member), float(ll)

    @property
    def evaluations(self) -> int:
        return sum(len(ll) for *_, ll in self.evaluated)


def _systematic(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(weights)
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions)


def _ess(log_increment: np.ndarray) -> float:
    w = np.exp(log_increment - log_increment.max())
    return float(w.sum() ** 2 / (w**2).sum())


def _next_beta(beta: float, loglik: np.ndarray, target_ess: float) -> float:
    if _ess((1.0 - beta) * loglik) >= target_ess:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _ess((mid - beta) * loglik) >= target_ess:
            lo = mid
        else:
            hi = mid
    return max(lo, beta + 1e-12)


def sample(
    loglik: LogLik,
    low: np.ndarray,
    high: np.ndarray,
    particles: int,
    rng: np.random.Generator,
    moves: int = 3,
    ess: float = 0.5,
    members: int = 0,
    max_stages: int = 40,
    progress: Callable[[int], None] | None = None,
) -> Posterior:
    """Draw ``particles`` equally weighted parameter sets from the posterior."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    d = len(low)
    evaluated: list = []

    def evaluate(stage: int, theta: np.ndarray, member: np.ndarray) -> np.ndarray:
        out = np.full(len(theta), -np.inf)
        inside = np.all((theta >= low) & (theta <= high), axis=1)
        if inside.any():
            out[inside] = loglik(theta[inside], member[inside])
            evaluated.append((stage, theta[inside].copy(), member[inside].copy(), out[inside].copy()))
            if progress:
                progress(int(inside.sum()))
        return out

    theta = low + (high - low) * rng.random((particles, d))
    member = rng.integers(members, size=particles) if members else np.zeros(particles, dtype=np.int64)
    ll = evaluate(0, theta, member)
    beta, stages, scale = 0.0, [], 2.38 / np.sqrt(d)
    while beta < 1.0:
        if len(stages) >= max_stages:
            raise RuntimeError(f"the posterior was not reached in {max_stages} tempering stages")
        new = _next_beta(beta, ll, ess * particles)
        increment = (new - beta) * ll
        weights = np.exp(increment - increment.max())
        weights /= weights.sum()
        stage_ess = _ess(increment) / particles
        keep = _systematic(weights, rng)
        theta, member, ll, beta = theta[keep], member[keep], ll[keep], new
        spread = np.atleast_2d(np.cov(theta, rowvar=False)) + np.diag((1e-6 * (high - low)) ** 2)
        chol = np.linalg.cholesky(spread)
        accepted = 0
        for _ in range(moves):
            proposal = theta + scale * rng.standard_normal((particles, d)) @ chol.T
            other = member
            if members:
                switch = rng.random(particles) < MEMBER_SWITCH
                other = np.where(switch, rng.integers(members, size=particles), member)
            proposed = evaluate(len(stages) + 1, proposal, other)
            take = np.log(rng.random(particles)) < beta * (proposed - ll)
            theta[take], member[take], ll[take] = proposal[take], other[take], proposed[take]
            accepted += int(take.sum())
        acceptance = accepted / (moves * particles) if moves else float("nan")
        stages.append(Stage(beta, stage_ess, acceptance))
        # a step that accepts little is too long for the particles' shape; one that accepts much, too short
        scale *= 0.7 if acceptance < 0.15 else (1.2 if acceptance > 0.5 else 1.0)
    return Posterior(theta, member, ll, stages, evaluated)
