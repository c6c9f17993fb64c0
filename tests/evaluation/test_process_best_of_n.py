"""Best-of-n: the closed-form unbiased estimate against brute force over every subset, ties,
majority voting and pass@n by hand, and reranking by each step aggregation."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from rewardkit.evaluation.best_of_n import (
    best_of_n,
    curve,
    majority_vote,
    pass_at_n,
    rerank_scores,
)


def test_best_of_n_by_hand() -> None:
    # ranked 3 (wrong), 2 (right), 1 (right), 0 (wrong); the top of a random pair is rank r
    # with probability C(3 - r, 1) / C(4, 2): 3/6, 2/6, 1/6, 0
    scores, correct = [3.0, 1.0, 2.0, 0.0], [False, True, True, False]
    assert best_of_n(scores, correct, 2) == pytest.approx(0.5)
    assert best_of_n(scores, correct, 1) == pytest.approx(0.5)  # a random sample
    assert best_of_n(scores, correct, 4) == 0.0  # always the top: wrong


def _brute_force(scores: list[float], correct: list[bool], n: int) -> float:
    total = 0.0
    subsets = list(itertools.combinations(range(len(scores)), n))
    for subset in subsets:
        top = max(scores[i] for i in subset)
        tied = [i for i in subset if scores[i] == top]
        total += sum(correct[i] for i in tied) / len(tied)  # ties broken uniformly
    return total / len(subsets)


def test_best_of_n_equals_the_mean_over_every_subset_with_ties() -> None:
    rng = random.Random(0)
    for _ in range(50):
        k = rng.randint(1, 7)
        scores = [float(rng.randint(0, 3)) for _ in range(k)]  # many ties
        correct = [rng.random() < 0.5 for _ in range(k)]
        for n in range(1, k + 1):
            assert best_of_n(scores, correct, n) == pytest.approx(_brute_force(scores, correct, n))


def test_unscored_samples_rank_last_and_bad_n_is_refused() -> None:
    assert best_of_n([math.nan, 1.0], [True, False], 2) == 0.0
    assert best_of_n([math.nan, math.nan], [True, False], 2) == 0.5
    with pytest.raises(ValueError, match=r"n must be in \[1, 2\]"):
        best_of_n([1.0, 2.0], [True, True], 3)


def test_majority_vote_by_hand() -> None:
    # pairs of ["1", "1", "2", None], gold "1": (0,1) 1, (0,2) tie 1/2, (0,3) 1, (1,2) 1/2,
    # (1,3) 1, (2,3) 0
    assert majority_vote(["1", "1", "2", None], "1", 2) == pytest.approx(4 / 6)
    assert majority_vote(["1", "1", "2", None], "1", 4) == 1.0
    assert majority_vote([None, None], "1", 1) == 0.0  # nobody answers: wrong


def test_pass_at_n_by_hand() -> None:
    assert pass_at_n([True, False, False, False], 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2)
    assert pass_at_n([False, False], 2) == 0.0


def test_rerank_with_each_aggregation() -> None:
    steps = [[1.0, -2.0, 3.0], None]
    assert rerank_scores(steps, "min")[0] == -2.0
    assert rerank_scores(steps, "last")[0] == 3.0
    assert rerank_scores(steps, "mean")[0] == pytest.approx(2 / 3)
    p = math.prod(1 / (1 + math.exp(-s)) for s in [1.0, -2.0, 3.0])
    assert rerank_scores(steps, "prod")[0] == pytest.approx(math.log(p / (1 - p)))
    assert math.isnan(rerank_scores(steps, "min")[1])


def test_curve_averages_questions() -> None:
    groups = [([1.0, 0.0], [True, False]), ([1.0, 0.0], [False, True])]
    assert curve(groups, [1, 2]) == pytest.approx([0.5, 0.5])
