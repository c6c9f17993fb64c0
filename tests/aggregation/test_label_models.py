"""Every label model on a hand-worked 3-annotator case, and against crowd-kit where it has the
same model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import MACE as CrowdMACE
from crowdkit.aggregation import DawidSkene as CrowdDawidSkene
from crowdkit.aggregation import MajorityVote as CrowdMajorityVote

from rewardkit.aggregation import (
    LABELS,
    MACE,
    AnnotatorBT,
    DawidSkene,
    MajorityVote,
    VoteTable,
    fit_label_model,
    from_pairs,
    from_rows,
    p_chosen,
)
from rewardkit.synthetic import generate_pairs

# One pair, three annotators: A and B say chosen, C says rejected.
ONE_TASK = [("t0", "A", "chosen"), ("t0", "B", "chosen"), ("t0", "C", "rejected")]


def test_majority_vote_is_the_vote_share_and_a_tie_counts_half() -> None:
    table, _ = from_rows([("t0", "A", "chosen"), ("t0", "B", "chosen"), ("t0", "C", "tie")])
    proba = MajorityVote().fit(table).predict_proba(table)
    # shares: chosen 2/3, rejected 0, tie 1/3; P(chosen) = 2/3 + (1/3)/2 = 5/6
    np.testing.assert_allclose(proba, [[2 / 3, 0, 1 / 3]])
    np.testing.assert_allclose(p_chosen(proba), [5 / 6])


def test_dawid_skene_posterior_by_hand() -> None:
    table, _ = from_rows(ONE_TASK)
    model = DawidSkene()
    model.annotators = table.annotators
    model.priors = np.array([0.5, 0.4, 0.1])
    good = np.full((3, 3), 0.1) + np.eye(3) * 0.7  # right 0.8, each error 0.1
    fair = np.full((3, 3), 0.2) + np.eye(3) * 0.4  # right 0.6, each error 0.2
    swapped = good[[1, 0, 2]]  # C says rejected for chosen and chosen for rejected, 0.8
    model.confusion = np.stack([good, fair, swapped])
    # chosen:   0.5 * 0.8 * 0.6 * 0.8 = 0.192
    # rejected: 0.4 * 0.1 * 0.2 * 0.1 = 0.0008
    # tie:      0.1 * 0.1 * 0.2 * 0.1 = 0.0002     total 0.193
    proba = model.predict_proba(table)
    np.testing.assert_allclose(proba, [[0.192 / 0.193, 0.0008 / 0.193, 0.0002 / 0.193]])


def test_dawid_skene_first_m_step_by_hand() -> None:
    table, _ = from_rows(
        [*ONE_TASK, ("t1", "A", "rejected"), ("t1", "B", "tie"), ("t1", "C", "rejected")]
    )
    model = DawidSkene(n_iter=1, tol=0).fit(table)
    # start: vote shares t0 = [2/3, 1/3, 0], t1 = [0, 2/3, 1/3]; priors = their mean
    np.testing.assert_allclose(model.priors, [1 / 3, 1 / 2, 1 / 6])
    # A said chosen on t0, rejected on t1: row k of A's confusion is [P_t0(k), P_t1(k), 0]
    # normalised: chosen [2/3, 0, 0] -> [1, 0, 0]; rejected [1/3, 2/3, 0] -> [1/3, 2/3, 0];
    # tie [0, 1/3, 0] -> [0, 1, 0] (cells of a label A never gave are 0)
    expected = np.array([[1, 0, 0], [1 / 3, 2 / 3, 0], [0, 1, 0]])
    np.testing.assert_allclose(model.confusion[0], expected, atol=1e-9)


def test_dawid_skene_without_a_tie_class_never_gives_a_tie() -> None:
    pairs = list(generate_pairs(150, seed=3, votes_per_pair=3))
    model = DawidSkene(tie_class=False).fit(from_pairs(pairs))
    assert model.predict_proba(from_pairs(pairs))[:, 2].max() == 0.0
    assert model.priors[2] == 0.0


def test_mace_posterior_by_hand() -> None:
    table, _ = from_rows(ONE_TASK)
    model = MACE()
    model.annotators = table.annotators
    model.spamming = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])  # (spamming, knowing)
    model.strategy = np.array([[1 / 3, 1 / 3, 1 / 3], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]])
    # P(vote l | truth k) = spam * strategy[l] + know * [l == k]
    # truth chosen:   (0.1/3 + 0.9) * (0.5*0.2 + 0.5) * (0.9*0.8)       = 0.4032
    # truth rejected: (0.1/3)       * (0.5*0.2)       * (0.9*0.8 + 0.1) = 0.0027333
    # truth tie:      (0.1/3)       * (0.5*0.2)       * (0.9*0.8)       = 0.0024
    proba = model.predict_proba(table)
    np.testing.assert_allclose(proba, [[0.98742857, 0.00669388, 0.00587755]], atol=1e-7)


def test_bradley_terry_posterior_by_hand() -> None:
    table, _ = from_rows(ONE_TASK)
    model = AnnotatorBT()
    model.annotators = table.annotators
    model.reliability_ = np.array([1.0, 1.0, -1.0])  # C votes against what they see
    model.position_bias = np.zeros(3)
    # every vote is evidence for chosen: the MAP gap solves 3 (1 - sigmoid(s)) = s / 2^2,
    # s = 1.76059; its variance v = 1 / (3 sigmoid(s) (1 - sigmoid(s)) + 1/4) = 1.59854;
    # P(chosen) = sigmoid(s / sqrt(1 + pi v / 8)) = 0.798984
    gap, variance = model.gaps(table)
    np.testing.assert_allclose(gap, [1.7605930], atol=1e-6)
    np.testing.assert_allclose(variance, [1.5985385], atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(table), [[0.7989842, 0.2010158, 0]], atol=1e-6)


def test_bradley_terry_finds_position_bias_and_an_adversary() -> None:
    rng = np.random.default_rng(0)
    rows, n = [], 400
    truth = rng.random(n) < 0.5  # does chosen deserve to win
    first = rng.random(n) < 0.5  # was chosen shown first
    for i in range(n):
        rows += [(i, 0, truth[i]), (i, 1, truth[i]), (i, 2, first[i]), (i, 3, not truth[i])]
    task, who, says_chosen = (np.array(c) for c in zip(*rows, strict=True))
    table = VoteTable(
        task.astype(np.intp), who.astype(np.intp), np.where(says_chosen, 0, 1).astype(np.intp),
        ("honest-1", "honest-2", "first-picker", "adversary"), n,
        np.where(first, 1.0, -1.0)[task],
    )  # fmt: skip
    model = AnnotatorBT().fit(table)
    reliability, bias = model.reliability_, model.position_bias
    assert reliability[0] > 1 and reliability[1] > 1 and reliability[3] < 0
    assert abs(reliability[2]) < 0.2 and bias[2] > 1 > np.abs(bias[[0, 1, 3]]).max()
    p = p_chosen(model.predict_proba(table))
    assert ((p > 0.5) == truth).mean() == 1.0


def test_unknown_annotator_is_an_error_naming_them() -> None:
    table, _ = from_rows(ONE_TASK)
    model = DawidSkene().fit(table)
    other, _ = from_rows([("t9", "Z", "chosen")])
    with pytest.raises(ValueError, match="'Z'"):
        model.predict_proba(other)


def _crowd_frame(table: VoteTable) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "task": table.task,
            "worker": [table.annotators[a] for a in table.annotator],
            "label": [LABELS[k] for k in table.label],
        }
    )
    # crowd-kit's MACE indexes its parameters in order of first appearance but sums counts in
    # sorted order: sorted rows keep the two the same (otherwise it is off by ~1e-3 here)
    return frame.sort_values(["worker", "label"], kind="stable").reset_index(drop=True)


# crowd-kit 1.4 calls pandas with arguments pandas deprecates: its warnings, not ours.
crowd_kit_warnings = pytest.mark.filterwarnings(
    "ignore:The inplace keyword", "ignore:.*copy keyword"
)


@pytest.fixture(scope="module")
def synthetic_table() -> VoteTable:
    table = from_pairs(list(generate_pairs(80, seed=1, votes_per_pair=3)))
    assert set(table.label.tolist()) == {0, 1, 2}  # crowd-kit's columns are the labels it saw
    return table


def _crowd_proba(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(frame[list(LABELS)].sort_index().to_numpy())


@crowd_kit_warnings
def test_majority_vote_matches_crowd_kit(synthetic_table: VoteTable) -> None:
    ours = MajorityVote().fit(synthetic_table).predict_proba(synthetic_table)
    theirs = CrowdMajorityVote().fit_predict_proba(_crowd_frame(synthetic_table))
    np.testing.assert_allclose(ours, _crowd_proba(theirs), atol=1e-3)


@crowd_kit_warnings
def test_dawid_skene_matches_crowd_kit(synthetic_table: VoteTable) -> None:
    ours = DawidSkene(n_iter=15, tol=0).fit(synthetic_table).predict_proba(synthetic_table)
    theirs = CrowdDawidSkene(n_iter=15, tol=-np.inf).fit_predict_proba(
        _crowd_frame(synthetic_table)
    )
    np.testing.assert_allclose(ours, _crowd_proba(theirs), atol=1e-3)


@crowd_kit_warnings
def test_mace_matches_crowd_kit(synthetic_table: VoteTable) -> None:
    # Random starts differ (annotators in another order), so compare where both have converged.
    ours = MACE(n_iter=50, tol=0).fit(synthetic_table).predict_proba(synthetic_table)
    theirs = CrowdMACE(n_iter=50, n_restarts=1).fit_predict_proba(_crowd_frame(synthetic_table))
    np.testing.assert_allclose(ours, _crowd_proba(theirs), atol=1e-3)


def test_symmetric_dawid_skene_recovers_reliabilities() -> None:
    pairs = list(generate_pairs(600, seed=5, votes_per_pair=5))
    model = fit_label_model("dawid_skene_sided", from_pairs(pairs))
    assert isinstance(model, DawidSkene)
    hits: dict[str, list[bool]] = {}
    for pair in pairs:
        right = "chosen" if pair.metadata["gold_prefers_chosen"] else "rejected"
        for vote in pair.votes:
            hits.setdefault(vote.annotator, []).append(vote.verdict == right)
    found = dict(zip(model.annotators, model.reliability(), strict=True))
    for name, h in hits.items():
        assert abs(found[name] - np.mean(h)) < 0.05, name
