"""Fitting a reward model's out-of-distribution detector and measuring how well it separates.

    split = fit_ood(model, train_items, heldout_items)        # (prompt, response) lists
    split.detector.save(model_dir)                              # the server returns its score
    check = separation(split.detector, model, heldout_items, other_items)
    check.auroc                                                 # 1: every other-source item farther

The detector itself (Mahalanobis on pooled features, calibrated on held-out data) lives in
``models.ood`` so the server, which may import only models, can load it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rewardkit.evaluation.metrics.length import average_ranks
from rewardkit.models.ood import MahalanobisOod, fit_mahalanobis, pooled_features
from rewardkit.models.reward_model import RewardModel
from rewardkit.scoring import BATCH_TOKENS

Items = Sequence[tuple[str, str]]
"""(prompt, response) pairs."""


def auroc(inside: npt.ArrayLike, outside: npt.ArrayLike) -> float:
    """P(an outside score > an inside score), ties counting 1/2 (Mann-Whitney U / n m)."""
    a, b = np.asarray(inside, dtype=np.float64), np.asarray(outside, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise ValueError(f"AUROC needs both groups: {a.size} inside, {b.size} outside")
    ranks = average_ranks(np.concatenate([a, b]))
    u = ranks[a.size :].sum() - b.size * (b.size + 1) / 2
    return float(u / (a.size * b.size))


def features_of(
    model: RewardModel, items: Items, batch_tokens: int = BATCH_TOKENS
) -> npt.NDArray[np.float64]:
    prompts, responses = [p for p, _ in items], [r for _, r in items]
    return pooled_features(model, prompts, responses, batch_tokens, progress=True).double().numpy()


def fit_ood(
    model: RewardModel,
    train: Items,
    heldout: Items,
    quantile: float = 0.95,
    shrinkage: float = 0.1,
    batch_tokens: int = BATCH_TOKENS,
) -> MahalanobisOod:
    import torch

    return fit_mahalanobis(
        torch.from_numpy(features_of(model, train, batch_tokens)),
        torch.from_numpy(features_of(model, heldout, batch_tokens)),
        quantile,
        shrinkage,
    )


@dataclass(frozen=True)
class Separation:
    inside: npt.NDArray[np.float64]
    """OOD scores of held-out in-distribution items."""
    outside: npt.NDArray[np.float64]
    """OOD scores of the other source's items."""
    auroc: float

    @property
    def false_alarms(self) -> float:
        """Share of in-distribution items scored above 1."""
        return float((self.inside > 1).mean())

    @property
    def detected(self) -> float:
        """Share of other-source items scored above 1."""
        return float((self.outside > 1).mean())


def separation(
    detector: MahalanobisOod,
    model: RewardModel,
    inside: Items,
    outside: Items,
    batch_tokens: int = BATCH_TOKENS,
) -> Separation:
    """Scores of both groups (items the model cannot read, over its length limit, left out)."""
    import torch

    def scores(items: Items) -> npt.NDArray[np.float64]:
        features = torch.from_numpy(features_of(model, items, batch_tokens))
        values = detector.score(features[torch.isfinite(features).all(dim=1)])
        return values.numpy()

    a, b = scores(inside), scores(outside)
    return Separation(a, b, auroc(a, b))
