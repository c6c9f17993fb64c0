"""Constitutions, answer reading, the cache file and the agreement numbers, by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rewardkit.feedback import (
    CallCache,
    JudgeReply,
    agreement_report,
    call_key,
    cohen_kappa,
    load_constitution,
)
from rewardkit.feedback.agreement import orientation
from rewardkit.feedback.base import letter_of_text, p_a_of_logprobs
from rewardkit.feedback.constitution import comparison_prompt
from rewardkit.feedback.labeling import PairLabel
from rewardkit.records import Message, Pair, Vote

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((ROOT / "configs" / "constitutions").glob("*.yaml")))
def test_shipped_constitutions_load(path: Path) -> None:
    constitution = load_constitution(path)
    assert constitution.principles and constitution.reason_first == ("cot" in path.name)


def test_the_multiple_choice_prompt() -> None:
    c = load_constitution(ROOT / "configs" / "constitutions" / "harmless.yaml")
    prompt = (Message("user", "Hi {there}"), Message("assistant", "Hello."), Message("user", "x?"))
    text = comparison_prompt(c.principles[1], prompt, "yes", "no", reason_first=False)
    assert text.startswith(
        "Consider the following conversation between a human and an assistant:\n"
        "Human: Hi {there}\n\nAssistant: Hello.\n\nHuman: x?\n\nWhich of these assistant"
    )
    assert "Options:\n(A) yes\n(B) no\n" in text and text.endswith("(A) or (B).")
    assert c.choose("pair-1", 1, 0) == c.choose("pair-1", 1, 0)
    assert len({c.choose(f"pair-{i}", 1, 0)[0].name for i in range(40)}) == len(c.principles)
    assert c.choose("pair-1", 0, 0) == c.principles


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("principles: []", "non-empty list"),
        ("principles: [{name: a}]", r"principles\[0\].question"),
        ("principles: [{name: a, question: q, template: '{question}'}]", "missing placeholders"),
        ("principles: [{name: a, question: q}, {name: a, question: r}]", "repeat"),
        ("principle: []", "unknown keys"),
    ],
)
def test_bad_constitutions_are_named(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_constitution(path)


def test_reading_the_answer() -> None:
    assert letter_of_text("(B)") == "B"
    assert letter_of_text("A") == "A"
    assert letter_of_text("(A) is rude, (B) is kind. The answer is: (B)") == "B"
    assert letter_of_text("Neither.") is None
    assert p_a_of_logprobs(math.log(0.3), math.log(0.1)) == pytest.approx(0.75)
    assert (p_a_of_logprobs(None, -1.0), p_a_of_logprobs(-1.0, None)) == (0.0, 1.0)
    assert p_a_of_logprobs(None, None) is None


def test_the_cache_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    key = call_key("judge", "prompt", "chosen_first", "harm", 0)
    assert key != call_key("judge", "prompt", "rejected_first", "harm", 0)
    CallCache(path).put(key, JudgeReply(0.25, "logprobs", "", 10, 1))
    with open(path, "a") as out:
        out.write('{"key": "half a li')  # the run was killed while writing
    cache = CallCache(path)
    assert (len(cache), cache.torn, cache.get(key)) == (
        1,
        1,
        JudgeReply(0.25, "logprobs", "", 10, 1),
    )
    cache.put("k2", JudgeReply(None, "text", "no letter"))
    reread = CallCache(path)
    assert (len(reread), reread.torn, reread.get("k2")) == (
        2,
        1,
        JudgeReply(None, "text", "no letter"),
    )


def test_cohen_kappa_by_hand() -> None:
    a = np.array([1, 1, 1, 0, 0, 0, 1, 1, 0, 1], dtype=float)
    b = np.array([1, 1, 0, 0, 0, 1, 1, 1, 0, 0], dtype=float)
    # observed 7/10; expected 0.6*0.5 + 0.4*0.5 = 0.5; kappa (0.7 - 0.5) / 0.5
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, a) == pytest.approx(1.0)


def votes(*verdicts: str) -> tuple[Vote, ...]:
    return tuple(Vote(f"ann{i}", v) for i, v in enumerate(verdicts))  # type: ignore[arg-type]


def label(pair: Pair, p: float, orders: tuple[float, float]) -> PairLabel:
    return PairLabel(pair, "k", p, orders, 0, ())


def test_the_agreement_report_by_hand() -> None:
    short, long = "ok", "a much longer answer"
    labels = [
        # humans prefer chosen 3-0; the judge agrees, consistently
        label(Pair("p", long, short, votes=votes("chosen", "chosen", "chosen")), 0.9, (0.9, 0.9)),
        # humans 2-1 for chosen; the judge disagrees, and flips with the order
        label(Pair("p", short, long, votes=votes("chosen", "rejected", "chosen")), 0.4, (0.6, 0.2)),
        # humans 1-2 (rejected preferred); the judge agrees
        label(
            Pair("p", long, short, votes=votes("rejected", "rejected", "chosen")), 0.3, (0.3, 0.3)
        ),
        # a single unanimous vote-free pair; the judge ties
        label(Pair("p", short, long), 0.5, (0.7, 0.3)),
    ]
    report = agreement_report(labels)
    assert (report.pairs, report.decided_pairs, report.multi_annotator_pairs) == (4, 4, 3)
    assert report.accuracy == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    # kappa over the 3 pairs where both pick a side: judge (1, 0, 0) vs humans (1, 1, 0) in
    # chosen terms, read in the hash orientation (a flipped pair swaps 0 and 1 for both)
    flips = np.array([orientation(lab.pair) for lab in labels[:3]])
    assert flips.tolist() == [True, False, True]  # pairs 1 and 3: rejected "ok" hashes smaller
    assert report.kappa == pytest.approx(cohen_kappa(np.array([0.0, 0, 1]), np.array([0.0, 1, 1])))
    assert report.kappa == pytest.approx(0.4)  # observed 2/3, expected 1/3*2/3 + 2/3*1/3 = 4/9
    assert report.position_consistency == pytest.approx(2 / 4)
    # the judge prefers the longer side on pairs 1 and 3? pair 1 yes, 2 yes (rejected is longer), 3 no
    assert report.ai_prefers_longer == pytest.approx(2 / 3)
    assert report.majority_accuracy == pytest.approx(2 / 3)
    assert report.vote_accuracy == pytest.approx((3 + 1 + 2) / 9)
    assert report.vote_accuracy_ceiling == pytest.approx((3 + 2 + 2) / 9)
    by_name = {a.annotator: a for a in report.annotators}
    # ann1 voted chosen, rejected, rejected; judge sides chosen, rejected, rejected: 3/3
    assert by_name["ann1"].judge_agreement == 1.0 and by_name["ann1"].votes == 3
    assert by_name["ann1"].judge_kappa == pytest.approx(1.0)
    # ann2 voted chosen, chosen, chosen vs the others' majorities chosen, (tie: skipped), rejected
    assert by_name["ann2"].others_agreement == pytest.approx(1 / 2)
    assert report.to_dict()["annotators"][0]["annotator"] == "ann0"
