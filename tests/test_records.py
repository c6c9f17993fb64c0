"""Pair.p_chosen: the one rule for P(chosen) from soft labels, votes and ties (hand-computed)."""

from __future__ import annotations

import pytest

from rewardkit.records import Pair, Verdict, Vote


def pair(
    *verdicts: Verdict, soft_label: float | None = None, confidence: float | None = None
) -> Pair:
    votes = tuple(Vote(f"a{i}", v, confidence) for i, v in enumerate(verdicts))
    return Pair("p", "c", "r", votes=votes, soft_label=soft_label)


def test_share_of_votes_for_chosen() -> None:
    assert pair("chosen", "chosen", "rejected").p_chosen == pytest.approx(2 / 3)
    assert pair("rejected", "rejected", "chosen", "rejected").p_chosen == 0.25


def test_a_tie_counts_one_half() -> None:
    assert pair("chosen", "tie").p_chosen == 0.75
    assert pair("chosen", "rejected", "chosen", "tie").p_chosen == 2.5 / 4


def test_soft_label_wins_over_votes() -> None:
    voted = pair("chosen", "chosen", soft_label=0.3)
    assert voted.p_chosen == 0.3
    assert not voted.is_tie
    assert pair("chosen", soft_label=0.5).is_tie


def test_no_votes_no_soft_label_is_a_hard_preference_and_not_a_tie() -> None:
    plain = Pair("p", "c", "r")
    assert plain.p_chosen == 1.0
    assert not plain.is_tie
    assert plain.vote_counts == (0, 0, 0)


def test_all_ties_and_even_votes_are_ties() -> None:
    assert pair("tie", "tie", "tie").p_chosen == 0.5
    assert pair("tie", "tie", "tie").is_tie
    assert pair("chosen", "rejected", "tie").is_tie
    assert not pair("chosen", "tie").is_tie


def test_confidence_does_not_weight_a_vote() -> None:
    assert pair("chosen", "rejected", "rejected", confidence=0.9).p_chosen == pytest.approx(1 / 3)
    mixed = Pair("p", "c", "r", votes=(Vote("a", "chosen", 1.0), Vote("b", "rejected", 0.1)))
    assert mixed.p_chosen == 0.5 and mixed.is_tie


def test_vote_counts() -> None:
    assert pair("chosen", "tie", "rejected", "chosen").vote_counts == (2, 1, 1)
