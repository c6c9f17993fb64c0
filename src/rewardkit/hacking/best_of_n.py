"""Best-of-n as an optimiser: its KL from the sampler, the unbiased estimate of what it selects,
and Gao et al.'s scaling form of over-optimisation.

- ``best_of_n_kl(n) = log n - (n - 1) / n``: the KL divergence of best-of-n from the base
  sampler as it is usually reported (Stiennon et al. 2020); an upper bound on the true KL
  (Beirami et al. 2024), so curves against it are drawn slightly to the right.
- ``expected_best_of_n``: from N >= n samples with proxy and gold rewards, the exact expectation
  over all n-subsets of the gold (or proxy) reward of the subset's proxy argmax (Gao et al.
  2022, appendix: the unbiased estimator); one pass over the N samples sorted by proxy, instead
  of resampling.
- ``fit_gao``: least squares of the gain over n = 1 on R(d) = d (alpha - beta d), d = sqrt(KL)
  (Gao et al. 2022, "Scaling Laws for Reward Model Overoptimization", best-of-n form), with R^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def best_of_n_kl(n: int | npt.ArrayLike) -> Floats:
    values = np.asarray(n, dtype=np.float64)
    if np.any(values < 1):
        raise ValueError("n must be at least 1")
    return np.log(values) - (values - 1) / values


def subset_weights(total: int, n: int) -> Floats:
    """P(the sample of rank i, 1 = lowest proxy, is the best of a random n-subset of ``total``):
    C(i - 1, n - 1) / C(total, n), computed in logs so n and total may be in the thousands."""
    if not 1 <= n <= total:
        raise ValueError(f"n must be in [1, {total}] for {total} samples, got {n}")
    ranks = np.arange(1, total + 1, dtype=np.float64)
    weights = np.zeros(total)
    usable = ranks >= n
    i = ranks[usable]
    weights[usable] = np.exp(_log_choose(i - 1, n - 1) - _log_choose(np.asarray([total]), n))
    return weights


def _log_choose(a: Floats, b: int) -> Floats:
    lgamma = np.vectorize(math.lgamma, otypes=[np.float64])
    return np.asarray(lgamma(a + 1) - math.lgamma(b + 1) - lgamma(a - b + 1), dtype=np.float64)


def expected_best_of_n(proxy: npt.ArrayLike, values: npt.ArrayLike, ns: Sequence[int]) -> Floats:
    """For each n: E[``values`` of the proxy's argmax among n samples drawn without replacement
    from these N], exactly. Ties in the proxy are broken by the values' mean within the tie
    (a tie's members are equally likely to be picked)."""
    p = np.asarray(proxy, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if p.shape != v.shape or p.ndim != 1:
        raise ValueError(f"proxy {p.shape} and values {v.shape} must be equal 1-D shapes")
    if not np.all(np.isfinite(p)):
        raise ValueError("proxy scores must be finite (score or drop unscored samples first)")
    order = np.argsort(p, kind="stable")
    sorted_p, sorted_v = p[order], v[order]
    # a tie's members share its mean value: any of them may be the argmax
    _, start, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    sums = np.add.reduceat(sorted_v, start)
    tied = np.repeat(sums / counts, counts)
    return np.asarray([float(subset_weights(len(p), n) @ tied) for n in ns])


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
