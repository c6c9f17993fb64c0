"""Pairs as token ids, the seeded batch order, and the padded tensors a step consumes.

The order of epoch e is a permutation drawn from (seed, e) alone, so a run resumed at step s
sees exactly the batches an uninterrupted run would, without saving any sampler state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair


@dataclass(frozen=True)
class EncodedPair:
    chosen: list[int]
    rejected: list[int]
    margin: float
    p_chosen: float
    gold_prefers_chosen: bool | None
    """From the synthetic world (or any data that records it): lets evaluation use the gold."""


@dataclass
class EncodedPairs:
    pairs: list[EncodedPair]
    too_long: int
    """Pairs left out because a side is over max_length (reported, never truncated)."""
    lengths: Counter[int]


def encode_pairs(model: RewardModel, pairs: Sequence[Pair], max_length: int) -> EncodedPairs:
    encoded, too_long, lengths = [], 0, Counter[int]()
    for pair in pairs:
        chosen = model.encode(pair.prompt, pair.chosen)
        rejected = model.encode(pair.prompt, pair.rejected)
        if max(len(chosen), len(rejected)) > max_length:
            too_long += 1
            continue
        lengths.update([len(chosen), len(rejected)])
        gold = pair.metadata.get("gold_prefers_chosen")
        encoded.append(
            EncodedPair(
                chosen,
                rejected,
                margin=pair.margin or 0.0,
                p_chosen=1.0 if pair.soft_label is None else pair.soft_label,
                gold_prefers_chosen=gold if isinstance(gold, bool) else None,
            )
        )
    return EncodedPairs(encoded, too_long, lengths)


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Full batches only, so every step (and every process's share) has the same size; the few
    pairs left over differ from epoch to epoch."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def shard(batch: list[int], rank: int, world: int, micro_batches: int) -> list[list[int]]:
    """This process's share of a global batch, cut into its micro-batches."""
    mine = batch[rank::world]
    size = len(mine) // micro_batches
    return [mine[i * size : (i + 1) * size] for i in range(micro_batches)]


def collate_pairs(model: RewardModel, pairs: Sequence[EncodedPair]) -> dict[str, torch.Tensor]:
    """Chosen sequences first, then rejected, padded to the longest of the lot."""
    inputs = model.collate([p.chosen for p in pairs] + [p.rejected for p in pairs])
    inputs["margin"] = torch.tensor([p.margin for p in pairs])
    inputs["p_chosen"] = torch.tensor([p.p_chosen for p in pairs])
    return inputs
