"""Training examples as token ids with their targets, the seeded batch order, and the batches
a step consumes.

An example is one batch unit (``packing.Unit``) and what its record says: a pair (a shared
prefix with the chosen and the rejected branch, P(chosen) and a margin), a rated response (one
branch, a rating per objective) or a worked solution (one branch read at each step, a label per
step). ``targets`` turns a batch of them into the loss's ``Targets``: the one place where
records become training targets.

The order of epoch e is a permutation drawn from (seed, e) alone, so a run resumed at step s
sees exactly the batches an uninterrupted run would, without saving any sampler state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import torch

from rewardkit.data.formats.steps import Neutral, step_probability
from rewardkit.losses import Targets
from rewardkit.models.inputs import TooLong, UnscorableText
from rewardkit.models.packing import Unit
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair, Rating, StepTrace, render_text
from rewardkit.scoring import Overflow
from rewardkit.training.config import Kind

Record = Pair | Rating | StepTrace


@dataclass(frozen=True)
class Example:
    unit: Unit
    kind: Kind
    p_chosen: float = 1.0
    margin: float = 0.0
    ratings: tuple[float, ...] = ()
    """Per objective of the model, NaN where the record has no rating."""
    step_labels: tuple[float, ...] = ()
    """P(step is right) per step, NaN where unlabelled."""
    gold_prefers_chosen: bool | None = None
    """From the synthetic world (or any data that records it): lets evaluation use the gold."""
    weight: float = 1.0
    """How much the pair counts in the loss (the record's weight times its source's)."""
    lengths: tuple[float, ...] = ()
    """Each branch's response length in characters (chosen, rejected): for length-aware losses."""


@dataclass
class EncodedExamples:
    examples: list[Example]
    too_long: int
    """Examples left out because a sequence is over max_length (and not shortened)."""
    unscorable: int = 0
    """Examples left out because the head cannot read them (e.g. a trace with an empty step)."""
    truncated: int = 0
    """Examples kept with their prompt shortened (overflow=truncate_prompt)."""

    parts: list[tuple[str, int]] = field(default_factory=list)
    """Where the examples came from several eval files: each one's name and example count, in
    order (``evaluate`` reports each)."""

    @classmethod
    def joined(cls, named: Sequence[tuple[str, EncodedExamples]]) -> EncodedExamples:
        sets = [encoded for _, encoded in named]
        return cls(
            [example for encoded in sets for example in encoded.examples],
            sum(encoded.too_long for encoded in sets),
            sum(encoded.unscorable for encoded in sets),
            sum(encoded.truncated for encoded in sets),
            [(name, len(encoded.examples)) for name, encoded in named],
        )


def encode_record(
    model: RewardModel,
    record: Record,
    soft_labels: bool = True,
    use_margin: bool = False,
    neutral: Neutral = "positive",
    max_length: int | None = None,
    overflow: Overflow = "flag",
    label_smoothing: float = 0.0,
) -> tuple[Example, int]:
    """The record's example and the prompt tokens left out to fit ``max_length`` (by the
    overflow policy; step traces are never cut); raises ``TooLong`` and ``UnscorableText``."""
    if isinstance(record, StepTrace):
        encoded = model.encode_steps(record.prompt, list(record.steps))
        labels = tuple(step_probability(x, neutral) for x in record.labels)  # soft stay floats
        example = Example(model.unit(encoded), "steps", step_labels=labels)
        if max_length is not None and example.unit.longest > max_length:
            raise TooLong(example.unit.longest, max_length)
        return example, 0
    responses = [record.chosen, record.rejected] if isinstance(record, Pair) else [record.response]
    fitted = model.encode_within(record.prompt, responses, overflow, max_length)
    if isinstance(record, Rating):
        ratings = tuple(
            float(record.attributes.get(name, math.nan)) for name in model.info.objectives
        )
        return Example(model.unit(fitted.encoded[0]), "rating", ratings=ratings), fitted.dropped
    chosen, rejected = fitted.encoded
    shared = chosen.prefix if chosen.prefix == rejected.prefix else []
    gold = record.metadata.get("gold_prefers_chosen")
    pair = Example(
        Unit(shared, [chosen.ids[len(shared) :], rejected.ids[len(shared) :]]),
        "pair",
        p_chosen=smoothed(record.p_chosen if soft_labels else 1.0, label_smoothing),
        margin=(record.margin or 0.0) if use_margin else 0.0,
        gold_prefers_chosen=gold if isinstance(gold, bool) else None,
        weight=1.0 if record.weight is None else record.weight,
        lengths=(len(render_text(record.chosen)), len(render_text(record.rejected))),
    )
    return pair, fitted.dropped


def smoothed(p_chosen: float, label_smoothing: float) -> float:
    """Label smoothing of a pair's target toward a tie (Szegedy et al. 2016, for two classes)."""
    return p_chosen * (1.0 - label_smoothing) + label_smoothing / 2


def encode_examples(
    model: RewardModel,
    records: Sequence[Record],
    max_length: int,
    soft_labels: bool = True,
    use_margin: bool = False,
    neutral: Neutral = "positive",
    overflow: Overflow = "flag",
    label_smoothing: float = 0.0,
) -> EncodedExamples:
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    examples: list[Example] = []
    too_long = unscorable = truncated = 0
    for record in records:
        try:
            example, dropped = encode_record(
                model,
                record,
                soft_labels,
                use_margin,
                neutral,
                max_length,
                overflow,
                label_smoothing,
            )
        except UnscorableText:
            unscorable += 1
            continue
        except TooLong:
            too_long += 1
            continue
        truncated += dropped > 0
        examples.append(example)
    kinds = {e.kind for e in examples}
    if len(kinds) > 1:
        raise ValueError(f"one kind of record per run, got {sorted(kinds)}")
    return EncodedExamples(examples, too_long, unscorable, truncated)


def targets(examples: Sequence[Example], device: torch.device | str = "cpu") -> Targets:
    """The batch's targets, in the reads' order."""
    kind = examples[0].kind

    def tensor(values: list[float] | list[tuple[float, ...]]) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32, device=device)

    if kind == "pair":
        weights = [e.weight for e in examples]
        return Targets(
            p_chosen=tensor([e.p_chosen for e in examples]),
            margin=tensor([e.margin for e in examples]),
            lengths=tensor([x for e in examples for x in e.lengths]),
            weights=None if all(w == 1.0 for w in weights) else tensor(weights),
        )
    if kind == "rating":
        return Targets(ratings=tensor([e.ratings for e in examples]))
    return Targets(step_labels=tensor([x for e in examples for x in e.step_labels]))


@lru_cache(maxsize=1)  # every step of an epoch asks for the same order
def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Full batches only, so every step (and every process's share) has the same size; the few
    examples left over differ from epoch to epoch."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


def shard(batch: list[int], rank: int, world: int, micro_batches: int) -> list[list[int]]:
    """This process's share of a global batch, cut into its micro-batches."""
    mine = batch[rank::world]
    size = len(mine) // micro_batches
    return [mine[i * size : (i + 1) * size] for i in range(micro_batches)]
