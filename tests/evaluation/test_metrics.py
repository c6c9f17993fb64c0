"""Every metric against values computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardkit.evaluation import metrics as m
from rewardkit.evaluation.suites import REWARDBENCH_LEADERBOARD, REWARDBENCH_SECTIONS


def test_pairwise_accuracy_counts_ties_and_missing_scores_as_wrong() -> None:
    correct = m.pairwise_correct([2.0, 1.0, 1.0, math.nan], [1.0, 2.0, 1.0, 0.0])
    assert correct.tolist() == [1.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="2 chosen scores but 1 rejected"):
        m.pairwise_correct([1.0, 2.0], [1.0])


@pytest.mark.parametrize(
    ("scores", "correct", "credit"),
    [
        ([3.0, 1.0, 2.0, 0.0], [True, False, False, False], 1.0),  # correct strictly best
        ([3.0, 3.0, 2.0, 0.0], [True, False, False, False], 0.5),  # two tie at the top: 1/2
        ([3.0, 3.0, 3.0, 0.0], [False, True, False, False], 1 / 3),
        ([1.0, 3.0, 2.0, 0.0], [True, False, False, False], 0.0),
        ([math.nan, 1.0, 0.0], [True, False, False], 0.0),  # NaN never wins
        ([math.nan, math.nan], [True, False], 0.0),
        ([2.0, 2.0, 1.0], [True, True, False], 1.0),  # two correct share the top
    ],
)
def test_best_of_k_credit(scores: list[float], correct: list[bool], credit: float) -> None:
    assert m.best_of_k_credit(scores, correct) == pytest.approx(credit)


def test_rewardbench_weighting_worked_example() -> None:
    # Subset accuracies and sizes, as RewardBench reports them.
    accuracy = {
        "alpacaeval-easy": 0.9,  # 100 examples
        "mt-bench-easy": 0.5,  # 28
        "math-prm": 0.6,  # 447 real examples; the leaderboard counts 984
        "hep-python": 0.8,  # 164
        "anthropic_helpful": 0.7,  # 6192
        "shp": 0.5,  # 1741
    }
    sizes = {
        "alpacaeval-easy": 100,
        "mt-bench-easy": 28,
        "math-prm": 447,
        "hep-python": 164,
        "anthropic_helpful": 6192,
        "shp": 1741,
    }
    # Example weighting: Chat = (0.9*100 + 0.5*28) / 128 = 104 / 128 = 0.8125;
    # Reasoning = (0.6*447 + 0.8*164) / 611 = (268.2 + 131.2) / 611 = 0.653682...;
    # Prior Sets = (0.7*6192 + 0.5*1741) / 7933 = (4334.4 + 870.5) / 7933 = 0.656107...
    plain = m.section_scores(accuracy, sizes, REWARDBENCH_SECTIONS)
    assert plain == pytest.approx(
        {"Chat": 0.8125, "Reasoning": 399.4 / 611, "Prior Sets": 5204.9 / 7933}
    )
    assert m.overall_score(plain) == pytest.approx((0.8125 + 399.4 / 611 + 5204.9 / 7933) / 3)
    # Leaderboard: math-prm counts 984 -> Reasoning = (0.6*984 + 0.8*164) / 1148 = 721.6 / 1148;
    # Prior Sets is the plain mean (0.7 + 0.5) / 2 = 0.6 and weighs 0.5 in the score:
    # Score = (0.8125 + 721.6/1148 + 0.5 * 0.6) / 2.5.
    board = m.section_scores(accuracy, sizes, REWARDBENCH_SECTIONS, REWARDBENCH_LEADERBOARD)
    assert board == pytest.approx({"Chat": 0.8125, "Reasoning": 721.6 / 1148, "Prior Sets": 0.6})
    assert m.overall_score(board, REWARDBENCH_LEADERBOARD) == pytest.approx(
        (0.8125 + 721.6 / 1148 + 0.3) / 2.5
    )


def test_calibration_metrics_by_hand() -> None:
    p = np.array([0.9, 0.8, 0.3, 0.6])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    # confidence in the picked side: 0.9, 0.8, 0.7, 0.6; right: yes, no, yes, yes; one per bin
    assert m.expected_calibration_error(p, y) == pytest.approx((0.1 + 0.8 + 0.3 + 0.4) / 4)
    assert m.brier_score(p, y) == pytest.approx((0.01 + 0.64 + 0.09 + 0.16) / 4)
    expected = -(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.6)) / 4
    assert m.log_loss(p, y) == pytest.approx(expected)
    bins = m.reliability_bins(p, y)
    assert [b.count for b in bins] == [1, 1, 1, 1]
    assert [b.accuracy for b in bins] == [1.0, 1.0, 0.0, 1.0]  # confidence 0.6, 0.7, 0.8, 0.9


def test_probability_uses_the_reward_difference() -> None:
    p = m.preference_probability([2.0, 0.0], [1.0, 0.0], temperature=0.5)
    assert p == pytest.approx([1 / (1 + math.exp(-2)), 0.5])


def test_huge_reward_gaps_do_not_overflow() -> None:
    p = m.preference_probability([5000.0, -5000.0], [0.0, 0.0])  # warnings are errors here
    assert p.tolist() == [1.0, 0.0]
    assert m.fit_temperature(np.array([5000.0, -3000.0, 10.0]), np.array([1.0, 1.0, 0.0])) > 0


def test_fitted_temperature_is_the_maximum_likelihood_one() -> None:
    # margins +-1 with outcomes 0.75 / 0.25: the optimum has sigmoid(1/T) = 0.75, T = 1 / ln 3
    t = m.fit_temperature(np.array([1.0, -1.0]), np.array([0.75, 0.25]))
    assert t == pytest.approx(1 / math.log(3), rel=1e-6)


def test_fitted_temperature_is_infinite_for_inverted_margins() -> None:
    assert m.fit_temperature(np.array([1.0, 2.0]), np.array([0.0, 0.0])) == math.inf


def test_length_split_gives_a_length_heuristic_one_half() -> None:
    chosen_len = np.array([10.0, 20.0, 5.0, 7.0, 3.0])
    rejected_len = np.array([5.0, 10.0, 10.0, 7.0, 9.0])
    always_longer = np.asarray(chosen_len > rejected_len, dtype=float)
    split = m.length_split(always_longer, chosen_len, rejected_len)
    assert split.chosen_longer == 1.0
    assert split.chosen_shorter == 0.0
    assert split.equal_length == 0.0
    assert split.share_chosen_longer == pytest.approx(2 / 5)
    assert split.controlled == 0.5
    model = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    # longer side: 1 of 2 right; shorter side: 2 of 2 right -> (0.5 + 1) / 2
    assert m.length_split(model, chosen_len, rejected_len).controlled == pytest.approx(0.75)


def test_length_controlled_accuracy_is_undefined_with_one_direction_only() -> None:
    split = m.length_split(np.array([1.0]), np.array([10.0]), np.array([5.0]))
    assert math.isnan(split.controlled)


def test_spearman_gives_ties_their_mean_rank() -> None:
    # ranks of x: 1, 2.5, 2.5, 4; of y: 1, 2, 3, 4 -> cov 4.5, var 4.5 and 5 -> sqrt(0.9)
    rho = m.spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0, 40.0]))
    assert rho == pytest.approx(math.sqrt(0.9))
    assert math.isnan(m.pearson(np.array([1.0, 1.0]), np.array([1.0, 2.0])))


def test_accuracy_by_length_difference_buckets() -> None:
    correct = np.array([1.0, 0.0, 1.0, 1.0])
    chosen_len = np.array([100.0, 100.0, 10.0, 50.0])
    rejected_len = np.array([10.0, 50.0, 100.0, 50.0])
    # relative differences: +0.9, +0.5, -0.9, 0.0
    buckets = m.accuracy_by_length_difference(correct, chosen_len, rejected_len, [-1, -0.2, 0.2, 1])
    assert [(b.count, b.accuracy) for b in buckets] == [(1, 1.0), (1, 1.0), (2, 0.5)]


def test_agreement_with_annotators_by_hand() -> None:
    p = np.array([0.8, 0.6])  # the model picks chosen on both
    for_chosen, for_rejected, ties = (
        np.array([2.0, 0.0]),
        np.array([1.0, 3.0]),
        np.array([0.0, 1.0]),
    )
    a = m.agreement(p, for_chosen, for_rejected, ties)
    assert (a.pairs, a.votes, a.tie_votes, a.majority_pairs) == (2, 7, 1, 2)
    assert a.majority_accuracy == 0.5
    assert a.vote_accuracy == pytest.approx(2 / 6)
    assert a.vote_accuracy_ceiling == pytest.approx(5 / 6)
    expected = (2 * math.log(0.8) + math.log(0.2) + 3 * math.log(0.4)) / 6
    assert a.vote_log_likelihood == pytest.approx(expected)
    assert a.vote_log_likelihood_ceiling == pytest.approx(
        (2 * math.log(2 / 3) + math.log(1 / 3)) / 6, abs=1e-9
    )


def test_stratified_bootstrap_keeps_strata_and_repeats_with_the_seed() -> None:
    strata = ["a"] * 3 + ["b"] * 5
    first = m.stratified_resamples(strata, 20, seed=1)
    again = m.stratified_resamples(strata, 20, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
    for idx in first:
        assert sorted(strata[i] for i in idx) == strata
    values = np.array([1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
    low, high = m.percentile_interval(lambda idx: float(values[idx].mean()), first)
    assert 0 <= low <= values.mean() <= high <= 1
    assert low < high


def test_summaries_and_shared_histograms() -> None:
    summary = m.summarize(np.array([1.0, 2.0, 3.0, math.nan]))
    assert (summary.count, summary.mean) == (3, 2.0)
    assert summary.quantiles["p50"] == 2.0
    a, b, edges = m.shared_histogram(np.array([0.0, 1.0]), np.array([2.0]), bins=2)
    assert edges.tolist() == [0.0, 1.0, 2.0]
    assert (a.tolist(), b.tolist()) == ([1.0, 1.0], [0.0, 1.0])
