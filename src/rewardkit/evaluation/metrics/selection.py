"""What a scorer selects: the exact expectation, over every n-subset of N scored samples, of a
value (gold reward, correctness) at the subset's top-scored sample. One pass over the samples
sorted by score instead of resampling (Gao et al. 2022, appendix: the unbiased best-of-n
estimator; the same closed form as pass@k, Chen et al. 2021). Used by best-of-n reranking
(evaluation) and by over-optimisation studies (hacking)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rewardkit.evaluation.metrics.arrays import Floats


def subset_weights(total: int, n: int) -> Floats:
    """P(the sample of rank i, 1 = lowest score, is the top of a random n-subset of ``total``):
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


def expected_best_of_n(scores: npt.ArrayLike, values: npt.ArrayLike, ns: Sequence[int]) -> Floats:
    """For each n: E[``values`` of the top-scored among n samples drawn without replacement
    from these N], exactly. A tie in the scores is broken uniformly (its members share their
    mean value); -inf ranks below every score, so unscored samples can be put last."""
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if s.shape != v.shape or s.ndim != 1:
        raise ValueError(f"scores {s.shape} and values {v.shape} must be equal 1-D shapes")
    if np.isnan(s).any():
        raise ValueError("scores must not be NaN (rank unscored samples last with -inf)")
    order = np.argsort(s, kind="stable")
    sorted_s, sorted_v = s[order], v[order]
    _, start, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    sums = np.add.reduceat(sorted_v, start)
    tied = np.repeat(sums / counts, counts)
    return np.asarray([float(subset_weights(len(s), n) @ tied) for n in ns])
