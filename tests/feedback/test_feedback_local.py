"""The local judge on a tiny random causal LM built in code (saved, then loaded by path)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tiny
import torch

from rewardkit.feedback import JudgeOptions, JudgeRequest, build_judge
from rewardkit.feedback.constitution import ANSWER_PREFIX
from rewardkit.feedback.local import LocalJudge

PROMPT = "Which is kinder?\nOptions:\n(A) thank you\n(B) go away\n"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model, tokenizer = tiny.policy()
    folder = tmp_path_factory.mktemp("lm")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_p_a_is_the_softmax_of_the_two_letters(saved: Path) -> None:
    judge = build_judge(f"local:{saved}", JudgeOptions(precision="fp32"))
    assert isinstance(judge, LocalJudge) and judge.name == f"local:{saved}|t=0.0|fp32"
    reply = judge(JudgeRequest(PROMPT))
    tok = judge.tokenizer
    ids = tok(PROMPT + "\n" + ANSWER_PREFIX, add_special_tokens=False, return_tensors="pt")
    with torch.inference_mode():
        logits = judge.model(input_ids=ids["input_ids"]).logits[0, -1]
    a, b = tok.convert_tokens_to_ids(["a", "b"])  # the WordPiece tokenizer lower-cases
    expected = torch.softmax(logits[[a, b]], dim=0)[0].item()
    assert reply.reading == "logprobs" and reply.p_a == pytest.approx(expected, abs=1e-6)
    assert reply.tokens_in == ids["input_ids"].shape[1] and reply.tokens_out == 0


def test_reasoning_first_writes_then_reads_the_letter(saved: Path) -> None:
    judge = build_judge(f"local:{saved}", JudgeOptions(precision="fp32", max_new_tokens=4))
    reply = judge(JudgeRequest(PROMPT, reason_first=True))
    assert 0.0 < (reply.p_a or 0.0) < 1.0 and reply.tokens_out == 4
    again = judge(JudgeRequest(PROMPT, reason_first=True))
    assert again == reply  # greedy at temperature 0: the same reasoning, the same answer


def test_a_missing_model_is_named() -> None:
    with pytest.raises(ValueError, match="judge model 'nowhere'"):
        build_judge("local:nowhere", JudgeOptions())
    with pytest.raises(ValueError, match="KIND:MODEL"):
        build_judge("gpt-4o", JudgeOptions())
