"""Pairwise ranking losses for reward models: pure tensor functions, each with its source.

All take the rewards of the chosen and rejected sides, shape ``(B,)``, and return a scalar mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

PairLoss = Callable[..., torch.Tensor]


def bradley_terry(
    chosen: torch.Tensor, rejected: torch.Tensor, margin: torch.Tensor | None = None
) -> torch.Tensor:
    """-log sigmoid(r_c - r_r - m): Bradley & Terry (1952), as used for reward models by
    Ouyang et al. 2022 (InstructGPT, eq. 1). With ``margin`` m (Touvron et al. 2023, Llama 2,
    eq. 2) the chosen side must win by at least m before the loss flattens."""
    diff = chosen - rejected
    if margin is not None:
        diff = diff - margin
    return -F.logsigmoid(diff).mean()


def soft_bradley_terry(
    chosen: torch.Tensor, rejected: torch.Tensor, p_chosen: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy between the label P(chosen preferred) = p and the Bradley-Terry model
    sigmoid(r_c - r_r): -[p log s(d) + (1 - p) log s(-d)]. With p from several annotators'
    votes this trains on their disagreement instead of a majority (soft labels, e.g. Wang et
    al. 2024, "Secrets of RLHF II"); p = 0.5 is a tie, whose minimum is at equal rewards."""
    diff = chosen - rejected
    return -(p_chosen * F.logsigmoid(diff) + (1 - p_chosen) * F.logsigmoid(-diff)).mean()


def centering_penalty(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """(r_c + r_r)^2: keeps rewards centred at zero, which the Bradley-Terry loss leaves free
    (Eisenstein et al. 2023, "Helping or Herding?", section 3). Add it with a small weight."""
    return ((chosen + rejected) ** 2).mean()


def pairwise_loss(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    *,
    margin: torch.Tensor | None = None,
    p_chosen: torch.Tensor | None = None,
    center_weight: float = 0.0,
) -> torch.Tensor:
    """The training objective: soft Bradley-Terry where a soft label is given (ties included),
    Bradley-Terry with margin otherwise, plus the optional centring term."""
    loss = (
        soft_bradley_terry(chosen, rejected, p_chosen)
        if p_chosen is not None
        else bradley_terry(chosen, rejected, margin)
    )
    if center_weight:
        loss = loss + center_weight * centering_penalty(chosen, rejected)
    return loss
