"""Pairwise and best-of-K accuracy, and RewardBench's subset -> section -> score weighting.

RewardBench v1 (Lambert et al. 2024, "RewardBench: Evaluating Reward Models for Language
Modeling"): a pair is right when r(chosen) > r(rejected), a tie is wrong; a section's score is the
example-weighted mean of its subsets' accuracies; the leaderboard averages sections, with
optional per-subset example counts (math-prm counted as 984 so math weighs as much as code) and
per-section weights (Prior Sets at 0.5). RewardBench 2 (Malik et al. 2025): best-of-K, a prompt
is right when the correct response outscores every other one, with 1/k credit when k responses
tie for the top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rewardkit.evaluation.metrics.arrays import Floats


def pairwise_correct(chosen: npt.ArrayLike, rejected: npt.ArrayLike) -> Floats:
    """1.0 where r(chosen) > r(rejected); ties and missing (NaN) scores count as wrong."""
    c = np.asarray(chosen, dtype=np.float64)
    r = np.asarray(rejected, dtype=np.float64)
    if c.shape != r.shape:
        raise ValueError(f"{c.size} chosen scores but {r.size} rejected")
    return np.asarray(c > r, dtype=np.float64)


def best_of_k_credit(scores: npt.ArrayLike, correct: Sequence[bool]) -> float:
    """Credit for one prompt: the share of correct responses among those tied at the top score
    (1 when a correct response is strictly best, 1/k when k responses tie with one correct).
    A NaN score never wins; all NaN earns nothing."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size != len(correct):
        raise ValueError(f"{values.size} scores but {len(correct)} correctness labels")
    if values.size == 0 or np.isnan(values).all():
        return 0.0
    top = values == np.nanmax(values)
    return float(np.asarray(correct, dtype=bool)[top].sum() / top.sum())


@dataclass(frozen=True)
class Weighting:
    """How subset accuracies become section scores and one overall score."""

    subset_counts: Mapping[str, float] = field(default_factory=dict)
    """Example counts that replace a subset's real count in its section's weighted mean."""
    section_weights: Mapping[str, float] = field(default_factory=dict)
    """Weight of a section in the overall score (default 1)."""
    unweighted_sections: frozenset[str] = frozenset()
    """Sections scored as the plain mean of their subsets, not example-weighted."""


def section_scores(
    subset_accuracy: Mapping[str, float],
    subset_size: Mapping[str, int],
    sections: Mapping[str, Sequence[str]],
    weighting: Weighting = Weighting(),
) -> dict[str, float]:
    """Each section's score from the subsets present; sections with no subset present are left out."""
    scores: dict[str, float] = {}
    for section, subsets in sections.items():
        present = [s for s in subsets if s in subset_accuracy]
        if not present:
            continue
        if section in weighting.unweighted_sections:
            weights = np.ones(len(present))
        else:
            weights = np.array(
                [weighting.subset_counts.get(s, subset_size[s]) for s in present], dtype=float
            )
        values = np.array([subset_accuracy[s] for s in present])
        scores[section] = float(np.average(values, weights=weights))
    return scores


def overall_score(section: Mapping[str, float], weighting: Weighting = Weighting()) -> float:
    """The weighted mean of section scores (RewardBench's leaderboard "Score")."""
    if not section:
        return float("nan")
    weights = np.array([weighting.section_weights.get(s, 1.0) for s in section])
    return float(np.average(np.array(list(section.values())), weights=weights))
