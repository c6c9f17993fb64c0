"""Span attention keeps oneDNN's primitive cache out of per-sequence shapes."""

from __future__ import annotations

import pytest
import torch
from torch.nn.functional import scaled_dot_product_attention

from rewardkit.models.attention import _attend, span_attention


def test_bf16_span_attention_shares_shapes_across_sequence_lengths(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # a bf16 product on the CPU runs as a oneDNN primitive cached by its exact shape: one per
    # sequence length would fill the cache (training's peak RSS grew by hundreds of MiB)
    lengths = [3, 5, 8, 13, 21]
    spans, start = [], 0
    for n in lengths:
        spans.append((start, start + n))
        start += n
    q, k, v = (torch.randn(1, 2, start, 16, dtype=torch.bfloat16) for _ in range(3))
    module = torch.nn.Module().eval()
    capfd.readouterr()
    with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON):  # type: ignore[no-untyped-call]
        out, _ = span_attention(module, q, k, v, None, spans=spans)
    executed = [line for line in capfd.readouterr().out.splitlines() if "primitive,exec" in line]
    # where bf16 products run on oneDNN, five lengths share one shape per product
    assert len({line.split(",")[-2] for line in executed}) <= 2
    assert out.dtype == torch.bfloat16 and out.shape == (1, start, 2, 16)
    # each sequence attends to itself alone, as if it were alone
    for begin, end in spans:
        q1, k1, v1 = (x[:, :, begin:end].float() for x in (q, k, v))
        alone = scaled_dot_product_attention(q1, k1, v1).transpose(1, 2)
        assert torch.allclose(out[:, begin:end].float(), alone, atol=2e-2)


def test_rounded_lengths_give_the_exact_outputs_and_gradients() -> None:
    torch.manual_seed(0)
    exact = [torch.randn(2, 13, 8, requires_grad=True) for _ in range(3)]
    padded = [x.detach().clone().requires_grad_() for x in exact]
    out_exact = _attend(exact[0], exact[1], exact[2], multiple=1, dropout=0.0)
    out_padded = _attend(padded[0], padded[1], padded[2], multiple=32, dropout=0.0)
    assert out_padded.shape == out_exact.shape == (2, 13, 8)
    assert torch.allclose(out_padded, out_exact, atol=1e-6)
    weights = torch.randn_like(out_exact)
    grads_exact = torch.autograd.grad((out_exact * weights).sum(), exact)
    grads_padded = torch.autograd.grad((out_padded * weights).sum(), padded)
    for a, b in zip(grads_exact, grads_padded, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
