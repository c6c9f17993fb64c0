"""Span attention keeps oneDNN's primitive cache out of per-sequence shapes."""

from __future__ import annotations

import pytest
import torch

from rewardkit.models.attention import span_attention


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
    first = torch.softmax(q[:, :, :3].float() @ k[:, :, :3].float().transpose(-1, -2) / 4, -1)
    alone = (first @ v[:, :, :3].float()).transpose(1, 2)
    assert torch.allclose(out[:, :3].float(), alone, atol=1e-2)
