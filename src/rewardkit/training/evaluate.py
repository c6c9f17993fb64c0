"""Held-out metrics during training: the run's loss, accuracy, margin, and agreement with a gold.

Accuracy is what each kind of example can be right about: a pair's chosen side scores higher;
a step's score (a logit) is on the side of its label; ratings have none (their error is
``rmse``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from rewardkit.losses import Loss, Outputs
from rewardkit.models.reward_model import RewardModel
from rewardkit.training.examples import Example, targets


@dataclass
class HeldOut:
    examples: int
    loss: float
    accuracy: float
    """Pairs: share with r(chosen) > r(rejected), ties wrong; steps: share of labelled steps
    whose score has the label's sign; ratings: NaN."""
    margin: float | None = None
    """Pairs: mean r(chosen) - r(rejected)."""
    gold_accuracy: float | None = None
    """Agreement with the gold preference, where the data records one (the synthetic world)."""
    rmse: float | None = None
    """Ratings: root mean squared error over the known ratings."""
    parts: dict[str, HeldOut] = field(default_factory=dict)
    """The same metrics for each eval file, where several were given (``hh/eval``: ...)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def prefixed(self, prefix: str) -> dict[str, float]:
        """Flat metrics: ``eval/accuracy``, and ``eval/hh/eval/accuracy`` for each part."""
        flat = {
            prefix + k: float(v)
            for k, v in asdict(self).items()
            if v is not None and not isinstance(v, dict)
        }
        for name, part in self.parts.items():
            flat.update(part.prefixed(f"{prefix}{name}/"))
        return flat


def outputs_of(
    model: RewardModel, examples: Sequence[Example], batch_tokens: int = 4096
) -> Outputs:
    """The head's outputs for examples, in their reads' order, in eval mode."""
    # one worker: a second thread's malloc arena added 550 MiB to training's peak RSS (MiniLM)
    units = [e.unit for e in examples]
    return model.views(
        torch.cat(model.unit_outputs(units, batch_tokens, precision="fp32", workers=1))
    )


def evaluate(
    model: RewardModel,
    examples: Sequence[Example],
    loss: Loss,
    parts: Sequence[tuple[str, int]] = (),
) -> HeldOut:
    """The metrics over all examples, and over each part: ``(name, how many examples)`` in
    order, covering ``examples``; the model reads every example once."""
    if not examples:
        return HeldOut(0, math.nan, math.nan)
    out = outputs_of(model, examples)
    held_out = _metrics(out, examples, loss)
    start = read = 0
    for name, size in parts:
        reads = sum(_reads(e) for e in examples[start : start + size])
        part = Outputs(*(t[read : read + reads] for t in (out.values, out.scores, out.ranked)))
        if size:
            held_out.parts[name] = _metrics(part, examples[start : start + size], loss)
        start, read = start + size, read + reads
    return held_out


def _reads(example: Example) -> int:
    """The rows an example takes in the head's outputs."""
    return {"pair": 2, "rating": 1, "steps": len(example.step_labels)}[example.kind]


def _metrics(out: Outputs, examples: Sequence[Example], loss: Loss) -> HeldOut:
    target = targets(examples)
    with torch.no_grad():
        value = float(loss(out, target))
    if examples[0].kind == "pair":
        return _pair_metrics(out, examples, value)
    if examples[0].kind == "steps":
        labels = target.step_labels
        assert labels is not None
        known = ~torch.isnan(labels)
        right = (out.scores[known] > 0) == (labels[known] >= 0.5)
        return HeldOut(len(examples), value, float(right.float().mean()))
    ratings = target.ratings
    assert ratings is not None
    known = ~torch.isnan(ratings)
    rmse = float(((out.values[known] - ratings[known]) ** 2).mean().sqrt())
    return HeldOut(len(examples), value, math.nan, rmse=rmse)


def _pair_metrics(out: Outputs, examples: Sequence[Example], loss: float) -> HeldOut:
    chosen, rejected = out.scores[0::2], out.scores[1::2]
    wins = chosen > rejected
    gold = [e.gold_prefers_chosen for e in examples]
    gold_accuracy = None
    if all(g is not None for g in gold):
        gold_accuracy = float((wins == torch.tensor(gold)).float().mean())
    return HeldOut(
        examples=len(examples),
        loss=loss,
        accuracy=float(wins.float().mean()),
        margin=float((chosen - rejected).mean()),
        gold_accuracy=gold_accuracy,
    )


def reward_statistics(
    model: RewardModel, examples: Sequence[Example], limit: int = 1024
) -> tuple[float, float]:
    """Mean and standard deviation of scores over (up to ``limit``) training examples: saved
    beside the weights so scores can be normalised the same way everywhere."""
    scores = outputs_of(model, examples[:limit]).scores
    std = float(scores.std()) if len(scores) > 1 else 1.0
    return float(scores.mean()), std if std > 0 else 1.0
