"""Padding-free batches: sequences packed into rows, each attending only within itself.

A *unit* is a shared prefix and its branches. For a decoder pair the prefix is the prompt and the
branches are the chosen and rejected responses: the prompt is encoded once, each response sees
the prompt and itself (causally) but never the other response, and its position ids continue
from the end of the prompt, exactly as if it had been encoded alone after the prompt. Without a
prefix a unit is one plain sequence (an encoder's sentence pair, bidirectional inside itself).

Units are placed into rows as wide as the longest unit (first fit, longest first), so a row never
costs more attention than the padded batch would, and a custom 4D mask keeps units apart. The
rewards are read at each branch's span (its last token for decoders, its first token or the mean
of its tokens for encoders); a branch with ``marks`` is read at each marked position instead
(per-step heads), as spans that end just after the mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Unit:
    prefix: list[int]
    branches: list[list[int]]
    marks: list[tuple[int, ...]] | None = None
    """Per branch, the positions (in the branch) to read; None: one read per branch."""

    @property
    def longest(self) -> int:
        """The longest sequence in the unit: its prefix and its longest branch."""
        return len(self.prefix) + max(map(len, self.branches))

    def read_counts(self) -> list[int]:
        """How many outputs each branch is read at: one, or one per mark."""
        return [1] * len(self.branches) if self.marks is None else list(map(len, self.marks))

    def reads(self, branch: int, start: int) -> list[tuple[int, int]]:
        """(start, end) spans of the reads of one branch laid out at ``start``."""
        if self.marks is None:
            return [(start, start + len(self.branches[branch]))]
        return [(start, start + m + 1) for m in self.marks[branch]]

    def unshared(self) -> list[Unit]:
        """The same reads with the prefix copied into each branch (one unit per branch)."""
        if len(self.branches) == 1 and not self.prefix:
            return [self]
        shift = len(self.prefix)
        return [
            Unit(
                [],
                [self.prefix + branch],
                None if self.marks is None else [tuple(m + shift for m in self.marks[b])],
            )
            for b, branch in enumerate(self.branches)
        ]

    @property
    def size(self) -> int:
        return len(self.prefix) + sum(len(b) for b in self.branches)


@dataclass
class PackStats:
    real_tokens: int
    """Tokens of the sequences themselves (a shared prefix counted once per branch): the work a
    padded batch does without its padding."""
    computed_tokens: int
    """Real tokens actually run (a shared prefix once)."""
    slots: int
    """Row positions computed, padding included."""

    @property
    def padding(self) -> float:
        return 1 - self.computed_tokens / self.slots if self.slots else 0.0


def place(units: Sequence[Unit]) -> tuple[list[list[int]], int]:
    """Rows (lists of unit indices) by first-fit decreasing, and the row width."""
    width = max(u.size for u in units)
    rows: list[list[int]] = []
    room: list[int] = []
    for index in sorted(range(len(units)), key=lambda i: -units[i].size):
        for r, free in enumerate(room):
            if units[index].size <= free:
                rows[r].append(index)
                room[r] -= units[index].size
                break
        else:
            rows.append([index])
            room.append(width - units[index].size)
    return rows, width


def pack(
    units: Sequence[Unit],
    causal: bool,
    pad_id: int,
    sep_id: int | None = None,
    first_position: int = 0,
) -> tuple[dict[str, torch.Tensor], PackStats]:
    """Tensors for ``RewardModel.forward`` (reads in unit order, then branch order, then mark
    order) and counts.
    ``sep_id`` adds BERT segment ids: 1 after the first separator of each sequence.
    ``first_position``: the position id of each sequence's first token (RoBERTa counts from
    after its pad id)."""
    rows, width = place(units)
    n_rows = len(rows)
    ids = torch.full((n_rows, width), pad_id, dtype=torch.long)
    positions = torch.zeros((n_rows, width), dtype=torch.long)
    segments = torch.zeros((n_rows, width), dtype=torch.long)
    allowed = torch.zeros((n_rows, width, width), dtype=torch.bool)
    reads: dict[int, list[tuple[int, int, int]]] = {}
    for r, members in enumerate(rows):
        cursor = 0
        for index in members:
            reads[index] = _lay_out(
                units[index], r, cursor, ids, positions, segments, allowed, causal, sep_id
            )
            cursor += units[index].size
        idle = torch.arange(cursor, width)
        allowed[r, idle, idle] = True  # padding attends to itself: no empty softmax rows
    spans = [span for index in range(len(units)) for span in reads[index]]
    positions += first_position
    mask = torch.zeros((n_rows, 1, width, width), dtype=torch.float32)
    mask.masked_fill_(~allowed.unsqueeze(1), torch.finfo(torch.float32).min)
    batch = {
        "input_ids": ids,
        "position_ids": positions,
        "attention_mask": mask,
        "read_rows": torch.tensor([s[0] for s in spans]),
        "read_starts": torch.tensor([s[1] for s in spans]),
        "read_ends": torch.tensor([s[2] for s in spans]),
    }
    if sep_id is not None:
        batch["token_type_ids"] = segments
    real = sum(len(u.branches) * len(u.prefix) + sum(map(len, u.branches)) for u in units)
    return batch, PackStats(real, sum(u.size for u in units), n_rows * width)


ROW_MULTIPLE = 64
"""End-to-end rows are filled up to a multiple of this many tokens: a bf16 linear layer on the CPU
is a oneDNN primitive cached per number of rows, as span attention's products are per length
(``models.attention.LENGTH_MULTIPLE``), and a row length per batch kept new ones batch after
batch. A few lengths serve every batch, for at most 63 idle tokens."""


def pack_end_to_end(
    units: Sequence[Unit],
    segments_of: int | None = None,
    token_types: bool = False,
    pad_id: int = 0,
) -> tuple[dict[str, torch.Tensor], PackStats]:
    """Encoder sequences (units without a prefix, one branch each) one after another in a
    single row: no mask; ``spans`` bounds each sequence for span attention
    (``models.attention``), and ``pad_id`` tokens fill the row to ``ROW_MULTIPLE`` as one more
    span that is never read. ``segments_of``: the separator id after which BERT segment ids are
    1; ``token_types``: zero segment ids otherwise (a row longer than the model's positions
    cannot use its default ones)."""
    ids: list[int] = []
    positions: list[int] = []
    spans: list[tuple[int, int]] = []
    reads: list[tuple[int, int]] = []
    for unit in units:
        if unit.prefix or len(unit.branches) != 1:
            raise ValueError("end-to-end packing takes whole sequences (no shared prefix)")
        start = len(ids)
        ids += unit.branches[0]
        positions += range(len(unit.branches[0]))
        spans.append((start, len(ids)))
        reads += unit.reads(0, start)
    real = len(ids)
    if fill := -real % ROW_MULTIPLE:
        ids += [pad_id] * fill
        positions += range(fill)
        spans.append((real, len(ids)))
    row = torch.tensor([ids], dtype=torch.long)
    batch = {
        "input_ids": row,
        "position_ids": torch.tensor([positions], dtype=torch.long),
        "spans": torch.tensor(spans, dtype=torch.long),
        "read_rows": torch.zeros(len(reads), dtype=torch.long),
        "read_starts": torch.tensor([r[0] for r in reads]),
        "read_ends": torch.tensor([r[1] for r in reads]),
    }
    if segments_of is not None:
        batch["token_type_ids"] = torch.cat(
            [segment_ids(row[0, s:e], segments_of) for s, e in spans]
        ).unsqueeze(0)
    elif token_types:
        batch["token_type_ids"] = torch.zeros_like(row)
    return batch, PackStats(real, real, len(ids))


def _lay_out(
    unit: Unit,
    row: int,
    start: int,
    ids: torch.Tensor,
    positions: torch.Tensor,
    segments: torch.Tensor,
    allowed: torch.Tensor,
    causal: bool,
    sep_id: int | None,
) -> list[tuple[int, int, int]]:
    """Writes one unit at ``start`` of ``row``; returns each read's (row, start, end)."""
    p = len(unit.prefix)
    ids[row, start : start + p] = torch.tensor(unit.prefix, dtype=torch.long)
    positions[row, start : start + p] = torch.arange(p)
    _block(allowed, row, start, p, causal)
    spans = []
    cursor = start + p
    for b, branch in enumerate(unit.branches):
        n = len(branch)
        ids[row, cursor : cursor + n] = torch.tensor(branch, dtype=torch.long)
        positions[row, cursor : cursor + n] = torch.arange(p, p + n)
        allowed[row, cursor : cursor + n, start : start + p] = True
        _block(allowed, row, cursor, n, causal)
        if sep_id is not None:
            segments[row, cursor : cursor + n] = segment_ids(torch.tensor(branch), sep_id)
        spans += [(row, s, e) for s, e in unit.reads(b, cursor)]
        cursor += n
    return spans


def _block(allowed: torch.Tensor, row: int, start: int, n: int, causal: bool) -> None:
    block = torch.ones((n, n), dtype=torch.bool)
    allowed[row, start : start + n, start : start + n] = torch.tril(block) if causal else block


def segment_ids(ids: torch.Tensor, sep_id: int) -> torch.Tensor:
    """BERT's sentence-pair segments along the last dimension: 0 up to and including the first
    separator, 1 after it."""
    is_sep = (ids == sep_id).long()
    return ((is_sep.cumsum(dim=-1) - is_sep) > 0).long()
