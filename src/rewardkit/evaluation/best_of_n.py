"""Best-of-n: how often the response a reward model picks out of n samples is right.

With K scored samples per question, best-of-n for n <= K is estimated without bias by
averaging over every n-subset of the K, in closed form
(``evaluation.metrics.selection.expected_best_of_n``); a tie is broken uniformly and unscored
samples (NaN) rank last.

Baselines on the same samples: ``pass@n`` (an oracle picks a right sample when there is one)
and majority voting over the n samples' final answers (ties split evenly; exact over every
subset up to ``max_subsets``, a seeded sample of subsets beyond).

A per-step model's step scores become one score per sample by each aggregation of
``models.heads.aggregate_steps`` (min, prod, last, mean): ``rerank_scores``.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence

import numpy as np

from rewardkit.evaluation.metrics.arrays import Floats
from rewardkit.evaluation.metrics.selection import expected_best_of_n
from rewardkit.models.heads import StepAggregate, aggregate_steps

AGGREGATES: tuple[StepAggregate, ...] = ("min", "prod", "last", "mean")


def best_of_n(scores: Sequence[float], correct: Sequence[bool], n: int) -> float:
    """Expected correctness of the top-scored sample of a uniformly random n-subset."""
    return float(_expected(scores, correct, [n])[0])


def _expected(scores: Sequence[float], correct: Sequence[bool], ns: Sequence[int]) -> Floats:
    ranked = [-math.inf if math.isnan(s) else s for s in scores]  # unscored rank last
    return expected_best_of_n(ranked, np.asarray(correct, dtype=np.float64), ns)


def pass_at_n(correct: Sequence[bool], n: int) -> float:
    """P(at least one right sample among n drawn without replacement)."""
    k, right = len(correct), sum(correct)
    return 1.0 - math.comb(k - right, n) / math.comb(k, n)


def _subsets(k: int, n: int, max_subsets: int, seed: int) -> list[tuple[int, ...]]:
    if math.comb(k, n) <= max_subsets:
        return list(itertools.combinations(range(k), n))
    rng = random.Random(seed)
    return [tuple(sorted(rng.sample(range(k), n))) for _ in range(max_subsets)]


def majority_vote(
    answers: Sequence[str | None],
    gold: str,
    n: int,
    max_subsets: int = 10_000,
    seed: int = 0,
) -> float:
    """Expected correctness of the most common final answer among n samples (samples with no
    answer abstain; a tie between answers is split evenly)."""
    total = 0.0
    subsets = _subsets(len(answers), n, max_subsets, seed)
    for subset in subsets:
        votes = Counter(answers[i] for i in subset if answers[i] is not None)
        if not votes:
            continue
        top = max(votes.values())
        leaders = [a for a, c in votes.items() if c == top]
        total += sum(a == gold for a in leaders) / len(leaders)
    return total / len(subsets)


def rerank_scores(step_scores: Sequence[Sequence[float] | None], how: StepAggregate) -> list[float]:
    """One score per sample from its steps' scores (NaN for a sample without any)."""
    return [math.nan if s is None else aggregate_steps(s, how) for s in step_scores]


def curve(
    groups: Sequence[tuple[Sequence[float], Sequence[bool]]], ns: Sequence[int]
) -> list[float]:
    """Mean best-of-n over questions, for each n: each question its (scores, correct)."""
    per_question = np.stack([_expected(s, c, ns) for s, c in groups])  # one sort a question
    return [float(x) for x in per_question.mean(axis=0)]
