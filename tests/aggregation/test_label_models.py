"""Every label model on a hand-worked 3-annotator case, and against crowd-kit where it has the
same model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import GLAD as CrowdGLAD
from crowdkit.aggregation import MACE as CrowdMACE
from crowdkit.aggregation import DawidSkene as CrowdDawidSkene
from crowdkit.aggregation import MajorityVote as CrowdMajorityVote

from rewardkit.aggregation import (
    AGGREGATORS,
    GLAD,
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


def test_glad_posterior_by_hand() -> None:
    table, _ = from_rows(ONE_TASK)
    model = GLAD()
    model.annotators = table.annotators
    # easiness e^0 = 1, so P(right) = sigmoid(alpha): 0.8, 0.6, 0.5; a wrong label (1 - a) / 2
    model.ability = np.log(np.array([0.8 / 0.2, 0.6 / 0.4, 1.0]))
    # truth chosen:   0.8 * 0.6 * 0.25 = 0.12    (C's rejected is wrong: (1 - 0.5) / 2)
    # truth rejected: 0.1 * 0.2 * 0.5  = 0.01
    # truth tie:      0.1 * 0.2 * 0.25 = 0.005   total 0.135 (the uniform prior cancels)
    proba = model.posterior(table, table.annotator, np.zeros(1))
    np.testing.assert_allclose(proba, [[0.12 / 0.135, 0.01 / 0.135, 0.005 / 0.135]])
    sided = GLAD(tie_class=False)
    sided.annotators, sided.ability = model.annotators, model.ability
    # the truth a side: the tie drops out, 0.12 and 0.01 renormalised
    np.testing.assert_allclose(
        sided.posterior(table, table.annotator, np.zeros(1)), [[0.12 / 0.13, 0.01 / 0.13, 0]]
    )


def test_glad_easiness_solves_its_equations() -> None:
    """predict_proba fits the pair's log easiness beta with the abilities fixed; at the answer,
    the posterior is the formula above at e^beta, and the M-step's gradient is zero:
    sum over votes of (P(vote is right) - a) alpha e^beta = beta - 1 (the N(1, 1) prior)."""
    table, _ = from_rows(ONE_TASK)
    model = GLAD()
    model.annotators = table.annotators
    alpha = np.array([1.5, 0.5, -0.5])
    model.ability = alpha
    (beta,), proba = model.easiness(table)
    a = 1 / (1 + np.exp(-alpha * np.exp(beta)))
    votes = np.array([0, 0, 1])  # chosen, chosen, rejected
    given = np.array(
        [[a[j] if votes[j] == k else (1 - a[j]) / 2 for j in range(3)] for k in range(3)]
    )
    np.testing.assert_allclose(proba[0], given.prod(axis=1) / given.prod(axis=1).sum(), atol=1e-7)
    right = proba[0, votes]
    assert abs(((right - a) * alpha * np.exp(beta)).sum() - (beta - 1)) < 1e-6


def test_glad_finds_the_adversary_and_the_hard_pairs() -> None:
    rng = np.random.default_rng(0)
    n = 300
    truth = rng.integers(0, 2, n)  # 0 chosen, 1 rejected
    hard = np.arange(n) < n // 2  # on these everyone guesses
    rows = []
    for i in range(n):
        for j, p_right in enumerate((0.9, 0.9, 0.9, 0.1)):  # the last votes against the truth
            right = rng.random() < (0.5 if hard[i] else p_right)
            rows.append((f"t{i}", f"a{j}", LABELS[truth[i] if right else 1 - truth[i]]))
    table, _ = from_rows(rows)
    model = fit_label_model("glad_sided", table, symmetric=False)
    assert isinstance(model, GLAD)
    assert model.ability[:3].min() > 0 > model.ability[3]
    beta, proba = model.easiness(table)
    assert beta[~hard].mean() > beta[hard].mean() + 0.4  # four votes a pair: the prior weighs in
    assert ((proba[:, 0] < proba[:, 1]) == truth)[~hard].mean() > 0.98


@pytest.mark.parametrize("name", sorted(AGGREGATORS))
def test_every_label_model_labels_new_pairs(name: str) -> None:
    fitted_on = list(generate_pairs(200, seed=11, votes_per_pair=5))
    new = list(generate_pairs(100, seed=12, votes_per_pair=5))
    model = fit_label_model(name, from_pairs(fitted_on))
    proba = model.predict_proba(from_pairs(new, model.annotators))
    assert proba.shape == (100, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    gold = np.array([p.metadata["gold_prefers_chosen"] for p in new])
    assert ((p_chosen(proba) > 0.5) == gold).mean() > 0.85, name


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


@crowd_kit_warnings
def test_glad_first_e_step_matches_crowd_kit(synthetic_table: VoteTable) -> None:
    # crowd-kit with n_iter=0 returns its posterior at the start, alpha = beta = 1 (our priors'
    # means), the uniform class prior: the E-step alone, cheap. The whole fit is the slow test.
    model = GLAD()
    model.annotators = synthetic_table.annotators
    model.ability = np.ones(len(model.annotators))
    ours = model.posterior(synthetic_table, synthetic_table.annotator, np.ones(80))
    theirs = CrowdGLAD(n_iter=0).fit_predict_proba(_crowd_frame(synthetic_table))
    np.testing.assert_allclose(ours, _crowd_proba(theirs), atol=1e-9)


@pytest.mark.slow
@crowd_kit_warnings
def test_glad_matches_crowd_kit(synthetic_table: VoteTable) -> None:
    # The table has all three labels, so crowd-kit's inferred K is our fixed 3 and the models
    # coincide (without ties it would fit K = 2, another model). Its defaults stop early: the
    # loop ends when its objective stops rising (after two iterations here) and the M-step's
    # gradient tolerance is 1e-2 (P off by 1e-3 at that point); so it runs a fixed number of
    # iterations with a tight M-step, and both reach the same fixed point (measured: 1e-7).
    ours = GLAD().fit(synthetic_table).predict_proba(synthetic_table)
    theirs = CrowdGLAD(n_iter=20, tol=-np.inf, m_step_max_iter=100, m_step_tol=1e-6)
    np.testing.assert_allclose(
        ours, _crowd_proba(theirs.fit_predict_proba(_crowd_frame(synthetic_table))), atol=1e-3
    )


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
