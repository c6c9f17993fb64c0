"""bf16 linears on packed weights: what runs when scoring, and that nothing else changes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import tiny
import torch
from torch import nn

from rewardkit.models import RewardModel
from rewardkit.models.packed_linear import PackedLinear, can_pack, pack_linears

pytestmark = pytest.mark.skipif(not can_pack(), reason="no oneDNN bf16 linear on this machine")

PROMPTS = [f"Question {i}: how do I keep {i} plants alive?" for i in range(12)]
RESPONSES = [f"Water them {'every day and ' * (i % 5)}check the soil." for i in range(12)]


def _saved(tmp_path: Path) -> Path:
    tiny.reward_model("bert", seed=3).save(tmp_path / "m")
    return tmp_path / "m"


def test_a_model_loaded_in_bf16_scores_through_packed_linears_with_the_gelu_fused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = RewardModel.load(_saved(tmp_path), precision="bf16")
    with monkeypatch.context() as patch:
        patch.setattr("rewardkit.models.precision.pack_linears", lambda network: None)
        plain = RewardModel.load(tmp_path / "m", precision="bf16")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one worker: the profiler records the calling thread's ops
    try:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as run:
            scores = packed.score(PROMPTS, RESPONSES).raw
    finally:
        torch.set_num_threads(threads)
    ops = {event.name for event in run.events()}
    assert "mkldnn::_linear_pointwise" in ops
    assert "aten::gelu" not in ops  # inside the intermediate linear's matmul
    assert scores == pytest.approx(plain.score(PROMPTS, RESPONSES).raw, abs=1e-2)
    assert packed.network.state_dict().keys() == plain.network.state_dict().keys()


def test_trained_after_loading_for_scoring_a_packed_model_is_the_plain_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training casts a scoring model back to fp32: with gradients every linear (and the GELU
    it took in) runs as before, to the same outputs and gradients."""
    packed = RewardModel.load(_saved(tmp_path), precision="bf16")
    monkeypatch.setattr("rewardkit.models.precision.pack_linears", lambda network: None)
    plain = RewardModel.load(tmp_path / "m", precision="bf16")
    assert not any(isinstance(m, PackedLinear) for m in plain.network.modules())
    packed.network.float()
    plain.network.float()
    inputs = {"input_ids": torch.tensor([packed.encode(PROMPTS[1], RESPONSES[1])])}
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    outputs = []
    for model in (packed, plain):
        model.eval()
        out = model(**inputs).sum()
        (grad,) = torch.autograd.grad(out, [next(model.network.parameters())])  # embeddings
        outputs.append((out.detach(), grad))
    assert torch.equal(outputs[0][0], outputs[1][0])
    assert torch.equal(outputs[0][1], outputs[1][1])


def test_a_weight_changed_in_place_is_packed_again() -> None:
    torch.manual_seed(0)
    network = nn.Sequential(nn.Linear(16, 32)).bfloat16()
    pack_linears(network)
    layer = network[0]
    assert isinstance(layer, PackedLinear)
    x = torch.randn(5, 16).bfloat16()
    with torch.no_grad():
        before = network(x)
        layer.weight.mul_(-2)
        after = network(x)
        expected = nn.functional.linear(x, layer.weight, layer.bias)
    assert torch.allclose(after.float(), expected.float(), atol=0.05)
    assert not torch.allclose(after.float(), before.float(), atol=0.05)


def test_a_packed_network_copies_and_saves_after_it_has_run(tmp_path: Path) -> None:
    network = nn.Sequential(nn.Linear(16, 32)).bfloat16()
    pack_linears(network)
    x = torch.randn(5, 16).bfloat16()
    with torch.no_grad():
        expected = network(x)  # packs
        copied = copy.deepcopy(network)
        torch.save(network, tmp_path / "network.pt")
        loaded = torch.load(tmp_path / "network.pt", weights_only=False)
        for other in (copied, loaded):
            assert isinstance(other[0], PackedLinear) and torch.equal(other(x), expected)
