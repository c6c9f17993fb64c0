"""Training objectives for reward models: pure tensor functions, each with its source, and the
one registry ``LOSSES`` a config names them from.

A registered loss takes the head's ``Outputs`` for a batch and the batch's ``Targets`` and
returns a scalar; the training loop knows nothing else. Reads come in example order: a pair's
chosen side, then its rejected side; one read per rated response; one read per step.
To add a loss, write ``def my_loss(out: Outputs, targets: Targets) -> torch.Tensor`` and put it
in ``LOSSES`` (from your own code too: ``LOSSES["my_loss"] = my_loss``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Outputs:
    values: torch.Tensor
    """(R, K): the head's raw outputs, one row per read."""
    scores: torch.Tensor
    """(R,): each read's combined score (what a ranking compares)."""
    ranked: torch.Tensor
    """(R, C): the columns a ranking loss compares (the score, or each ensemble member)."""

    def sides(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(P, C) chosen and rejected columns of a batch of pairs (reads alternate)."""
        if self.ranked.shape[0] % 2:
            raise ValueError("a pairwise loss needs pairs: an even number of reads")
        return self.ranked[0::2], self.ranked[1::2]


@dataclass(frozen=True)
class Targets:
    """What a batch's records say, from one place (``training.examples``); None where the
    batch has no such target."""

    p_chosen: torch.Tensor | None = None
    """(P,): P(chosen preferred): 1 for a hard label, the vote share or soft label otherwise."""
    margin: torch.Tensor | None = None
    """(P,): how much the chosen side should win by (0 where none is given)."""
    ratings: torch.Tensor | None = None
    """(N, K): a rating per objective, NaN where the record has none."""
    step_labels: torch.Tensor | None = None
    """(S,): P(step is right) per step, NaN for unlabelled steps."""
    lengths: torch.Tensor | None = None
    """(R,): each read's response length (characters), for losses that decorrelate from it."""
    weights: torch.Tensor | None = None
    """(P,): how much each pair counts (a label model's confidence, its source's weight); None:
    every pair counts 1."""


Loss = Callable[[Outputs, Targets], torch.Tensor]


def _need(value: torch.Tensor | None, what: str, loss: str) -> torch.Tensor:
    if value is None:
        raise ValueError(f"the {loss!r} loss needs {what}, which this data does not have")
    return value


def bradley_terry_loss(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    p_chosen: torch.Tensor | None = None,
    margin: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """-[p log s(d) + (1 - p) log s(-d)], d = r_c - r_r - m: Bradley & Terry (1952), as used for
    reward models by Ouyang et al. 2022 (InstructGPT, eq. 1), p = 1 by default. A margin m
    (Touvron et al. 2023, Llama 2, eq. 2) makes the chosen side win by at least m. A soft p,
    e.g. the share of annotators' votes, trains on their disagreement instead of a majority
    (Wang et al. 2024, "Secrets of RLHF II"); p = 0.5 is a tie, whose minimum is at equal
    rewards. Shapes (P,) or (P, C); the mean over every element, each pair's terms multiplied by
    its weight when weights are given (absolute weights, not renormalised per batch, so a batch
    of low-confidence pairs moves the model less)."""
    diff = chosen - rejected
    if margin is not None:
        diff = diff - margin
    if p_chosen is None:
        losses = -F.logsigmoid(diff)
    else:
        losses = -(p_chosen * F.logsigmoid(diff) + (1 - p_chosen) * F.logsigmoid(-diff))
    if weights is not None:
        losses = losses * weights.reshape(-1, *([1] * (losses.dim() - 1)))
    return losses.mean()


def centering_penalty(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """(r_c + r_r)^2: keeps rewards centred at zero, which the Bradley-Terry loss leaves free
    (Eisenstein et al. 2023, "Helping or Herding?", section 3). Add it with a small weight."""
    return ((chosen + rejected) ** 2).mean()


def bradley_terry(out: Outputs, targets: Targets) -> torch.Tensor:
    """Pairs: ``bradley_terry_loss`` on each ranked column (every ensemble member learns the
    preference on its own), with the targets' P(chosen) and margin."""
    chosen, rejected = out.sides()
    p = _need(targets.p_chosen, "pairs", "bradley_terry").unsqueeze(1)
    margin = None if targets.margin is None else targets.margin.unsqueeze(1)
    return bradley_terry_loss(chosen, rejected, p.expand_as(chosen), margin, targets.weights)


def regression(out: Outputs, targets: Targets) -> torch.Tensor:
    """Ratings: mean squared error per objective, missing ratings (NaN) left out, as the
    attribute regression of SteerLM (Dong et al. 2023) and ArmoRM's first stage (Wang et al.
    2024) train multi-objective heads."""
    ratings = _need(targets.ratings, "ratings", "regression")
    known = ~torch.isnan(ratings)
    if not bool(known.any()):
        return out.values.sum() * 0.0  # a batch with no rating: no gradient, no NaN
    return ((out.values[known] - ratings[known]) ** 2).mean()


def step_bce(out: Outputs, targets: Targets) -> torch.Tensor:
    """Steps: binary cross-entropy between each step's score (a logit) and its label, P(step
    is right), hard or soft (Lightman et al. 2023, "Let's Verify Step by Step"; soft labels as
    Math-Shepherd's rollout estimates, Wang et al. 2024). Unlabelled steps (NaN) are left out."""
    labels = _need(targets.step_labels, "step labels", "step_bce")
    known = ~torch.isnan(labels)
    if not bool(known.any()):
        return out.scores.sum() * 0.0
    return F.binary_cross_entropy_with_logits(out.scores[known], labels[known])


def pearson_batch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Pearson's correlation of two (N,) tensors, differentiable; 0 when either is constant."""
    dx, dy = x - x.mean(), y - y.mean()
    # the epsilon keeps a constant column (a fresh head, a batch of equal lengths) at 0, finite
    return (dx * dy).sum() / (dx.pow(2).sum() * dy.pow(2).sum() + 1e-12).sqrt()


def odin_loss(
    quality: torch.Tensor,
    length_head: torch.Tensor,
    lengths: torch.Tensor,
    p_chosen: torch.Tensor | None = None,
    length_weight: float = 1.0,
    margin: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """ODIN (Chen et al. 2024, "ODIN: Disentangled Reward Mitigates Hacking in RLHF", eq. 4):
    Bradley-Terry on r = r_Q + r_L, plus lambda_L (|rho(r_Q, L)| - rho(r_L, L)), where rho is
    Pearson's correlation over the batch's reads and L their response lengths: the length head
    r_L takes up what length explains, the quality head r_Q is pushed to be uncorrelated with
    it, and only r_Q is used afterwards. Reads alternate chosen, rejected. The paper's third
    term, orthogonal head weights, is left out: a loss here sees outputs, not weights. Margins
    and pair weights act on the ranking term as in ``bradley_terry_loss``."""
    total = quality + length_head
    ranking = bradley_terry_loss(total[0::2], total[1::2], p_chosen, margin, weights)
    decorrelation = pearson_batch(quality, lengths).abs() - pearson_batch(length_head, lengths)
    return ranking + length_weight * decorrelation


def odin(out: Outputs, targets: Targets) -> torch.Tensor:
    """Pairs on a two-output ``objectives`` head, ``[quality, length]`` in that order:
    ``odin_loss`` with lambda_L = 1. Score with weights [1, 0] so the
    length head is left out (``rewardkit train --objective_weights 1 0``)."""
    if out.values.shape[1] != 2:
        outputs = out.values.shape[1]
        raise ValueError(f"the 'odin' loss needs 2 outputs (quality, length), got {outputs}")
    p = _need(targets.p_chosen, "pairs", "odin")
    lengths = _need(targets.lengths, "response lengths", "odin")
    values = out.values
    return odin_loss(values[:, 0], values[:, 1], lengths, p, 1.0, targets.margin, targets.weights)


LOSSES: dict[str, Loss] = {
    "bradley_terry": bradley_terry,
    "regression": regression,
    "step_bce": step_bce,
    "odin": odin,
}


def objective(name: str, center_weight: float = 0.0) -> Loss:
    """The registered loss ``name``, plus the centring penalty on pairs when weighted."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; registered: {', '.join(LOSSES)}")
    loss = LOSSES[name]
    if not center_weight:
        return loss

    def centred(out: Outputs, targets: Targets) -> torch.Tensor:
        chosen, rejected = out.sides()
        return loss(out, targets) + center_weight * centering_penalty(chosen, rejected)

    return centred
