"""One overflow policy for over-long inputs: ``flag`` (no score, counted) or ``truncate_prompt``
(the oldest prompt turns or tokens left out, counted), in scoring, training and evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny

from rewardkit.cli import main
from rewardkit.models.inputs import TooLong
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Message, Pair
from rewardkit.training.evaluate import outputs_of
from rewardkit.training.examples import encode_examples

LIMIT = 24
LONG_PROMPT = " ".join(f"w{i}" for i in range(40)) + " last words"
TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def model(arch: str, chat: bool = False, layout: str = "auto") -> RewardModel:
    built = tiny.reward_model(arch, max_length=LIMIT, layout=layout)
    if chat:
        built.tokenizer.chat_template = TEMPLATE
    return built


def chat(*turns: str) -> tuple[Message, ...]:
    roles = ["system"] + ["user", "assistant"] * len(turns)
    return tuple(Message(role, text) for role, text in zip(roles, turns, strict=False))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arch", "layout"), [("llama", "auto"), ("bert", "pair"), ("bert", "text")]
)
def test_flag_leaves_an_over_long_input_unscored(arch: str, layout: str) -> None:
    result = model(arch, layout=layout).score([LONG_PROMPT, "short"], ["yes", "yes"])
    assert result.too_long == [True, False] and result.raw[0] is None
    assert result.raw[1] is not None and result.truncated == [0, 0]
    assert result.lengths[0] > LIMIT


def test_a_decoder_keeps_its_leading_special_tokens_and_the_whole_response() -> None:
    m = model("llama")
    full = m.encode_parts(LONG_PROMPT, "yes it is")
    fitted = m.encode_within(LONG_PROMPT, ["yes it is"], "truncate_prompt")
    (cut,) = fitted.encoded
    assert len(cut.ids) == LIMIT and fitted.dropped == len(full.ids) - LIMIT
    assert cut.rest == full.rest
    assert cut.prefix[0] == m.tokenizer.cls_token_id  # the template's first token stays
    kept = len(cut.prefix) - 1
    assert cut.prefix[1:] == full.prefix[-kept:]  # the newest prompt tokens stay
    result = m.score([LONG_PROMPT], ["yes it is"], overflow="truncate_prompt")
    assert result.truncated == [fitted.dropped] and result.too_long == [False]
    assert result.raw[0] == pytest.approx(m.unit_outputs([m.unit(cut)])[0].item(), abs=1e-6)


@pytest.mark.parametrize(
    ("layout", "ending"),
    [("pair", "last words [SEP] yes it is [SEP]"), ("text", "last words yes it is [SEP]")],
)
def test_an_encoder_cuts_the_prompt_from_the_left(layout: str, ending: str) -> None:
    m = model("bert", layout=layout)
    fitted = m.encode_within(LONG_PROMPT, [" yes it is"], "truncate_prompt")
    (cut,) = fitted.encoded
    text = m.tokenizer.decode(cut.ids)
    assert len(cut.ids) <= LIMIT and text.startswith("[CLS] w")  # a whole word first
    assert text.endswith(ending) and "w0 " not in text
    assert fitted.dropped == len(m.encode_parts(LONG_PROMPT, " yes it is").ids) - len(cut.ids)
    result = m.score([LONG_PROMPT], [" yes it is"], overflow="truncate_prompt")
    assert result.truncated == [fitted.dropped] and result.too_long == [False]


@pytest.mark.parametrize("arch", ["llama", "bert"])
def test_chat_prompts_lose_whole_turns_from_the_oldest(arch: str) -> None:
    m = model(arch, chat=True)
    prompt = chat("be brief", "first question " * 4, "first answer " * 4, "second question")
    fitted = m.encode_within(prompt, ["ok"], "truncate_prompt")
    (cut,) = fitted.encoded
    text = m.tokenizer.decode(cut.ids)
    assert fitted.dropped > 0 and len(cut.ids) <= LIMIT
    assert "be brief" in text and "second question" in text and "first" not in text
    if arch == "llama":  # the template is applied to the shorter conversation, untouched
        shorter = (prompt[0], prompt[3])
        assert cut.ids == m.encode_parts(shorter, "ok").ids


def test_a_response_too_long_on_its_own_stays_unscored() -> None:
    m = model("llama")
    with pytest.raises(TooLong, match="the response alone is too long"):
        m.encode_within("p", ["word " * 60], "truncate_prompt")
    result = m.score(["p"], ["word " * 60], overflow="truncate_prompt")
    assert result.too_long == [True] and result.raw == [None]


@pytest.mark.parametrize("arch", ["llama", "bert"])
@pytest.mark.parametrize("chat_prompt", [False, True])
def test_training_fits_each_side_as_scoring_does_only_when_told(
    arch: str, chat_prompt: bool
) -> None:
    m = model(arch, chat=chat_prompt)
    prompt = (
        chat("be brief", "first question", "first answer", "second question")
        if chat_prompt
        else LONG_PROMPT
    )
    short, long = "yes", "no it is not so and never was"
    pairs = [Pair(prompt, short, long), Pair("short", "a", "b")]
    flagged = encode_examples(m, pairs, LIMIT)
    cut = encode_examples(m, pairs, LIMIT, overflow="truncate_prompt")
    assert (flagged.too_long, len(flagged.examples), flagged.truncated) == (1, 1, 0)
    assert (cut.too_long, len(cut.examples), cut.truncated) == (0, 2, 1)
    # each side reads what scoring reads for it alone, so the scores agree too
    sides = [cut.examples[0].unit.prefix + branch for branch in cut.examples[0].unit.branches]
    alone = [m.encode_within(prompt, [r], "truncate_prompt").encoded[0].ids for r in (short, long)]
    assert sides == alone
    scored = m.score([prompt, prompt], [short, long], overflow="truncate_prompt").raw
    assert outputs_of(m, cut.examples[:1]).scores.tolist() == pytest.approx(scored, abs=1e-5)
    if chat_prompt:  # the short reply fits the whole conversation, the long one loses a turn
        assert "first question" in m.tokenizer.decode(sides[0])
        assert "first question" not in m.tokenizer.decode(sides[1])


def test_score_and_eval_commands_count_what_they_cut(tmp_path: Path) -> None:
    m = model("bert")
    m.save(tmp_path / "model")
    rows = [
        {"prompt": LONG_PROMPT, "chosen": "yes it is", "rejected": "no"},
        {"prompt": "short", "chosen": "yes", "rejected": "no"},
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["--model", str(tmp_path / "model"), "--data", str(data)]
    assert main(["score", *common, "--output", str(tmp_path / "flag.jsonl")]) == 0
    assert main(["score", *common, "--output", str(tmp_path / "cut.jsonl"),
                 "--overflow", "truncate_prompt"]) == 0  # fmt: skip
    flag = [json.loads(x) for x in (tmp_path / "flag.jsonl").read_text().splitlines()]
    cut = [json.loads(x) for x in (tmp_path / "cut.jsonl").read_text().splitlines()]
    assert flag[0]["chosen"]["too_long"] and flag[0]["chosen"]["raw"] is None
    assert cut[0]["chosen"]["truncated_tokens"] > 0 and cut[0]["chosen"]["raw"] is not None
    assert cut[1]["chosen"]["truncated_tokens"] == 0
    for policy in ("flag", "truncate_prompt"):
        out = tmp_path / policy
        assert main(["eval", "--models", str(tmp_path / "model"), "--suites", str(data),
                     "--output", str(out), "--resamples", "20", "--overflow", policy]) == 0  # fmt: skip
        (result,) = json.loads((out / "metrics.json").read_text())["results"][:1]
        counts = (result["too_long"], result["truncated"], result["unscored"])
        assert counts == ((2, 0, 2) if policy == "flag" else (0, 2, 0))
        assert "prompt cut" in (out / "report.md").read_text()


def test_the_text_layout_keeps_turns_apart_and_cuts_text_without_spaces() -> None:
    m = model("bert", layout="text")
    turn = (Message("user", "is it blue"),)
    assert (
        m.tokenizer.decode(m.encode_parts(turn, "Yes").ids) == "[CLS] user : is it blue yes [SEP]"
    )
    no_spaces = ",".join(f"w{i}" for i in range(200)) + ",end"  # a token per piece, no word break
    fitted = m.encode_within(no_spaces, [" yes"], "truncate_prompt")
    (cut,) = fitted.encoded
    assert fitted.dropped > 300 and len(cut.ids) <= LIMIT
    assert m.tokenizer.decode(cut.ids).endswith(", end yes [SEP]")
    with pytest.raises(TooLong, match="the response alone is too long"):
        m.encode_within("p", [" word" * 60], "truncate_prompt")
