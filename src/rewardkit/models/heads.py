"""Head kinds: what a reward model's last layer outputs and how one score comes out of it.

Every kind is a linear layer over the backbone's hidden states with one output per name in
``ModelInfo.objectives``; the kinds differ only in where it is read and how its outputs become
the one scalar that rankings compare:

- ``scalar``: one output per sequence (saved as sequence classification with one label).
- ``objectives``: K named outputs per sequence, mixed into the score with ``ModelInfo.weights``
  (saved as sequence classification with K labels, ``id2label`` naming them).
- ``ensemble``: M members per sequence; the score is their mean, ``spread`` their standard
  deviation (saved as sequence classification with M labels).
- ``steps``: one output at every marked position, e.g. the end of each reasoning step (saved as
  token classification with one label); the sequence's score aggregates its steps.

A new kind is one entry in ``HEADS``: the transformers class it saves as, whether it reads
marked positions, and how its outputs combine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch

StepAggregate = Literal["min", "last", "mean", "prod"]


@dataclass(frozen=True)
class HeadKind:
    auto_class: Literal["AutoModelForSequenceClassification", "AutoModelForTokenClassification"]
    per_position: bool
    """Reads one output at each marked position instead of one per sequence."""
    combine: Callable[[torch.Tensor, Sequence[float] | None], torch.Tensor]
    """(R, K) outputs and the objectives' weights -> (R,) scores."""
    ranked: Callable[[torch.Tensor, Sequence[float] | None], torch.Tensor]
    """(R, K) outputs -> (R, C) columns a ranking loss compares chosen against rejected: the
    score itself, or each ensemble member on its own (members learn independently)."""
    spread: bool = False
    """Whether the outputs' standard deviation is the score's uncertainty (ensembles)."""


def _first(values: torch.Tensor, _: Sequence[float] | None) -> torch.Tensor:
    return values[:, 0]


def _weighted(values: torch.Tensor, weights: Sequence[float] | None) -> torch.Tensor:
    if weights is None:
        return values.mean(dim=1)
    return values @ torch.tensor(list(weights), dtype=values.dtype, device=values.device)


def _mean(values: torch.Tensor, _: Sequence[float] | None) -> torch.Tensor:
    return values.mean(dim=1)


def _columns(values: torch.Tensor, _: Sequence[float] | None) -> torch.Tensor:
    return values


def _score_column(values: torch.Tensor, weights: Sequence[float] | None) -> torch.Tensor:
    return _weighted(values, weights).unsqueeze(1)


HEADS: dict[str, HeadKind] = {
    "scalar": HeadKind("AutoModelForSequenceClassification", False, _first, _columns),
    "objectives": HeadKind("AutoModelForSequenceClassification", False, _weighted, _score_column),
    "ensemble": HeadKind("AutoModelForSequenceClassification", False, _mean, _columns, True),
    "steps": HeadKind("AutoModelForTokenClassification", True, _first, _columns),
}


def head_kind(name: str) -> HeadKind:
    if name not in HEADS:
        raise ValueError(f"unknown head kind {name!r}; known: {', '.join(HEADS)}")
    return HEADS[name]


def default_objectives(kind: str, members: int = 3) -> list[str]:
    """The output names a kind gets when the user names none."""
    if kind == "ensemble":
        return [f"member{i}" for i in range(members)]
    if kind == "objectives":
        raise ValueError("an 'objectives' head needs its objectives named")
    return ["step" if kind == "steps" else "reward"]


def aggregate_steps(scores: Sequence[float], how: StepAggregate) -> float:
    """One score for a sequence from its steps' scores (logits): the weakest step (``min``), the
    final one, their mean, or the product of the steps' probabilities of being right, as a logit
    (``prod``: Lightman et al. 2023 rank solutions by it)."""
    if not scores:
        return float("nan")
    values = torch.tensor(list(scores), dtype=torch.float64)
    if how == "min":
        return float(values.min())
    if how == "last":
        return float(values[-1])
    if how == "mean":
        return float(values.mean())
    log_p = torch.nn.functional.logsigmoid(values).sum()
    return float(log_p - torch.log1p(-log_p.exp().clamp(max=1 - 1e-12)))
