"""Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13).

Examples are resampled with replacement within their stratum (a subset), so every resample keeps
the suite's composition and section weighting stays meaningful.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.intp]
T = TypeVar("T")


def stratified_resamples(strata: Sequence[str], resamples: int, seed: int) -> list[Indices]:
    """``resamples`` index arrays, each the size of ``strata``, drawn within each stratum."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(strata, dtype=object)
    groups = [np.flatnonzero(labels == s) for s in dict.fromkeys(strata)]
    return [
        np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        if groups
        else np.empty(0, dtype=np.intp)
        for _ in range(resamples)
    ]


def percentile_interval(
    statistic: Callable[[T], float], resamples: Sequence[T], confidence: float = 0.95
) -> tuple[float, float]:
    """The central ``confidence`` interval of ``statistic`` over the resamples (index sets, or
    anything computed once per resample); resamples where it is undefined (NaN) are left out."""
    values = np.array([statistic(r) for r in resamples], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
