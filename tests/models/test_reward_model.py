from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rewardkit.models import RewardModel
from rewardkit.models.pooling import last_token
from rewardkit.models.reward_model import token_budget_batches
from rewardkit.records import Message

PROMPTS = ["What is 2 plus 3?", "Hi", "How do I make tea?"]
RESPONSES = ["5", "Hello there, how can I help you today?", "Boil water. Steep the bag."]


def _padded(model: RewardModel, side: str) -> dict[str, torch.Tensor]:
    sequences = [model.encode(p, r) for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    width = max(len(s) for s in sequences)
    pad = model.tokenizer.pad_token_id
    ids, mask = [], []
    for s in sequences:
        fill = [pad] * (width - len(s))
        ids.append(fill + s if side == "left" else s + fill)
        mask.append(
            [0] * len(fill) + [1] * len(s) if side == "left" else [1] * len(s) + [0] * len(fill)
        )
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
@pytest.mark.parametrize("pad_is_eos", [False, True])
def test_decoder_reward_is_the_last_real_token_with_any_padding(
    arch: str, pad_is_eos: bool
) -> None:
    model = tiny.reward_model(arch, pad_is_eos=pad_is_eos).eval()
    with torch.no_grad():
        alone = torch.tensor(
            [
                float(model.scores(**model.collate([model.encode(p, r)]))[0])
                for p, r in zip(PROMPTS, RESPONSES, strict=True)
            ]
        )
        for side in ("left", "right"):
            batched = model.scores(**_padded(model, side))
            assert torch.allclose(batched, alone, atol=1e-5), side


def test_last_token_pooling_reads_the_mask_not_the_pad_id() -> None:
    hidden = torch.arange(12, dtype=torch.float32).reshape(2, 3, 2)
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]])
    assert last_token(hidden, mask).tolist() == [[2.0, 3.0], [10.0, 11.0]]


@pytest.mark.parametrize(
    ("arch", "layout"), [("bert", "text"), ("bert", "pair"), ("llama", "auto")]
)
def test_saved_model_loads_in_plain_transformers_with_equal_scores(
    arch: str, layout: str, tmp_path: Path
) -> None:
    # the first-token head: what AutoModelForSequenceClassification reads (the card shows how
    # to read a mean-pooled model)
    model = tiny.reward_model(arch, layout=layout, pooling="cls" if arch == "bert" else "auto")
    model.eval()
    model.info.mean, model.info.std = 0.5, 2.0
    model.save(tmp_path / "m", card="# card")
    assert (
        not list((tmp_path / "m").glob("*.bin")) and (tmp_path / "m" / "model.safetensors").exists()
    )
    plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "m").eval()
    plain_tokenizer = AutoTokenizer.from_pretrained(tmp_path / "m")
    if layout == "text":  # what TRL and a plain transformers user feed an encoder
        inputs = plain_tokenizer(PROMPTS[0] + RESPONSES[0], return_tensors="pt")
    elif layout == "pair":  # a sentence pair, the response as segment 1
        inputs = plain_tokenizer(PROMPTS[0], RESPONSES[0], return_tensors="pt")
    else:  # prompt tokens, response tokens, end of sequence
        ids = plain_tokenizer(PROMPTS[0])["input_ids"]
        ids += plain_tokenizer(RESPONSES[0], add_special_tokens=False)["input_ids"]
        inputs = {"input_ids": torch.tensor([[*ids, plain_tokenizer.eos_token_id]])}
    ours = model.score(PROMPTS[:1], RESPONSES[:1]).raw[0]
    with torch.no_grad():
        assert float(plain(**inputs).logits[0, 0]) == pytest.approx(ours, abs=1e-6)
    loaded = RewardModel.load(tmp_path / "m", precision="fp32")
    original = model.score(PROMPTS, RESPONSES)
    again = loaded.score(PROMPTS, RESPONSES)
    assert again.raw == pytest.approx(original.raw, abs=1e-6)
    assert again.normalized[0] == pytest.approx((original.raw[0] - 0.5) / 2.0)  # type: ignore[operator]


def test_a_decoder_has_one_layout() -> None:
    with pytest.raises(ValueError, match="layout 'pair' is for encoders"):
        tiny.reward_model("llama", layout="pair")


