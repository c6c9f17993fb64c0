"""Held-out pair metrics during training: loss, accuracy, margin, and agreement with a gold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from rewardkit.losses import bradley_terry
from rewardkit.models.reward_model import RewardModel
from rewardkit.training.pairs import EncodedPair


@dataclass
class PairMetrics:
    pairs: int
    loss: float
    accuracy: float
    """Share of pairs with r(chosen) > r(rejected); ties count as wrong."""
    margin: float
    """Mean r(chosen) - r(rejected)."""
    gold_accuracy: float | None = None
    """Agreement with the gold preference, where the data records one (the synthetic world)."""

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)

    def prefixed(self, prefix: str) -> dict[str, float]:
        return {prefix + k: float(v) for k, v in asdict(self).items() if v is not None}


def pair_rewards(
    model: RewardModel, pairs: Sequence[EncodedPair], batch_tokens: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    sequences = [p.chosen_ids for p in pairs] + [p.rejected_ids for p in pairs]
    rewards = model.rewards(sequences, batch_tokens)
    return rewards[: len(pairs)], rewards[len(pairs) :]


def evaluate_pairs(model: RewardModel, pairs: Sequence[EncodedPair]) -> PairMetrics:
    if not pairs:
        return PairMetrics(0, float("nan"), float("nan"), float("nan"))
    chosen, rejected = pair_rewards(model, pairs)
    wins = chosen > rejected
    gold = [p.gold_prefers_chosen for p in pairs]
    gold_accuracy = None
    if all(g is not None for g in gold):
        agree = wins == torch.tensor(gold)
        gold_accuracy = float(agree.float().mean())
    return PairMetrics(
        pairs=len(pairs),
        loss=float(bradley_terry(chosen, rejected)),
        accuracy=float(wins.float().mean()),
        margin=float((chosen - rejected).mean()),
        gold_accuracy=gold_accuracy,
    )


def reward_statistics(
    model: RewardModel, pairs: Sequence[EncodedPair], limit: int = 1024
) -> tuple[float, float]:
    """Mean and standard deviation of rewards over (up to ``limit``) training pairs, both sides:
    saved beside the weights so scores can be normalised the same way everywhere."""
    chosen, rejected = pair_rewards(model, pairs[:limit])
    rewards = torch.cat([chosen, rejected])
    std = float(rewards.std()) if len(rewards) > 1 else 1.0
    return float(rewards.mean()), std if std > 0 else 1.0
