"""What the scheduler runs: items prepared as token ids, and the model that scores a batch of them.

``ModelBackend`` wraps a ``RewardModel``. Decoder models that allow it run packed batches in
which every distinct prompt is encoded once and each response attends to its prompt and itself
(``models.packing``, the mechanism of fast training): a GRPO group of eight responses to one long
prompt costs one prompt, not eight. Other models run padded batches in length order (measured on
CPU: for short independent items, small length-sorted padded batches beat packed rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from rewardkit.models.inputs import Encoded
from rewardkit.models.packing import Unit
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Text, render_text


@dataclass(frozen=True)
class Prepared:
    prefix: tuple[int, ...]
    """Prompt tokens that responses may share (decoders); empty otherwise."""
    rest: tuple[int, ...]
    dropped: int = 0
    """Prompt tokens cut from the left to fit the limit (0: nothing was cut)."""
    marks: tuple[int, ...] | None = None
    """Per-step heads: where each step ends in ``rest``."""

    @property
    def length(self) -> int:
        return len(self.prefix) + len(self.rest)


@dataclass(frozen=True)
class Reading:
    """One item's score and its head kind's own fields (objectives, steps, spread)."""

    score: float
    fields: Mapping[str, Any] = field(default_factory=dict)


FAILED = Reading(float("nan"))


class ItemTooLong(ValueError):
    def __init__(self, tokens: int, limit: int, reason: str = "") -> None:
        super().__init__(f"{tokens} tokens, over the limit of {limit}{reason}")
        self.tokens = tokens
        self.limit = limit


class CostMeter:
    """Tokens a growing batch computes: padded rows (count x longest), or packed tokens with each
    distinct prompt once. Kept incrementally, so cutting a window into batches stays linear."""

    def __init__(self, packed: bool) -> None:
        self.packs = packed
        self.count = 0
        self.longest = 0
        self.packed = 0
        self.prompts: set[tuple[int, ...]] = set()

    def with_item(self, item: Prepared) -> int:
        if not self.packs:
            return (self.count + 1) * max(self.longest, item.length)
        new_prompt = 0 if item.prefix in self.prompts else len(item.prefix)
        return self.packed + new_prompt + len(item.rest)

    def add(self, item: Prepared) -> None:
        if self.packs:
            self.packed = self.with_item(item)
            self.prompts.add(item.prefix)
        self.count += 1
        self.longest = max(self.longest, item.length)

    @property
    def total(self) -> int:
        return self.packed if self.packs else self.count * self.longest


class ModelBackend:
    def __init__(
        self,
        model: RewardModel,
        max_tokens: int | None = None,
        overflow: Literal["reject", "truncate_left"] = "reject",
        shared_prompt: bool = True,
    ) -> None:
        self.model = model.eval()
        self.limit = min(max_tokens or model.info.max_length, model.info.max_length)
        self.overflow = overflow
        self.shares_prompt = (
            shared_prompt
            and model.is_decoder
            and model.info.pooling == "last"
            and model.supports_packing
        )
        self.device = next(model.parameters()).device

    # ---- preparing items (tokenisation; runs off the event loop) ----------------------------

    def prepare(self, prompt: Text, response: Text) -> Prepared:
        encoded = self.model.encode_parts(prompt, response)
        prefix, rest = encoded.prefix, encoded.rest  # no prefix: encoders, unsplit chats
        total = len(prefix) + len(rest)
        if total <= self.limit:
            return Prepared(tuple(prefix), tuple(rest), marks=encoded.marks)
        if self.overflow == "reject":
            raise ItemTooLong(total, self.limit)
        return self._cut_prompt(prompt, response, encoded, total)

    def _cut_prompt(self, prompt: Text, response: Text, encoded: Encoded, total: int) -> Prepared:
        prefix, rest = encoded.prefix, encoded.rest
        if self.model.is_decoder and prefix:  # the response (and its step marks) stays whole
            keep = self.limit - len(rest)
            if keep < 1:
                raise ItemTooLong(total, self.limit, ": the response alone is too long")
            return Prepared(tuple(prefix[-keep:]), tuple(rest), len(prefix) - keep, encoded.marks)
        if encoded.marks is not None:  # an encoder's step marks count from the sequence's start
            raise ItemTooLong(total, self.limit, ": per-step encoder inputs are never cut")
        # a sentence pair: the tokenizer cuts the first text (the prompt) from its left side
        tokenizer = self.model.tokenizer
        side = tokenizer.truncation_side
        tokenizer.truncation_side = "left"
        try:
            ids = tokenizer(
                render_text(prompt),
                render_text(response),
                truncation="only_first",
                max_length=self.limit,
            )["input_ids"]
        except Exception as exc:  # the tokenizer refuses when the response alone is too long
            raise ItemTooLong(total, self.limit, ": the response alone is too long") from exc
        finally:
            tokenizer.truncation_side = side
        return Prepared((), tuple(ids), dropped=total - len(ids))

    def split_query(self, query: str, prompt: str) -> tuple[str, str]:
        """OpenRLHF sends prompt + response as one decoded string, often ending in the EOS text;
        the prompt is split off when it is a prefix, and a trailing EOS is dropped (it is
        appended again by the encoding)."""
        eos = self.model.tokenizer.eos_token
        while eos and query.endswith(eos):
            query = query[: -len(eos)]
        if prompt and query.startswith(prompt):
            return prompt, query[len(prompt) :]
        return "", query

    # ---- scoring a batch (runs in the scheduler's worker thread) ----------------------------

    def sort_key(self, item: Prepared) -> tuple[int, tuple[int, ...], int]:
        """Length order; with shared prompts, responses to one prompt stay side by side."""
        if self.shares_prompt:
            return (len(item.prefix), item.prefix, len(item.rest))
        return (item.length, (), 0)

    def meter(self) -> CostMeter:
        return CostMeter(self.shares_prompt)

    @torch.inference_mode()
    def run(self, items: Sequence[Prepared]) -> list[Reading]:
        """Each item's reading, in the items' order, from one forward pass."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, item in enumerate(items):
            # with shared prompts, one unit per prompt and a branch per response
            key = item.prefix if self.shares_prompt else (index,)
            groups.setdefault(key, []).append(index)
        units = [_unit([items[i] for i in members]) for members in groups.values()]
        inputs, _ = self.model.batch(units, packed=self.shares_prompt)
        values = self.model(**{k: v.to(self.device) for k, v in inputs.items()}).float().cpu()
        per_item = [
            reads
            for unit, chunk in zip(units, self.model.split_reads(values, units), strict=True)
            for reads in _branch_reads(unit, chunk)
        ]
        order = [i for members in groups.values() for i in members]
        out = [FAILED] * len(items)
        for index, reads in zip(order, per_item, strict=True):
            score, fields = self.model.summarize(reads)
            out[index] = Reading(score, fields)
        return out

    def warm_up(self, batch_tokens: int) -> None:
        """The largest shapes once (a full-width batch at the token budget), so the first real
        request does not pay for allocator growth and kernel selection."""
        width = self.limit
        rows = max(1, batch_tokens // width)
        filler = self.model.tokenizer.convert_tokens_to_ids(self.model.tokenizer.unk_token or "a")
        item = Prepared((), tuple([filler if isinstance(filler, int) else 1] * width))
        self.run([item] * rows)


def _unit(items: Sequence[Prepared]) -> Unit:
    """Items that share a prompt prefix (or one item alone) as one batch unit."""
    marks = None if items[0].marks is None else [item.marks or () for item in items]
    return Unit(list(items[0].prefix), [list(item.rest) for item in items], marks)


def _branch_reads(unit: Unit, reads: torch.Tensor) -> list[torch.Tensor]:
    """A unit's reads cut per branch (one each, or one per step)."""
    return list(torch.split(reads, unit.read_counts()))
