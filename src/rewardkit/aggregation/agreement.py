"""How much annotators agree with each other: raw agreement, Fleiss' and Cohen's kappa and
Krippendorff's alpha over a vote table, with percentile bootstrap intervals over tasks.

Chance agreement is computed on the mirrored table (every pair also seen with its sides swapped,
``VoteTable.mirrored``): datasets usually call the majority's pick ``chosen``, and chance
agreement from the raw marginals would then count that naming convention against annotators.
How a reward model's probabilities agree with the votes is ``evaluation.metrics.agreement``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from rewardkit.aggregation.table import K, VoteTable

Distance = Literal["nominal", "interval"]
VALUES = np.array([1.0, 0.0, 0.5])
"""chosen, rejected, tie on the interval scale: a tie is halfway."""


def raw_agreement(table: VoteTable) -> float:
    """The share of agreeing pairs of votes on the same task, over tasks with two votes or more
    (Fleiss' P-bar); NaN when no task has two votes."""
    counts = table.counts()
    n = counts.sum(axis=1)
    multi = n >= 2
    if not multi.any():
        return float("nan")
    agreeing = (counts[multi] * (counts[multi] - 1)).sum(axis=1) / (n[multi] * (n[multi] - 1))
    return float(agreeing.mean())


def fleiss_kappa(table: VoteTable) -> float:
    """Fleiss (1971), allowing a different number of votes per task."""
    mirrored = table.mirrored()
    observed = raw_agreement(mirrored)
    counts = mirrored.counts()
    counts = counts[counts.sum(axis=1) >= 2]
    if not counts.size:
        return float("nan")
    shares = counts.sum(axis=0) / counts.sum()
    expected = float((shares**2).sum())
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def cohen_kappa(table: VoteTable, first: int, second: int) -> float:
    """Cohen (1960) between two annotators (indices), over the tasks both voted on (the first
    vote each gave a task)."""
    mirrored = table.mirrored()
    return kappa_of_labels(_first_votes(mirrored, first), _first_votes(mirrored, second))


def kappa_of_labels(first: np.ndarray, second: np.ndarray) -> float:
    """Cohen's kappa of two per-task label arrays (0, 1 or 2), -1 where that annotator did not
    vote."""
    both = (first >= 0) & (second >= 0)
    if not both.any():
        return float("nan")
    a, b = first[both], second[both]
    observed = float((a == b).mean())
    expected = float(np.bincount(a, minlength=K) @ np.bincount(b, minlength=K)) / a.size**2
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def _first_votes(table: VoteTable, who: int) -> np.ndarray:
    """Per task: this annotator's first label, -1 where they did not vote."""
    out = np.full(table.n_tasks, -1)
    rows = np.flatnonzero(table.annotator == who)[::-1]  # reversed: the first vote is set last
    out[table.task[rows]] = table.label[rows]
    return out


def mean_cohen_kappa(table: VoteTable, min_overlap: int = 10) -> float:
    """Cohen's kappa averaged over annotator pairs who share at least ``min_overlap`` tasks."""
    mirrored = table.mirrored()
    labels = [_first_votes(mirrored, j) for j in range(len(table.annotators))]
    kappas = [
        kappa_of_labels(labels[i], labels[j])
        for i, j in combinations(range(len(labels)), 2)
        # the mirrored table holds each task twice
        if ((labels[i] >= 0) & (labels[j] >= 0)).sum() >= 2 * min_overlap
    ]
    kappas = [k for k in kappas if np.isfinite(k)]
    return float(np.mean(kappas)) if kappas else float("nan")


def krippendorff_alpha(table: VoteTable, distance: Distance = "nominal") -> float:
    """Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 1 - D_o / D_e from
    the coincidence matrix of values within tasks; ``interval`` treats a tie as halfway between
    the sides, ``nominal`` as a third category."""
    counts = table.mirrored().counts()
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    if not m.size:
        return float("nan")
    # o[c, k] = sum over tasks of n_c n_k (minus n_c on the diagonal) / (m - 1)
    coincidence = np.einsum("uc,uk->ck", counts / (m - 1)[:, None], counts)
    coincidence -= np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    nominal = 1.0 - np.eye(K)
    delta = nominal if distance == "nominal" else (VALUES[:, None] - VALUES[None, :]) ** 2
    observed = float((coincidence * delta).sum() / n)
    expected = float((np.outer(n_c, n_c) * delta).sum() / (n * (n - 1)))
    return 1.0 - observed / expected if expected > 0 else float("nan")


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    n: int,
    resamples: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` over resamples of the indices 0..n-1 (with
    replacement); undefined (NaN) resamples are left out."""
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(resamples)] if n else [])
    values = values[np.isfinite(values)]
    if not values.size:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class Statistic:
    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | None]:
        return {k: _json_float(v) for k, v in vars(self).items()}


def _json_float(x: float) -> float | None:
    return round(float(x), 4) if np.isfinite(x) else None


AGREEMENT_STATISTICS: dict[str, Callable[[VoteTable], float]] = {
    "raw_agreement": raw_agreement,
    "fleiss_kappa": fleiss_kappa,
    "mean_cohen_kappa": mean_cohen_kappa,
    "krippendorff_alpha": krippendorff_alpha,
    "krippendorff_alpha_interval": lambda t: krippendorff_alpha(t, "interval"),
}


def agreement_statistics(
    table: VoteTable, resamples: int = 200, seed: int = 0
) -> dict[str, Statistic]:
    """Every statistic of ``AGREEMENT_STATISTICS`` with a bootstrap interval over tasks."""
    out = {}
    for name, statistic in AGREEMENT_STATISTICS.items():
        low, high = bootstrap_interval(
            lambda idx, f=statistic: f(table.subset(idx)),  # type: ignore[misc]
            table.n_tasks,
            resamples,
            seed,
        )
        out[name] = Statistic(statistic(table), low, high)
    return out


__all__ = [
    "AGREEMENT_STATISTICS",
    "Statistic",
    "agreement_statistics",
    "bootstrap_interval",
    "cohen_kappa",
    "fleiss_kappa",
    "kappa_of_labels",
    "krippendorff_alpha",
    "mean_cohen_kappa",
    "raw_agreement",
]
