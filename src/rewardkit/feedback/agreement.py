"""How far an AI judge agrees with humans, before its labels are trusted.

Against the pairs' human labels: accuracy (an AI tie counts half), Cohen's kappa, position
consistency, and length control (accuracy where the human-preferred response is the longer and
where it is the shorter one, and how often each side prefers the longer response). Where pairs
carry several annotators' votes: the judge against each annotator, and each annotator against the
majority of the others on the same pairs (the ceiling: the annotators' agreement with each other),
and the judge against the majority (``evaluation.metrics.agreement``).

Kappa needs two categories that both raters use, but a pair's human label almost always says
"chosen" (that is how pairs are stored), so "chosen vs rejected" would give kappa 0 whatever the
judge does. Kappa is computed on a label-free orientation instead: the category is whether the
response with the smaller content hash wins, which is "chosen" for a random half of the pairs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rewardkit.aggregation.agreement import kappa_of_labels
from rewardkit.evaluation.metrics import agreement, length_split
from rewardkit.evaluation.metrics.arrays import Floats
from rewardkit.feedback.labeling import PairLabel
from rewardkit.records import Pair, json_safe, render_text


def cohen_kappa(a: Floats, b: Floats) -> float:
    """Cohen's kappa of two binary raters (arrays of 0/1): the label models' kappa."""
    return kappa_of_labels(a.astype(int), b.astype(int))


@dataclass(frozen=True)
class AnnotatorAgreement:
    annotator: str
    votes: int
    judge_agreement: float
    """Share of the annotator's sided votes the judge's side matches."""
    judge_kappa: float
    others_agreement: float
    """Share of the annotator's votes that match the majority of the other annotators on the
    pair (pairs where the others have a strict majority): the human ceiling."""


@dataclass(frozen=True)
class AgreementReport:
    pairs: int
    decided_pairs: int
    """Pairs whose human label prefers a side (P(chosen) != 0.5)."""
    accuracy: float
    kappa: float
    position_consistency: float
    ai_ties: int
    """Pairs the judge labels exactly 0.5 (e.g. the same P(A) whatever the order: it only
    sees positions); they count half in ``accuracy`` and are left out of kappa."""
    unread_calls: int
    ai_prefers_longer: float
    human_prefers_longer: float
    accuracy_human_chose_longer: float
    accuracy_human_chose_shorter: float
    length_controlled_accuracy: float
    multi_annotator_pairs: int
    majority_accuracy: float
    vote_accuracy: float
    vote_accuracy_ceiling: float
    annotators: tuple[AnnotatorAgreement, ...]

    def to_dict(self) -> dict[str, Any]:
        return dict(json_safe(dataclasses.asdict(self)))


def agreement_report(labels: Sequence[PairLabel]) -> AgreementReport:
    ai = np.array([lab.p_chosen for lab in labels], dtype=float)
    human = np.array([lab.pair.p_chosen for lab in labels], dtype=float)
    decided = human != 0.5
    credit = np.where(ai == 0.5, 0.5, ((ai > 0.5) == (human > 0.5)).astype(float))
    both = decided & (ai != 0.5)
    lengths = np.array([_lengths(lab.pair) for lab in labels], dtype=float).reshape(-1, 2)
    flips = np.array([orientation(lab.pair) for lab in labels], dtype=bool)
    human_longer = np.where(human > 0.5, lengths[:, 0], lengths[:, 1])
    human_shorter = np.where(human > 0.5, lengths[:, 1], lengths[:, 0])
    split = length_split(credit[decided], human_longer[decided], human_shorter[decided])
    multi = [i for i, lab in enumerate(labels) if _sided_votes(lab.pair) >= 2]
    votes = agreement(
        ai[multi], *(np.array([labels[i].pair.vote_counts[k] for i in multi]) for k in range(3))
    )
    return AgreementReport(
        pairs=len(labels),
        decided_pairs=int(decided.sum()),
        accuracy=_mean(credit[decided]),
        kappa=cohen_kappa(*(oriented(p[both], flips[both]) for p in (ai, human))),
        position_consistency=_mean(np.array([lab.consistent for lab in labels], dtype=float)),
        ai_ties=int((ai == 0.5).sum()),
        unread_calls=sum(lab.unread for lab in labels),
        ai_prefers_longer=_prefers_longer(ai, lengths),
        human_prefers_longer=_prefers_longer(human, lengths),
        accuracy_human_chose_longer=split.chosen_longer,
        accuracy_human_chose_shorter=split.chosen_shorter,
        length_controlled_accuracy=split.controlled,
        multi_annotator_pairs=len(multi),
        majority_accuracy=votes.majority_accuracy,
        vote_accuracy=votes.vote_accuracy,
        vote_accuracy_ceiling=votes.vote_accuracy_ceiling,
        annotators=per_annotator([labels[i] for i in multi]),
    )


def orientation(pair: Pair) -> bool:
    """True when the rejected response has the smaller content hash (the pair is read flipped)."""
    chosen, rejected = (
        hashlib.sha256(render_text(t).encode()).digest() for t in (pair.chosen, pair.rejected)
    )
    return rejected < chosen


def oriented(p: Floats, flips: Floats) -> Floats:
    """1.0 where the response with the smaller hash is preferred (see the module docstring)."""
    return np.asarray((p > 0.5) != flips, dtype=float)


def per_annotator(labels: Sequence[PairLabel]) -> tuple[AnnotatorAgreement, ...]:
    judge: dict[str, list[tuple[float, float]]] = defaultdict(list)
    others: dict[str, list[float]] = defaultdict(list)
    for lab in labels:
        sided = [v for v in lab.pair.votes if v.verdict != "tie"]
        for k, vote in enumerate(sided):
            says_chosen = float(vote.verdict == "chosen")
            if lab.p_chosen != 0.5:
                flip = orientation(lab.pair)
                judge[vote.annotator].append(
                    (float((lab.p_chosen > 0.5) != flip), float(bool(says_chosen) != flip))
                )
            rest = [v.verdict == "chosen" for j, v in enumerate(sided) if j != k]
            if rest and 2 * sum(rest) != len(rest):
                others[vote.annotator].append(float((2 * sum(rest) > len(rest)) == says_chosen))
    out = []
    for name in sorted(set(judge) | set(others)):
        pairs = np.array(judge[name], dtype=float).reshape(-1, 2)
        out.append(
            AnnotatorAgreement(
                annotator=name,
                votes=len(pairs),
                judge_agreement=_mean(pairs[:, 0] == pairs[:, 1]),
                judge_kappa=cohen_kappa(pairs[:, 0], pairs[:, 1]),
                others_agreement=_mean(np.array(others[name], dtype=float)),
            )
        )
    return tuple(out)


def _sided_votes(pair: Pair) -> int:
    chosen, rejected, _ = pair.vote_counts
    return chosen + rejected


def _lengths(pair: Pair) -> tuple[int, int]:
    return len(render_text(pair.chosen)), len(render_text(pair.rejected))


def _prefers_longer(p: Floats, lengths: Floats) -> float:
    """Share of pairs with a longer side and a preferred side where the longer one is preferred."""
    differ = (lengths[:, 0] != lengths[:, 1]) & (p != 0.5)
    longer_is_chosen = lengths[:, 0] > lengths[:, 1]
    return _mean(((p > 0.5) == longer_is_chosen)[differ].astype(float))


def _mean(values: Floats) -> float:
    return float(np.mean(values)) if values.size else float("nan")
