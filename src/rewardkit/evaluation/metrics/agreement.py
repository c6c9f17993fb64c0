"""Agreement with humans where several annotators voted on a pair.

Three views: accuracy against the majority (pairs with a strict majority only); accuracy against
individual votes, next to its ceiling (no scorer that picks one side per pair can agree with more
votes than the majority side holds); and the likelihood of the votes under P = sigmoid(margin),
next to the best any per-pair probability could reach (the vote shares themselves). Tie votes
carry no side and are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rewardkit.evaluation.metrics.arrays import EPS, Floats


@dataclass(frozen=True)
class Agreement:
    pairs: int
    votes: int
    tie_votes: int
    majority_accuracy: float
    majority_pairs: int
    vote_accuracy: float
    vote_accuracy_ceiling: float
    vote_log_likelihood: float
    """Mean log-probability per vote of the side voted for."""
    vote_log_likelihood_ceiling: float


def agreement(p: Floats, for_chosen: Floats, for_rejected: Floats, ties: Floats) -> Agreement:
    """``p`` is P(chosen preferred) per pair; the other arrays count votes per pair."""
    picks_chosen = p > 0.5
    picks_rejected = p < 0.5
    sided = for_chosen + for_rejected
    majority = for_chosen != for_rejected
    agrees_majority = np.where(for_chosen > for_rejected, picks_chosen, picks_rejected)
    agreeing_votes = np.where(picks_chosen, for_chosen, np.where(picks_rejected, for_rejected, 0))
    total = float(sided.sum())
    q = np.clip(p, EPS, 1 - EPS)
    share = np.divide(for_chosen, sided, out=np.full_like(p, 0.5), where=sided > 0)
    best = np.clip(share, EPS, 1 - EPS)

    def per_vote(prob: Floats) -> float:
        ll = for_chosen * np.log(prob) + for_rejected * np.log(1 - prob)
        return float(ll.sum() / total) if total else float("nan")

    return Agreement(
        pairs=int(p.size),
        votes=int(total + ties.sum()),
        tie_votes=int(ties.sum()),
        majority_accuracy=float(agrees_majority[majority].mean())
        if majority.any()
        else float("nan"),
        majority_pairs=int(majority.sum()),
        vote_accuracy=float(agreeing_votes.sum() / total) if total else float("nan"),
        vote_accuracy_ceiling=float(np.maximum(for_chosen, for_rejected).sum() / total)
        if total
        else float("nan"),
        vote_log_likelihood=per_vote(q),
        vote_log_likelihood_ceiling=per_vote(best),
    )
