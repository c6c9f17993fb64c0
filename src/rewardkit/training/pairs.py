"""Pairs as token ids, the seeded batch order, and the padded tensors a step consumes.

The order of epoch e is a permutation drawn from (seed, e) alone, so a run resumed at step s
sees exactly the batches an uninterrupted run would, without saving any sampler state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rewardkit.models.packing import PackStats, Unit, pack
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair


@dataclass(frozen=True)
class EncodedPair:
    prompt: list[int]
    """Token prefix both sides share (decoders); empty for encoders."""
    chosen: list[int]
    """The chosen side's tokens after the prompt."""
    rejected: list[int]
    margin: float
    p_chosen: float
    gold_prefers_chosen: bool | None
    """From the synthetic world (or any data that records it): lets evaluation use the gold."""

    @property
    def chosen_ids(self) -> list[int]:
        return self.prompt + self.chosen

    @property
    def rejected_ids(self) -> list[int]:
        return self.prompt + self.rejected


@dataclass
class EncodedPairs:
    pairs: list[EncodedPair]
    too_long: int
    """Pairs left out because a side is over max_length (reported, never truncated)."""


def encode_pairs(model: RewardModel, pairs: Sequence[Pair], max_length: int) -> EncodedPairs:
    encoded: list[EncodedPair] = []
    too_long = 0
    for pair in pairs:
        chosen = model.encode_parts(pair.prompt, pair.chosen)
        rejected = model.encode_parts(pair.prompt, pair.rejected)
        if max(len(chosen.ids), len(rejected.ids)) > max_length:
            too_long += 1
            continue
        gold = pair.metadata.get("gold_prefers_chosen")
        shared = chosen.prompt if chosen.prompt == rejected.prompt else []
        encoded.append(
            EncodedPair(
                shared,
                chosen.ids[len(shared) :],
                rejected.ids[len(shared) :],
                margin=pair.margin or 0.0,
                p_chosen=1.0 if pair.soft_label is None else pair.soft_label,
                gold_prefers_chosen=gold if isinstance(gold, bool) else None,
            )
        )
    return EncodedPairs(encoded, too_long)


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


def collate_pairs(
    model: RewardModel, pairs: Sequence[EncodedPair]
) -> tuple[dict[str, torch.Tensor], PackStats]:
    """The plain padded batch: chosen sequences first, then rejected, padded to the longest."""
    inputs = model.collate([p.chosen_ids for p in pairs] + [p.rejected_ids for p in pairs])
    real = sum(len(p.chosen_ids) + len(p.rejected_ids) for p in pairs)
    return inputs, PackStats(real, real, inputs["input_ids"].numel())


def pack_pairs(
    model: RewardModel, pairs: Sequence[EncodedPair]
) -> tuple[dict[str, torch.Tensor], PackStats]:
    """The same rewards from a padding-free batch. Decoders reading the last token encode each
    prompt once for both sides; everything else packs whole sequences. Reads come back in the
    padded batch's order: chosen first, then rejected."""
    causal = model.is_decoder
    sep_id = model.tokenizer.sep_token_id if model.uses_token_types else None
    pad_id = model.tokenizer.pad_token_id or 0
    if causal and model.info.pooling == "last":
        inputs, stats = pack(
            [Unit(p.prompt, [p.chosen, p.rejected]) for p in pairs], causal, pad_id, sep_id
        )
        n = len(pairs)
        order = torch.tensor([2 * i for i in range(n)] + [2 * i + 1 for i in range(n)])
        for key in ("read_rows", "read_starts", "read_ends"):
            inputs[key] = inputs[key][order]
        return inputs, stats
    sequences = [p.chosen_ids for p in pairs] + [p.rejected_ids for p in pairs]
    return pack([Unit([], [s]) for s in sequences], causal, pad_id, sep_id)
