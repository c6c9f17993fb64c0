"""Does a reward model's confidence mean anything? Bradley-Terry reads a reward difference as a
probability, P(chosen preferred) = sigmoid(r_c - r_r); these functions hold it against outcomes.

Outcomes are 1 (chosen preferred), 0, or a soft label in between (the share of votes). ECE is the
top-label form of Guo et al. 2017 ("On Calibration of Modern Neural Networks"): confidence is the
probability of the side the model picks; temperature scaling is theirs too, fitted by maximum
likelihood (the log loss is convex in 1/T, so bisection on its derivative finds the optimum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rewardkit.evaluation.metrics.arrays import EPS, Floats


def sigmoid(x: npt.ArrayLike) -> Floats:
    """The logistic function without overflow for large |x| (reward gaps can be huge)."""
    return np.asarray(
        0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64))), dtype=np.float64
    )


def preference_probability(
    chosen: npt.ArrayLike, rejected: npt.ArrayLike, temperature: float = 1.0
) -> Floats:
    margin = np.asarray(chosen, dtype=np.float64) - np.asarray(rejected, dtype=np.float64)
    return sigmoid(margin / temperature)


def brier_score(p: Floats, y: Floats) -> float:
    return float(np.mean((p - y) ** 2))


def log_loss(p: Floats, y: Floats) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    confidence: float
    """Mean probability of the side the model picked."""
    accuracy: float
    """Mean outcome for that side."""


def reliability_bins(p: Floats, y: Floats, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width confidence bins over [0.5, 1]; empty bins are left out."""
    confidence = np.maximum(p, 1 - p)
    correct = np.where(p >= 0.5, y, 1 - y)
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                ReliabilityBin(
                    float(edges[b]),
                    float(edges[b + 1]),
                    int(mask.sum()),
                    float(confidence[mask].mean()),
                    float(correct[mask].mean()),
                )
            )
    return out


def expected_calibration_error(p: Floats, y: Floats, bins: int = 10) -> float:
    if p.size == 0:
        return float("nan")
    return float(
        sum(b.count * abs(b.accuracy - b.confidence) for b in reliability_bins(p, y, bins)) / p.size
    )


def fit_temperature(margins: Floats, y: Floats, iterations: int = 100) -> float:
    """The T minimising the log loss of sigmoid(margin / T). Infinite when no positive scale beats
    a coin (the margins are uninformative or inverted)."""

    def slope(beta: float) -> float:
        p = sigmoid(beta * margins)
        return float(np.mean((p - y) * margins))

    if margins.size == 0 or slope(0.0) >= 0:
        return float("inf")
    low, high = 0.0, 1.0
    while slope(high) < 0:
        if high > 1e6:  # separable data: the loss keeps falling as T -> 0
            return 1 / high
        low, high = high, high * 4
    for _ in range(iterations):
        mid = (low + high) / 2
        low, high = (mid, high) if slope(mid) < 0 else (low, mid)
    return 2 / (low + high)
