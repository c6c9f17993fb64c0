"""The OpenAI-compatible judge against a real server on loopback: log-probabilities, parsed text,
retries, errors, and the call cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_openai

from rewardkit.feedback import CallCache, JudgeReply, JudgeRequest, Labeller, LabelSettings
from rewardkit.feedback.constitution import Constitution, Principle
from rewardkit.feedback.http import ChatJudge
from rewardkit.records import Pair

PROMPT = "Which is shorter?\nOptions:\n(A) one two three\n(B) one\n"
CONSTITUTION = Constitution("c", (Principle("short", "Which is shorter?"),))


@contextmanager
def judge(url: str, **options: Any) -> Iterator[ChatJudge]:
    made = ChatJudge(url, "fake-model", "fake", backoff_s=0.001, **options)
    try:
        yield made
    finally:
        made.close()


def ask(url: str, request: JudgeRequest | None = None, **options: Any) -> JudgeReply:
    with judge(url, **options) as j:
        return j(request or JudgeRequest(PROMPT))


def test_logprobs_give_p_a_and_text_is_the_fallback() -> None:
    server = FakeOpenAI()
    with fake_openai(server) as url:
        reply = ask(url)
        assert reply.reading == "logprobs" and reply.p_a == pytest.approx(0.2)
        assert reply.tokens_in == len(PROMPT.split())
        server.logprobs = False
        reply = ask(url)
        assert (reply.reading, reply.p_a, reply.text) == ("text", 0.0, "(B)")
        assert ask(url, logprobs=False).reading == "text"
    assert [b.get("top_logprobs") for b in server.bodies] == [10, 10, None]
    assert server.bodies[0]["messages"] == [{"role": "user", "content": PROMPT}]


def test_reasoning_first_reads_the_last_letter_of_the_text() -> None:
    server = FakeOpenAI(text="(A) looks long. (B) is short.\nThe answer is: (B)")
    with fake_openai(server) as url:
        reply = ask(url, JudgeRequest(PROMPT, reason_first=True), max_new_tokens=64)
    assert (reply.reading, reply.p_a) == ("text", 0.0)
    assert server.bodies[0]["max_tokens"] == 64 and "logprobs" not in server.bodies[0]


def test_rate_limits_and_server_errors_are_retried() -> None:
    server = FakeOpenAI(failures=[429, 503, 500])
    with fake_openai(server) as url, judge(url) as j:
        reply = j(JudgeRequest(PROMPT))
    assert reply.p_a == pytest.approx(0.2)
    assert j.retried == 3 and len(server.bodies) == 4 and len(server.answered) == 1


def test_retries_give_up_and_other_errors_fail_at_once() -> None:
    failing = FakeOpenAI(failures=[503, 503, 503])
    with fake_openai(failing) as url, pytest.raises(RuntimeError, match="HTTP 503 after 2 retries"):
        ask(url, retries=2)
    server = FakeOpenAI(failures=[400])
    with fake_openai(server) as url, pytest.raises(RuntimeError, match="HTTP 400 after 0 retries"):
        ask(url)
    assert len(server.bodies) == 1


def test_a_dead_endpoint_is_retried_then_named() -> None:
    with pytest.raises(RuntimeError, match=r"127\.0\.0\.1:9/v1/chat/completions"):
        ask("http://127.0.0.1:9/v1", retries=1)


def test_the_cache_answers_a_second_labeller_without_calls(tmp_path: Path) -> None:
    pairs = [Pair("Say hi.", "hi", "hello there friend"), Pair("Say no.", "no no no no", "no")]
    server = FakeOpenAI()
    with fake_openai(server) as url:
        labels = []
        for _ in range(2):
            with judge(url) as j:
                labeller = Labeller(j, CONSTITUTION, CallCache(tmp_path / "calls.jsonl"))
                labels.append([labeller.label(p) for p in pairs])
        assert (labeller.spend.calls, labeller.spend.cached) == (0, 4)
    assert len(server.answered) == 4  # 2 pairs x 2 orders, once each
    first = labels[0]
    # the fake prefers the shorter option with 0.8 in both orders: no position bias
    assert [lab.p_chosen for lab in first] == pytest.approx([0.8, 0.2])
    assert [lab.p_orders for lab in first] == [pytest.approx((0.8, 0.8)), pytest.approx((0.2, 0.2))]
    assert all(lab.consistent for lab in first)
    assert [lab.p_chosen for lab in labels[1]] == [lab.p_chosen for lab in first]


def test_samples_and_principles_each_make_their_own_call(tmp_path: Path) -> None:
    two = Constitution("c", (Principle("x", "Shorter?"), Principle("y", "Briefer?")))
    server = FakeOpenAI()
    settings = LabelSettings(principles_per_pair=0, samples=3)
    with fake_openai(server) as url, judge(url) as j:
        label = Labeller(j, two, CallCache(tmp_path / "c.jsonl"), settings).label(
            Pair("p", "a", "b c")
        )
    assert len(server.answered) == len(set(server.answered)) == 2 * 2 * 3
    assert sorted({seed for _, seed in server.answered}) == [0, 1, 2]
    assert [j.principle for j in label.judgments] == ["x", "y"]
    assert label.p_chosen == pytest.approx(0.8)