def test_scores_do_not_depend_on_batching_and_long_inputs_are_flagged() -> None:
    model = tiny.reward_model("bert", max_length=12)
    result = model.score(PROMPTS, RESPONSES, batch_tokens=16)
    assert result.too_long == [False, True, True]
    assert result.raw[1] is None and result.normalized[2] is None
    big = tiny.reward_model("bert", max_length=512)
    assert big.score(PROMPTS, RESPONSES, batch_tokens=10).raw == pytest.approx(
        big.score(PROMPTS, RESPONSES, batch_tokens=10_000).raw, abs=1e-6
    )


def test_conversational_inputs_use_the_chat_template() -> None:
    model = tiny.reward_model("llama")
    model.tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    )
    prompt = (Message("user", "hi"),)
    ids = model.encode(prompt, (Message("assistant", "yo"),))
    assert model.tokenizer.decode(ids).replace(" ", "") == "<user>hi<assistant>yo"


def test_token_budget_batches() -> None:
    lengths = [1, 2, 3, 10]
    assert token_budget_batches([0, 1, 2, 3], lengths, 6) == [[0, 1], [2], [3]]


def test_mean_pooling_for_encoders_round_trips(tmp_path: Path) -> None:
    model = tiny.reward_model("bert", pooling="mean").eval()
    inputs = model.collate(
        [model.encode(PROMPTS[0], RESPONSES[0]), model.encode(PROMPTS[1], RESPONSES[1])]
    )
    with torch.no_grad():
        hidden = model.body()(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).float()
        expected = model.head()((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)
        assert torch.allclose(model.scores(**inputs), expected)
    model.save(tmp_path / "m")
    loaded = RewardModel.load(tmp_path / "m", precision="fp32")
    assert loaded.info.pooling == "mean"
    assert loaded.score(PROMPTS, RESPONSES).raw == pytest.approx(
        model.score(PROMPTS, RESPONSES).raw, abs=1e-6
    )


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_bf16_scores_stay_within_1e_2_of_fp32(arch: str, tmp_path: Path) -> None:
    model = tiny.reward_model(arch, seed=3)
    prompts = [f"Question {i}: how do I keep {i} plants alive?" for i in range(24)]
    responses = [f"Water them {'every day and ' * (i % 5)}check the soil." for i in range(24)]
    fp32 = model.score(prompts, responses, precision="fp32").raw
    model.save(tmp_path / "m")
    loaded = RewardModel.load(tmp_path / "m", precision="bf16")  # bf16 weights, no autocast
    assert loaded.weight_dtype == torch.bfloat16
    for bf16 in (
        model.score(prompts, responses, precision="bf16").raw,
        loaded.score(prompts, responses).raw,
    ):
        gaps = [abs(a - b) for a, b in zip(fp32, bf16, strict=True)]  # type: ignore[operator]
        assert max(gaps) <= 1e-2
        assert max(gaps) > 0  # bf16 really ran
        # the head reads in fp32, so scores are not rounded to bf16's coarse steps (near-ties
        # would tie exactly, and a tie counts wrong)
        assert any(torch.tensor(x).bfloat16().item() != x for x in bf16)
    assert loaded.head().weight.dtype == torch.float32
    with pytest.raises(ValueError, match="precision='fp32'"):
        loaded.score(prompts, responses, precision="fp32")
    loaded.save(tmp_path / "saved-in-bf16")  # a checkpoint in bf16 still loads as fp32 if asked
    again = RewardModel.load(tmp_path / "saved-in-bf16", precision="fp32")
    assert again.weight_dtype == torch.float32
    assert again.score(prompts, responses, precision="fp32").raw[0] is not None


def test_a_plain_roberta_directory_scores_in_bf16(tmp_path: Path) -> None:
    """Its first-token head runs inside the network on padded batches, in the body's dtype."""
    tiny.network("roberta", len(tiny.tokenizer())).save_pretrained(tmp_path)
    tiny.tokenizer().save_pretrained(tmp_path)
    fp32 = RewardModel.from_directory(tmp_path, precision="fp32").score(PROMPTS, RESPONSES).raw
    bf16 = RewardModel.from_directory(tmp_path, precision="bf16").score(PROMPTS, RESPONSES).raw
    assert bf16 == pytest.approx(fp32, abs=1e-2) and bf16 != fp32


def test_batched_tokenization_gives_each_items_own_encoding() -> None:
    for arch in ("bert", "llama"):
        model = tiny.reward_model(arch)
        prompts = ["Hi there", "What is 2+2?", ""]
        responses = ["Hello!", "4, of course.", "Nothing."]
        batched = model.encode_many(prompts, responses)
        assert batched == [
            model.encode_parts(p, r) for p, r in zip(prompts, responses, strict=True)
        ]
