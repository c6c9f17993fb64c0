"""Streaming statistics over records: counts, lengths, ties, annotators and a first agreement figure.

Memory grows with the number of items only through one 4-byte length per text (for exact
quantiles) and a counter per distinct annotator.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardkit.records import KIND_OF, Pair, Ranking, Rating, Record, StepTrace, Text, render_text

LengthOf = Callable[[str], int]


@dataclass
class AgreementTally:
    """Fleiss-style agreement over items with two or more votes (raters may differ per item)."""

    items: int = 0
    agreement_sum: float = 0.0
    categories: Counter[str] = field(default_factory=Counter)
    majority_for_chosen: int = 0

    def add(self, verdicts: list[str]) -> None:
        counts = Counter(verdicts)
        self.categories.update(counts)
        if counts["chosen"] > counts["rejected"]:
            self.majority_for_chosen += 1
        n = len(verdicts)
        if n < 2:
            return
        self.items += 1
        self.agreement_sum += sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))

    def summary(self) -> dict[str, float | int | None]:
        if not self.items:
            return {"items_with_2plus_votes": 0, "pairwise_agreement": None, "fleiss_kappa": None}
        observed = self.agreement_sum / self.items
        # Which side is called "chosen" is arbitrary, so chance agreement treats both sides alike.
        total = sum(self.categories.values())
        side = (self.categories["chosen"] + self.categories["rejected"]) / (2 * total)
        tie = self.categories["tie"] / total
        expected = 2 * side**2 + tie**2
        kappa = (observed - expected) / (1 - expected) if expected < 1 else None
        return {
            "items_with_2plus_votes": self.items,
            "pairwise_agreement": round(observed, 4),
            "fleiss_kappa": None if kappa is None else round(kappa, 4),
        }


@dataclass
class DataStats:
    length_unit: str = "characters"
    kinds: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    lengths: dict[str, array[int]] = field(default_factory=dict)
    chosen_longer: int = 0
    same_length: int = 0
    ties: int = 0
    with_votes: int = 0
    with_soft_label: int = 0
    with_margin: int = 0
    votes_per_item: Counter[int] = field(default_factory=Counter)
    votes_per_annotator: Counter[str] = field(default_factory=Counter)
    agreement: AgreementTally = field(default_factory=AgreementTally)
    step_labels: Counter[str] = field(default_factory=Counter)
    attributes: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        pairs = self.kinds.get("pair", 0)
        return {
            "records": sum(self.kinds.values()),
            "kinds": dict(self.kinds),
            "sources": dict(self.sources.most_common(20)),
            "length_unit": self.length_unit,
            "lengths": {name: describe(values) for name, values in self.lengths.items()},
            "pairs": {
                "chosen_longer": _share(self.chosen_longer, pairs),
                "same_length": _share(self.same_length, pairs),
                "ties": self.ties,
                "with_votes": self.with_votes,
                "with_soft_label": self.with_soft_label,
                "with_margin": self.with_margin,
            }
            if pairs
            else None,
            "annotators": {
                "distinct": len(self.votes_per_annotator),
                "votes_per_item": dict(sorted(self.votes_per_item.items())),
                "most_active": dict(self.votes_per_annotator.most_common(10)),
                "agreement": self.agreement.summary(),
                "majority_for_chosen": _share(self.agreement.majority_for_chosen, self.with_votes),
            }
            if self.with_votes
            else None,
            "step_labels": dict(self.step_labels) or None,
            "rating_attributes": dict(self.attributes) or None,
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def describe(values: array[int]) -> dict[str, float]:
    data = np.frombuffer(values, dtype=np.uint32) if len(values) else np.zeros(1, dtype=np.uint32)
    q = np.percentile(data, [50, 90, 99])
    return {
        "n": len(values),
        "mean": round(float(data.mean()), 1),
        "min": int(data.min()),
        "p50": float(q[0]),
        "p90": float(q[1]),
        "p99": float(q[2]),
        "max": int(data.max()),
    }


def compute_stats(
    records: Iterable[Record], length_of: LengthOf = len, length_unit: str = "characters"
) -> DataStats:
    stats = DataStats(length_unit=length_unit)

    def measure(name: str, text: Text) -> int:
        n = length_of(render_text(text))
        stats.lengths.setdefault(name, array("I")).append(n)
        return n

    for record in records:
        stats.kinds[KIND_OF[type(record)]] += 1
        source = getattr(record, "source", None)
        if source:
            stats.sources[source] += 1
        if isinstance(record, Pair):
            _add_pair(stats, record, measure)
        elif isinstance(record, Ranking):
            measure("prompt", record.prompt)
            for response in record.responses:
                measure("response", response)
        elif isinstance(record, Rating):
            measure("prompt", record.prompt)
            measure("response", record.response)
            stats.attributes.update(record.attributes.keys())
        elif isinstance(record, StepTrace):
            measure("prompt", record.prompt)
            stats.lengths.setdefault("steps_per_trace", array("I")).append(len(record.steps))
            stats.step_labels.update("unlabelled" if v is None else f"{v:g}" for v in record.labels)
    return stats


def _add_pair(stats: DataStats, pair: Pair, measure: Callable[[str, Text], int]) -> None:
    measure("prompt", pair.prompt)
    chosen, rejected = measure("chosen", pair.chosen), measure("rejected", pair.rejected)
    stats.chosen_longer += chosen > rejected
    stats.same_length += chosen == rejected
    stats.ties += pair.is_tie
    stats.with_soft_label += pair.soft_label is not None
    stats.with_margin += pair.margin is not None
    if pair.votes:
        stats.with_votes += 1
        stats.votes_per_item[len(pair.votes)] += 1
        stats.votes_per_annotator.update(v.annotator for v in pair.votes)
        stats.agreement.add([v.verdict for v in pair.votes])
