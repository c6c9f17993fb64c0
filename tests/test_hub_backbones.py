"""Backbones, tokenizers and revisions by Hub id, from a Hub-shaped cache written in the test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hub_cache import COMMIT, Caches, cache_model, caches_fixture  # noqa: F401 (fixture)

from rewardkit.data.hub import HubUnavailable
from rewardkit.models.backbones import is_hub_model, load_tokenizer, resolve_backbone
from rewardkit.models.ood import fit_mahalanobis
from rewardkit.models.reward_model import RewardModel


def test_hub_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert is_hub_model("Qwen/Qwen2.5-0.5B-Instruct")
    assert is_hub_model("Qwen/Qwen2.5-0.5B@refs/pr/3")
    assert not is_hub_model("minilm")
    assert not is_hub_model("my_scorer.py:polite")
    (tmp_path / "runs" / "model").mkdir(parents=True)
    assert not is_hub_model("runs/model")  # a local directory wins
    assert resolve_backbone("runs/model") == "runs/model"


def test_backbone_tokenizer_and_revision_from_the_cache(
    caches: Caches, tiny_llama_dir: Path
) -> None:
    snapshot = cache_model(caches, "org/tiny-llama", tiny_llama_dir, tag="main")
    (caches.hub / "models--org--tiny-llama" / "refs" / "v1").write_text(COMMIT)

    assert resolve_backbone("org/tiny-llama") == str(snapshot)
    assert resolve_backbone("org/tiny-llama@v1") == str(snapshot)
    assert resolve_backbone(f"org/tiny-llama@{COMMIT}") == str(snapshot)
    assert load_tokenizer("org/tiny-llama")("hello")["input_ids"]
    model = RewardModel.from_backbone("org/tiny-llama", max_length=64)
    assert model.info.backbone == "org/tiny-llama"
    assert model.score(["q"], ["a"]).raw[0] is not None

    with pytest.raises(HubUnavailable) as missing:
        resolve_backbone("org/tiny-llama@v2")
    message = str(missing.value)
    assert "\n" not in message
    assert message.startswith("org/tiny-llama@v2: not a local directory")
    assert "(revision v2)" in message and "`hf download org/tiny-llama --revision v2`" in message
    assert str(caches.hub) in message


def test_eval_and_serve_load_a_trained_model_by_name(caches: Caches, tmp_path: Path) -> None:
    import tiny

    from rewardkit.evaluation.scorers import resolve_scorer
    from rewardkit.serving.config import ServeConfig
    from rewardkit.serving.loading import load_backend

    local = tmp_path / "model"
    model = tiny.reward_model("bert", seed=4)
    model.save(local)
    hidden = model.network.config.hidden_size
    detector = fit_mahalanobis(torch.randn(16, hidden), torch.randn(8, hidden))
    detector.save(local)
    cache_model(caches, "org/tiny-rm", local)
    prompts, responses = ["What is 2 + 2?", "Hi"], ["4", "Hello there"]
    expected = RewardModel.load(local).score(prompts, responses).raw

    scorer = resolve_scorer("org/tiny-rm", progress=False)
    assert scorer.name == "tiny-rm"
    assert scorer.score(prompts, responses) == expected  # eval reads raw scores
    served = load_backend(ServeConfig(model="org/tiny-rm"))
    assert served.model.score(prompts, responses).raw == expected
    assert served.ood is not None  # the detector beside the weights, from the cache too
    assert torch.equal(served.ood.mean, detector.mean)
