"""Score distributions of chosen and rejected responses: summaries and shared histogram bins."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rewardkit.evaluation.metrics.arrays import Floats


@dataclass(frozen=True)
class Summary:
    count: int
    mean: float
    std: float
    quantiles: dict[str, float]
    """p5, p25, p50, p75, p95."""


def summarize(values: Floats) -> Summary:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Summary(0, float("nan"), float("nan"), {})
    qs = np.percentile(finite, [5, 25, 50, 75, 95])
    names = ("p5", "p25", "p50", "p75", "p95")
    return Summary(
        int(finite.size),
        float(finite.mean()),
        float(finite.std()),
        {n: float(q) for n, q in zip(names, qs, strict=True)},
    )


def shared_histogram(a: Floats, b: Floats, bins: int = 30) -> tuple[Floats, Floats, Floats]:
    """Counts of ``a`` and ``b`` over the same edges, so the two can be drawn over each other."""
    both = np.concatenate([a, b])
    both = both[np.isfinite(both)]
    if both.size == 0:
        edges = np.linspace(0, 1, bins + 1)
    else:
        low, high = float(both.min()), float(both.max())
        edges = np.linspace(low, high if high > low else low + 1, bins + 1)
    count_a, _ = np.histogram(a[np.isfinite(a)], edges)
    count_b, _ = np.histogram(b[np.isfinite(b)], edges)
    return count_a.astype(np.float64), count_b.astype(np.float64), edges
