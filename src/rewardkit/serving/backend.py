"""What the scheduler runs: items prepared as token ids, and the model that scores a batch of them.

``ModelBackend`` wraps a ``RewardModel``. Decoder models that allow it run packed batches in
which every distinct prompt is encoded once and each response attends to its prompt and itself
(``models.packing``, the mechanism of fast training): a GRPO group of eight responses to one long
prompt costs one prompt, not eight. Other models run padded batches in length order (measured on
CPU: for short independent items, small length-sorted padded batches beat packed rows).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

from rewardkit.models.gate import embed_prompts, prompt_ids
from rewardkit.models.inputs import Encoded, TooLong, UnscorableText
from rewardkit.models.ood import MahalanobisOod
from rewardkit.models.packing import Unit
from rewardkit.models.precision import autocast
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Text
from rewardkit.scoring import Overflow, Precision


@dataclass(frozen=True)
class Prepared:
    prefix: tuple[int, ...]
    """Prompt tokens that responses may share (decoders); empty otherwise."""
    rest: tuple[int, ...]
    dropped: int = 0
    """Prompt tokens left out to fit the limit (0: nothing was cut)."""
    marks: tuple[int, ...] | None = None
    """Per-step heads: where each step ends in ``rest``."""
    gate_ids: tuple[int, ...] | None = None
    """Models with a gate: the prompt alone, which the gate reads (``models.gate``)."""

    @property
    def length(self) -> int:
        return len(self.prefix) + len(self.rest)


@dataclass(frozen=True)
class Reading:
    """One item's score and its head kind's own fields (objectives, steps, spread)."""

    score: float
    fields: Mapping[str, Any] = field(default_factory=dict)


FAILED = Reading(float("nan"))


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
        overflow: Overflow = "flag",
        shared_prompt: bool = True,
        precision: Precision = "auto",
        ood: MahalanobisOod | None = None,
    ) -> None:
        self.model = model.eval()
        self.precision = precision
        self.ood = ood
        """Where the model has one (``models.ood``), each item's ``ood`` score is returned."""
        self.limit = min(max_tokens or model.info.max_length, model.info.max_length)
        self.overflow = overflow
        self.shares_prompt = (
            shared_prompt
            and model.is_decoder
            and model.info.pooling == "last"
            and model.supports_packing
        )
        self.device = next(model.parameters()).device
        self._one_pass_at_a_time = threading.Lock()

    # ---- preparing items (tokenisation; runs off the event loop) ----------------------------

    def prepare(self, prompt: Text, response: Text) -> Prepared:
        fitted = self.model.encode_within(prompt, [response], self.overflow, self.limit)
        return self._prepared(prompt, fitted.encoded[0], fitted.dropped)

    def prepare_many(self, pairs: Sequence[tuple[Text, Text]]) -> list[Prepared | ValueError]:
        """``prepare`` for a request's items, plain text tokenized in one batched call; an item
        that cannot be scored gets its error (``TooLong``, ``UnscorableText``)."""
        encoded = self.model.encode_many([p for p, _ in pairs], [r for _, r in pairs])
        out: list[Prepared | ValueError] = []
        for item, (prompt, response) in zip(encoded, pairs, strict=True):
            if isinstance(item, UnscorableText):
                out.append(item)
                continue
            try:  # over the limit: the overflow policy decides
                fits = len(item.ids) <= self.limit
                out.append(self._prepared(prompt, item) if fits else self.prepare(prompt, response))
            except TooLong as exc:
                out.append(exc)
        return out

    def _prepared(self, prompt: Text, encoded: Encoded, dropped: int = 0) -> Prepared:
        # no prefix: encoders, unsplit chats
        gate_ids = None if self.model.gate is None else prompt_ids(self.model, prompt)
        return Prepared(
            tuple(encoded.prefix), tuple(encoded.rest), dropped, encoded.marks, gate_ids
        )

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

    # ---- scoring a batch (runs in the scheduler's worker threads) ---------------------------

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
        # shared prompts (decoders) or sequences end to end (encoders): no padding computed
        inputs, _ = self.model.batch(units, packed=self.shares_prompt or self.model.spans_attention)
        # the OOD score reads the vectors the head reads: the same forward pass. Its hook sees
        # every pass through the head, so with an OOD detector the workers take turns
        capture: AbstractContextManager[list[torch.Tensor]] = (
            nullcontext([]) if self.ood is None else self.model.head_inputs()
        )
        turn = nullcontext() if self.ood is None else self._one_pass_at_a_time
        with turn, autocast(self.device, self.precision, self.model.weight_dtype), capture as seen:
            values = self.model(**{k: v.to(self.device) for k, v in inputs.items()}).float().cpu()
        if self.ood is not None:  # carried as a last column through the same splits
            values = torch.cat([values, self.ood.score(seen[0].float().cpu())[:, None].float()], 1)
        per_item = [
            reads
            for unit, chunk in zip(units, self.model.split_reads(values, units), strict=True)
            for reads in _branch_reads(unit, chunk)
        ]
        order = [i for members in groups.values() for i in members]
        out = [FAILED] * len(items)
        mixes = self._gate_weights(items)
        for index, reads in zip(order, per_item, strict=True):
            ood = {} if self.ood is None else {"ood": float(reads[-1, -1])}
            head = reads if self.ood is None else reads[:, :-1]
            score, fields = self.model.summarize(head, mixes[index])
            out[index] = Reading(score, {**fields, **ood})
        return out

    def _gate_weights(self, items: Sequence[Prepared]) -> list[list[float] | None]:
        """Each item's combination weights from the model's gate (None without one)."""
        gate = self.model.gate
        if gate is None:
            return [None] * len(items)
        # an item prepared without a prompt (the warm-up's) lets the gate read its own tokens
        prompts = [item.gate_ids or item.rest for item in items]
        weights: torch.Tensor = gate(embed_prompts(self.model, prompts))
        return weights.double().tolist()

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
