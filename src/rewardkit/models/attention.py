"""Attention for encoder sequences packed end to end in one row, with no mask.

A packed encoder row holds whole sequences side by side, each attending only to itself. With a
4D mask, every row costs attention over its full width (and a width-squared mask is built and
read); here each sequence is attended on its own, so the work is the sum of the squared lengths
and there is no mask at all. PyTorch has no variable-length attention kernel on CPU, so the
sequences are a loop: a handful of small matmuls per layer, cheaper on CPU than one masked
kernel over the whole row (measured in docs/training.md).

The function is registered with transformers' attention interface under ``SPAN_ATTENTION`` and
set on the encoders listed in ``SPAN_MODELS``; it is used on CPUs (a GPU keeps padded batches
for its fused kernels). Without ``spans`` (a padded batch,
a plain call) it is exactly transformers' SDPA attention. The implementation name is not saved
with the model, so a saved model loads in plain transformers as before.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

SPAN_ATTENTION = "rewardkit_spans"


def span_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    spans: list[tuple[int, int]] | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """(batch, heads, length, dim) in; (batch, length, heads, dim) out, as transformers' own
    attention functions. ``spans``: the (start, end) of each sequence along the row."""
    if spans is None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    scale = query.shape[-1] ** -0.5 if scaling is None else scaling
    # one split per tensor, not a slice per sequence: a slice's backward writes its gradient
    # into a zeroed copy of the whole row, so slicing cost a row-sized fill and add per sequence
    sizes = [end - start for start, end in spans]
    # the query scaled once, before the products: it is length x dim, each product length squared
    queries, keys, values = (torch.split(x, sizes, dim=2) for x in (query * scale, key, value))
    # A bf16 product on the CPU is a oneDNN primitive built for its exact shape and kept in
    # oneDNN's cache (up to 1,024): with a shape per sequence length, building them ate what
    # bf16 saved, and the cache kept hundreds of MiB of primitives never used again. Lengths
    # rounded up to a multiple of LENGTH_MULTIPLE reuse a few shapes (fp32 runs on the BLAS, which
    # keeps nothing, so it takes the exact lengths).
    multiple = 1 if query.dtype == torch.float32 else LENGTH_MULTIPLE
    with torch.autocast(query.device.type, enabled=False):  # products in the inputs' dtype
        # matmul, softmax, matmul rather than SDPA's fused CPU kernel per sequence: in bf16 on
        # an avx512_bf16 CPU the fused kernel made MiniLM training 30% slower and 500 MiB larger
        # (8.3 and 9.3 against 12.1 and 13.1 pairs/s, bench/train_vs_trl.py, alternating)
        pieces = [
            _attend(q, k, v, multiple, dropout if module.training else 0.0)
            for q, k, v in zip(queries, keys, values, strict=True)
        ]
    return torch.cat(pieces, dim=2).transpose(1, 2).contiguous(), None


LENGTH_MULTIPLE = 32
"""Sequence lengths are rounded up to a multiple of this in reduced-precision products."""


def _attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, multiple: int, dropout: float
) -> torch.Tensor:
    """One sequence's attention (q already scaled), its products on the length rounded up to
    ``multiple``: padded keys are masked out, padded queries' rows dropped."""
    length = q.shape[-2]
    pad = -length % multiple
    if pad:
        q, k, v = (torch.nn.functional.pad(x, (0, 0, 0, pad)) for x in (q, k, v))
    scores = torch.matmul(q, k.transpose(-1, -2))
    if pad:
        # in place is safe: a product's backward needs its inputs, not its output
        scores[..., length:] = float("-inf")
    weights = torch.nn.functional.dropout(torch.softmax(scores, dim=-1), p=dropout)
    return torch.matmul(weights, v)[..., :length, :]


AttentionInterface.register(SPAN_ATTENTION, span_attention)
AttentionMaskInterface.register(SPAN_ATTENTION, sdpa_mask)  # padded batches: SDPA's own masks


SPAN_MODELS = frozenset({"bert", "albert", "electra", "distilbert"})
"""Encoders whose attention is plain full attention through transformers' interface, with
positions counted from 0 (RoBERTa's start after the pad id; ModernBERT has local layers)."""


def use_span_attention(network: Any) -> None:
    """Sets span attention on the encoders it is exact for (other models keep their attention,
    and packed rows with masks)."""
    if getattr(network.config, "model_type", None) in SPAN_MODELS:
        network.set_attn_implementation(SPAN_ATTENTION)
