"""Majority vote as a distribution: each task's share of votes per label (crowd-kit's
``MajorityVote.fit_predict_proba``). With ties counting one half it gives ``Pair.p_chosen``."""

from __future__ import annotations

from rewardkit.aggregation.base import normalize_rows
from rewardkit.aggregation.table import Floats, K, VoteTable


class MajorityVote:
    name = "majority"

    def __init__(self) -> None:
        self.annotators: tuple[str, ...] = ()

    def fit(self, table: VoteTable) -> MajorityVote:
        self.annotators = table.annotators
        return self

    def predict_proba(self, table: VoteTable) -> Floats:
        """Vote shares; a task without votes is uniform over the three labels."""
        counts = table.counts()
        counts[counts.sum(axis=1) == 0] = 1.0 / K
        return normalize_rows(counts)

    def parameters(self) -> dict[str, object]:
        return {}


def vote_shares(table: VoteTable) -> Floats:
    return MajorityVote().predict_proba(table)
