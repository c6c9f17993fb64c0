"""The padding-free (and shared-prompt) batches give the rewards and gradients of plain padded
batches on the same weights, for BERT- and RoBERTa-style encoders (RoBERTa counts positions
from after its pad id) and for Llama- and Qwen2-style decoders."""

from __future__ import annotations

import pytest
import tiny
import torch

from rewardkit.losses import bradley_terry_loss
from rewardkit.models import RewardModel
from rewardkit.models.packing import ROW_MULTIPLE, Unit, pack_end_to_end
from rewardkit.synthetic import generate_pairs
from rewardkit.training.examples import encode_examples

CASES = [
    ("bert", "cls"),
    ("bert", "mean"),
    ("roberta", "mean"),
    ("llama", "last"),
    ("qwen2", "last"),
    ("llama", "mean"),
]


def _pairs(model: RewardModel) -> list[Unit]:
    return [e.unit for e in encode_examples(model, list(generate_pairs(6, seed=4)), 512).examples]


def _left_padded(model: RewardModel, pairs: list[Unit]) -> dict[str, torch.Tensor]:
    sequences = [p.prefix + b for p in pairs for b in p.branches]
    right = model.collate(sequences)
    width = right["input_ids"].shape[1]
    out = {}
    for key, value in right.items():
        shifted = (
            torch.zeros_like(value)
            if key != "input_ids"
            else torch.full_like(value, model.tokenizer.pad_token_id)
        )
        for row, seq in enumerate(sequences):
            shifted[row, width - len(seq) :] = value[row, : len(seq)]
        out[key] = shifted
    out["position_ids"] = (out["attention_mask"].cumsum(1) - 1).clamp(min=0) + model.first_position
    return out


def _rewards_and_grads(
    model: RewardModel, inputs: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    rewards = model.scores(**inputs)
    chosen, rejected = rewards[0::2], rewards[1::2]
    bradley_terry_loss(chosen, rejected).backward()  # type: ignore[no-untyped-call]
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return rewards.detach(), grads


@pytest.mark.parametrize(("arch", "pooling"), CASES)
def test_packed_rewards_and_gradients_equal_padded(arch: str, pooling: str) -> None:
    model = tiny.reward_model(arch, pooling=pooling)
    model.train()
    for module in model.modules():  # dropout would make two passes differ
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    pairs = _pairs(model)
    packed, packed_stats = model.batch(pairs, packed=True)
    padded, padded_stats = model.batch(pairs, packed=False)
    fast, fast_grads = _rewards_and_grads(model, packed)
    # A first-token head reads position 0, which left padding fills with a pad: right only there.
    references = [padded] if pooling == "cls" else [padded, _left_padded(model, pairs)]
    for reference in references:
        slow, slow_grads = _rewards_and_grads(model, reference)
        assert torch.allclose(fast, slow, atol=1e-4), (fast - slow).abs().max()
        assert fast_grads.keys() == slow_grads.keys()
        worst = max(float((fast_grads[k] - slow_grads[k]).abs().max()) for k in fast_grads)
        assert worst < 1e-4
    assert packed_stats.slots < padded_stats.slots and packed_stats.padding < padded_stats.padding
    assert packed_stats.real_tokens == padded_stats.real_tokens


def test_decoders_encode_the_shared_prompt_once() -> None:
    model = tiny.reward_model("llama")
    pairs = _pairs(model)
    assert all(p.prefix for p in pairs)
    packed, _ = model.batch(pairs, packed=True)
    prompt_tokens = sum(len(p.prefix) for p in pairs)
    response_tokens = sum(len(b) for p in pairs for b in p.branches)
    assert int((packed["input_ids"] != model.tokenizer.pad_token_id).sum()) <= (
        prompt_tokens + response_tokens
    )
    rows, starts = packed["read_rows"], packed["read_starts"]
    chosen_pos = packed["position_ids"][rows[0::2], starts[0::2]]
    assert chosen_pos.tolist() == [len(p.prefix) for p in pairs]  # positions continue the prompt


def test_an_end_to_end_row_is_filled_to_a_multiple_by_a_span_never_read() -> None:
    row, stats = pack_end_to_end([Unit([], [[5, 6, 7]]), Unit([], [[8, 9, 10, 11, 12]])], pad_id=1)
    assert row["input_ids"].shape == (1, ROW_MULTIPLE)
    assert row["spans"].tolist() == [[0, 3], [3, 8], [8, ROW_MULTIPLE]]
    assert row["read_starts"].tolist() == [0, 3] and row["read_ends"].tolist() == [3, 8]
    assert row["input_ids"][0, 8:].eq(1).all()
    assert row["position_ids"][0].tolist() == [0, 1, 2, 0, 1, 2, 3, 4, *range(ROW_MULTIPLE - 8)]
    assert (stats.computed_tokens, stats.slots) == (8, ROW_MULTIPLE)


@pytest.mark.parametrize("layout", ["text", "pair"])
def test_encoders_put_sequences_end_to_end_with_no_mask(layout: str) -> None:
    model = tiny.reward_model("bert", layout=layout).eval()
    pairs = _pairs(model)
    row, stats = model.batch(pairs, packed=True)
    assert "attention_mask" not in row and row["input_ids"].shape[0] == 1
    real = sum(u.size for p in pairs for u in p.unshared())
    assert stats.computed_tokens == real
    assert stats.slots == row["input_ids"].shape[1] == real + -real % ROW_MULTIPLE
    with torch.no_grad():
        rewards = model.scores(**row)
        model.network.set_attn_implementation("eager")  # another attention: masked rows again
        masked, masked_stats = model.batch(pairs, packed=True)
        assert masked["attention_mask"].dim() == 4 and masked_stats.padding > 0
        assert torch.allclose(model.scores(**masked), rewards, atol=1e-5)
