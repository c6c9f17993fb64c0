"""Length bias: does the reward follow response length rather than preference?

A length heuristic scores 100% on some RewardBench subsets and well over chance on others
(reward-bench issues #267, #268); these numbers make that visible for any scorer.
Length-controlled accuracy is the mean of the accuracy on pairs whose chosen response is longer
and on pairs whose chosen response is shorter, so "always pick the longer (or shorter)" gets
exactly 0.5 whatever the data's length balance.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rewardkit.evaluation.metrics.arrays import Floats


def pearson(x: Floats, y: Floats) -> float:
    if x.size < 2 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def average_ranks(x: Floats) -> Floats:
    """Ranks 1..n, ties sharing their mean rank (as Spearman's coefficient requires)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return np.asarray(sums[inverse] / counts[inverse], dtype=np.float64)


def spearman(x: Floats, y: Floats) -> float:
    return pearson(average_ranks(x), average_ranks(y))


@dataclass(frozen=True)
class LengthSplit:
    chosen_longer: float
    """Accuracy on pairs whose chosen response is longer (NaN when there are none)."""
    chosen_shorter: float
    equal_length: float
    share_chosen_longer: float
    """How often the data's chosen response is the longer one: a length heuristic's accuracy."""
    controlled: float
    """Mean of ``chosen_longer`` and ``chosen_shorter``; NaN unless the data has both."""


def _mean(values: Floats) -> float:
    return float(values.mean()) if values.size else float("nan")


def length_split(correct: Floats, chosen_len: Floats, rejected_len: Floats) -> LengthSplit:
    longer = chosen_len > rejected_len
    shorter = chosen_len < rejected_len
    acc_longer, acc_shorter = _mean(correct[longer]), _mean(correct[shorter])
    return LengthSplit(
        chosen_longer=acc_longer,
        chosen_shorter=acc_shorter,
        equal_length=_mean(correct[~longer & ~shorter]),
        share_chosen_longer=_mean(longer.astype(float)),
        controlled=(acc_longer + acc_shorter) / 2,  # NaN unless both directions occur
    )


@dataclass(frozen=True)
class LengthBucket:
    low: float
    high: float
    count: int
    accuracy: float


def accuracy_by_length_difference(
    correct: Floats, chosen_len: Floats, rejected_len: Floats, edges: Sequence[float]
) -> list[LengthBucket]:
    """Accuracy per bucket of relative length difference (chosen - rejected) / longer, in [-1, 1]:
    a flat line means the model ignores length; a rising one means it rewards length."""
    longest = np.maximum(np.maximum(chosen_len, rejected_len), 1)
    diff = (chosen_len - rejected_len) / longest
    out = []
    for i, (low, high) in enumerate(itertools.pairwise(edges)):
        last = i == len(edges) - 2
        mask = (diff >= low) & ((diff <= high) if last else (diff < high))
        if mask.any():
            out.append(LengthBucket(low, high, int(mask.sum()), float(correct[mask].mean())))
    return out


LENGTH_DIFFERENCE_EDGES = (-1.0, -0.5, -0.25, -0.1, -0.02, 0.02, 0.1, 0.25, 0.5, 1.0)
