"""The long vote table every label model reads: one row per (task, annotator, label).

This is crowd-kit's ``(task, worker, label)`` frame as numpy arrays, with the label set fixed to
the three verdicts of a pair (``chosen``, ``rejected``, ``tie``) instead of inferred from the data,
so a tie class that no annotator used is still a column (with probability ~0), not a vanished one.
A row may also say where the pair's ``chosen`` side was shown (``position``: +1 first, -1 second,
0 unknown), which only the pairwise Bradley-Terry model reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rewardkit.records import VERDICTS, Pair, render_text

LABELS: tuple[str, ...] = VERDICTS
"""Column order of every probability matrix: chosen, rejected, tie."""
CHOSEN, REJECTED, TIE = 0, 1, 2
K = len(LABELS)
_MIRROR = np.array([REJECTED, CHOSEN, TIE])

Ints = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VoteTable:
    task: Ints
    annotator: Ints
    label: Ints
    """0 chosen, 1 rejected, 2 tie (``LABELS``)."""
    annotators: tuple[str, ...]
    n_tasks: int
    position: Floats = field(default_factory=lambda: np.zeros(0))
    """Per row: +1 when the pair's chosen side was shown first, -1 second, 0 unknown."""

    def __post_init__(self) -> None:
        n = self.task.size
        if self.annotator.size != n or self.label.size != n:
            raise ValueError("task, annotator and label columns differ in length")
        if self.position.size not in (0, n):
            raise ValueError(f"position has {self.position.size} rows, the table {n}")
        if n and (self.label.min() < 0 or self.label.max() >= K):
            raise ValueError(f"labels must be 0..{K - 1} ({', '.join(LABELS)})")
        if n and (self.task.min() < 0 or self.task.max() >= self.n_tasks):
            raise ValueError(f"task indices must be 0..{self.n_tasks - 1}")
        if n and (self.annotator.min() < 0 or self.annotator.max() >= len(self.annotators)):
            raise ValueError(f"annotator indices must be 0..{len(self.annotators) - 1}")

    @property
    def positions(self) -> Floats:
        return self.position if self.position.size else np.zeros(self.task.size)

    def counts(self) -> Floats:
        """Votes per task and label, shape (n_tasks, 3)."""
        out = np.zeros((self.n_tasks, K))
        np.add.at(out, (self.task, self.label), 1.0)
        return out

    def mirrored(self) -> VoteTable:
        """Every task twice, the second time with chosen and rejected swapped: which side a
        dataset calls ``chosen`` is often the majority's pick, so statistics of chance agreement
        computed on the mirrored table do not credit annotators for that convention."""
        return VoteTable(
            np.concatenate([self.task, self.task + self.n_tasks]),
            np.concatenate([self.annotator, self.annotator]),
            np.concatenate([self.label, _MIRROR[self.label]]),
            self.annotators,
            2 * self.n_tasks,
            np.concatenate([self.positions, -self.positions]),
        )

    def subset(self, tasks: Ints) -> VoteTable:
        """The votes of ``tasks`` (indices, repeats allowed: a bootstrap resample), renumbered."""
        tasks = np.asarray(tasks, dtype=np.intp)
        order = np.argsort(self.task, kind="stable")
        per_task = np.bincount(self.task, minlength=self.n_tasks)
        starts = np.cumsum(per_task) - per_task
        lengths = per_task[tasks]
        new_task = np.repeat(np.arange(tasks.size), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        picked = order[np.repeat(starts[tasks], lengths) + offsets]
        return VoteTable(
            new_task.astype(np.intp),
            self.annotator[picked],
            self.label[picked],
            self.annotators,
            int(tasks.size),
            self.positions[picked],
        )


def from_rows(
    rows: Sequence[tuple[str, str, str]], labels: Sequence[str] = LABELS
) -> tuple[VoteTable, list[str]]:
    """A table from ``(task, annotator, label)`` strings, as crowd-kit takes them; returns the
    task names in index order too. Unknown labels are an error naming the row."""
    tasks: dict[str, int] = {}
    annotators: dict[str, int] = {}
    columns: list[tuple[int, int, int]] = []
    for i, (task, annotator, label) in enumerate(rows):
        if label not in labels:
            raise ValueError(f"row {i}: label {label!r} is not one of {tuple(labels)}")
        t = tasks.setdefault(task, len(tasks))
        a = annotators.setdefault(annotator, len(annotators))
        columns.append((t, a, labels.index(label)))
    arr = np.array(columns, dtype=np.intp).reshape(-1, 3)
    table = VoteTable(arr[:, 0], arr[:, 1], arr[:, 2], tuple(annotators), len(tasks))
    return table, list(tasks)


def from_pairs(pairs: Sequence[Pair], annotators: Sequence[str] = ()) -> VoteTable:
    """The votes of ``pairs`` (task i = pairs[i]; a pair without votes is a task with no rows).
    ``annotators`` fixes the annotator order (a fitted model's); names not in it are appended.
    The position of chosen comes from ``metadata["a_is_chosen"]`` (two-response formats: A is
    the side shown first) when a pair records it."""
    index = {name: i for i, name in enumerate(annotators)}
    task, who, label, position = [], [], [], []
    for i, pair in enumerate(pairs):
        shown_first = pair.metadata.get("a_is_chosen")
        pos = 0.0 if not isinstance(shown_first, bool) else (1.0 if shown_first else -1.0)
        for vote in pair.votes:
            task.append(i)
            who.append(index.setdefault(vote.annotator, len(index)))
            label.append(LABELS.index(vote.verdict))
            position.append(pos)
    return VoteTable(
        np.array(task, dtype=np.intp),
        np.array(who, dtype=np.intp),
        np.array(label, dtype=np.intp),
        tuple(index),
        len(pairs),
        np.array(position, dtype=float),
    )


def chosen_is_longer(pairs: Sequence[Pair]) -> Floats:
    """Per pair: +1 when chosen is the longer response (characters), -1 shorter, 0 equal."""
    return np.array(
        [np.sign(len(render_text(p.chosen)) - len(render_text(p.rejected))) for p in pairs],
        dtype=float,
    )


def p_chosen(proba: Floats) -> Floats:
    """P(chosen preferred) from a (tasks, 3) posterior, a tie counting one half: the same rule
    as ``Pair.p_chosen`` applies to raw votes."""
    return np.asarray(proba[:, CHOSEN] + 0.5 * proba[:, TIE], dtype=float)
