"""Per-annotator reliability and biases: how often each agrees with the label model and with the
rest of the panel, how often they call a tie, and whether they lean toward the longer response or
toward the side shown first, each with a bootstrap interval over their votes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rewardkit.aggregation.agreement import Statistic, bootstrap_interval
from rewardkit.aggregation.table import CHOSEN, REJECTED, TIE, Floats, VoteTable


@dataclass(frozen=True)
class AnnotatorReport:
    annotator: str
    votes: int
    tie_rate: float
    reliability: Statistic
    """Mean posterior probability of the label they gave (agreement with the label model)."""
    agrees_with_others: Statistic
    """Share of their votes that match the majority of the other votes on the task (tasks where
    the others have a strict majority)."""
    prefers_longer: Statistic
    """Share of their sided votes, on pairs of unequal length, that pick the longer response."""
    prefers_first: Statistic
    """Share of their sided votes that pick the side shown first (where positions are known)."""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"annotator": self.annotator, "votes": self.votes}
        out["tie_rate"] = round(self.tie_rate, 4)
        for name in ("reliability", "agrees_with_others", "prefers_longer", "prefers_first"):
            out[name] = getattr(self, name).to_dict()
        return out


def _share(hits: Floats, seed: int, resamples: int) -> Statistic:
    if not hits.size:
        return Statistic(float("nan"), float("nan"), float("nan"))
    low, high = bootstrap_interval(lambda i: float(hits[i].mean()), hits.size, resamples, seed)
    return Statistic(float(hits.mean()), low, high)


def others_majority(table: VoteTable) -> np.ndarray:
    """Per vote: the strict majority label of the *other* votes on its task, -1 where none."""
    counts = table.counts()
    others = counts[table.task].copy()
    others[np.arange(table.task.size), table.label] -= 1
    top = others.argmax(axis=1)
    strict = (others == others.max(axis=1, keepdims=True)).sum(axis=1) == 1
    return np.where(strict & (others.sum(axis=1) > 0), top, -1)


def annotator_reports(
    table: VoteTable,
    proba: Floats,
    chosen_longer: Floats | None = None,
    resamples: int = 200,
    seed: int = 0,
) -> list[AnnotatorReport]:
    """One report per annotator of ``table``; ``proba`` is the label model's (tasks, 3)
    posterior; ``chosen_longer`` per task is +1 / -1 / 0 (``table.chosen_is_longer(pairs)``)."""
    majority = others_majority(table)
    posterior_of_vote = proba[table.task, table.label]
    sided = table.label != TIE
    longer = np.zeros(table.n_tasks) if chosen_longer is None else chosen_longer
    vote_longer = longer[table.task]
    picks = np.where(table.label == CHOSEN, 1.0, np.where(table.label == REJECTED, -1.0, 0.0))
    out = []
    for j, name in enumerate(table.annotators):
        mine = table.annotator == j
        with_majority = mine & (majority >= 0)
        length_votes = mine & sided & (vote_longer != 0)
        position_votes = mine & sided & (table.positions != 0)
        out.append(
            AnnotatorReport(
                annotator=name,
                votes=int(mine.sum()),
                tie_rate=float((table.label[mine] == TIE).mean()) if mine.any() else float("nan"),
                reliability=_share(posterior_of_vote[mine], seed, resamples),
                agrees_with_others=_share(
                    (table.label[with_majority] == majority[with_majority]).astype(float),
                    seed,
                    resamples,
                ),
                prefers_longer=_share(
                    (picks[length_votes] == vote_longer[length_votes]).astype(float),
                    seed,
                    resamples,
                ),
                prefers_first=_share(
                    (picks[position_votes] == table.positions[position_votes]).astype(float),
                    seed,
                    resamples,
                ),
            )
        )
    return out
