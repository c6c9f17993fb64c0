"""Reading one vector per sequence out of a backbone's hidden states.

``last`` takes the last real token from the attention mask, so it is right with left or right
padding and when the pad token is also the end-of-sequence token (where looking for the first
pad token, as some heads do, picks the wrong position). ``mean`` averages real tokens.
``cls`` is the backbone's own sequence-classification head (first token, with its pooler).
"""

from __future__ import annotations

from typing import Literal

import torch

Pooling = Literal["auto", "last", "mean", "cls"]
POOLINGS: tuple[str, ...] = ("auto", "last", "mean", "cls")
ENCODER_POOLING: Pooling = "mean"
"""``auto`` for encoders: the mean beat the first-token head on held-out pairs
(docs/training.md); decoders read the last token."""


def last_token(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    last = (positions * attention_mask.long()).argmax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


def mean_tokens(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
