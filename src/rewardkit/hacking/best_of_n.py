"""Best-of-n as an optimiser: its KL from the sampler and Gao et al.'s scaling form of
over-optimisation.

- ``best_of_n_kl(n) = log n - (n - 1) / n``: the KL divergence of best-of-n from the base
  sampler as it is usually reported (Stiennon et al. 2020); an upper bound on the true KL
  (Beirami et al. 2024), so curves against it are drawn slightly to the right.
- what best-of-n selects is ``evaluation.metrics.selection.expected_best_of_n``, shared with
  best-of-n reranking.
- ``fit_gao``: least squares of the gain over n = 1 on R(d) = d (alpha - beta d), d = sqrt(KL)
  (Gao et al. 2022, "Scaling Laws for Reward Model Overoptimization", best-of-n form), with R^2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rewardkit.evaluation.metrics.arrays import Floats


def best_of_n_kl(n: int | npt.ArrayLike) -> Floats:
    values = np.asarray(n, dtype=np.float64)
    if np.any(values < 1):
        raise ValueError("n must be at least 1")
    return np.log(values) - (values - 1) / values


@dataclass(frozen=True)
class GaoFit:
    alpha: float
    beta: float
    r2: float
    """Of the gain over n = 1 (what the form models)."""

    def predict(self, kl: npt.ArrayLike) -> Floats:
        d = np.sqrt(np.asarray(kl, dtype=np.float64))
        return d * (self.alpha - self.beta * d)

    @property
    def peak_kl(self) -> float:
        """Where the fitted gold gain peaks (d = alpha / 2 beta); inf when it never turns."""
        return (self.alpha / (2 * self.beta)) ** 2 if self.beta > 0 else math.inf


def fit_gao(kl: npt.ArrayLike, gain: npt.ArrayLike) -> GaoFit:
    """Least squares of ``gain`` (gold reward minus its value at KL = 0) on d (alpha - beta d)."""
    x = np.asarray(kl, dtype=np.float64)
    y = np.asarray(gain, dtype=np.float64)
    if x.shape != y.shape or x.size < 3:
        raise ValueError("fit_gao needs at least 3 (KL, gain) points of equal shapes")
    d = np.sqrt(x)
    design = np.stack([d, -(d**2)], axis=1)
    (alpha, beta), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ np.asarray([alpha, beta])
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else math.nan
    return GaoFit(float(alpha), float(beta), r2)
