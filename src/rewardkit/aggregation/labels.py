"""From a fitted label model to training records: each voted pair gets the aggregated
P(chosen) as its ``soft_label`` (a tie counting one half, so a tie is P = 0.5: equal rewards
under soft Bradley-Terry), a confidence (the posterior's largest class probability), optionally
that confidence as its ``weight``, and the label model's name and numbers in its metadata. Pairs
are dropped only when the user asks (ties, low confidence, no votes)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rewardkit.aggregation.table import TIE, Floats, p_chosen
from rewardkit.records import Pair


@dataclass(frozen=True)
class DropRules:
    ties: bool = False
    """Drop pairs whose most probable aggregated label is a tie."""
    min_confidence: float = 0.0
    """Drop pairs whose label confidence is below this."""
    unvoted: bool = False
    """Drop pairs without votes (kept unchanged otherwise: a hard label for chosen)."""


def labelled_pairs(
    pairs: Sequence[Pair],
    proba: Floats,
    label_model: str,
    confidence_weights: bool = False,
    drop: DropRules = DropRules(),
) -> tuple[list[Pair], Counter[str]]:
    """The pairs to write and how many were dropped, per reason."""
    if proba.shape != (len(pairs), 3):
        raise ValueError(f"{proba.shape[0]} posteriors for {len(pairs)} pairs")
    p = p_chosen(proba)
    confidence = proba.max(axis=1)
    dropped: Counter[str] = Counter()
    out = []
    for i, pair in enumerate(pairs):
        if not pair.votes:
            if drop.unvoted:
                dropped["unvoted"] += 1
            else:
                out.append(pair)
            continue
        if drop.ties and int(np.argmax(proba[i])) == TIE:
            dropped["tie"] += 1
            continue
        if confidence[i] < drop.min_confidence:
            dropped["low_confidence"] += 1
            continue
        own = 1.0 if pair.weight is None else pair.weight
        weight = round(float(confidence[i]) * own, 6) if confidence_weights else pair.weight
        provenance = {
            "label_model": label_model,
            "p_chosen": round(float(p[i]), 6),
            "p_tie": round(float(proba[i, TIE]), 6),
            "confidence": round(float(confidence[i]), 6),
            "vote_p_chosen": round(pair.p_chosen, 6),
        }
        out.append(
            replace(
                pair,
                soft_label=round(float(p[i]), 6),
                weight=weight,
                metadata={**pair.metadata, "aggregation": provenance},
            )
        )
    return out, dropped
