from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from toy_plugins import TOY_FORMAT_NAME, register_toy_format, write_toy_rows

from rewardkit.data import FORMATS, DataError, read_pairs, read_records
from rewardkit.records import Message, Pair, Ranking, Rating, StepTrace

WriteJsonl = Callable[..., Path]


def test_trl_explicit_plain_and_conversational(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {"prompt": "Hi?", "chosen": " Hello!", "rejected": " Go away.", "margin": 2},
            {
                "prompt": [{"role": "user", "content": "Hi?"}],
                "chosen": [{"role": "assistant", "content": "Hello!"}],
                "rejected": [{"role": "assistant", "content": "No."}],
            },
        ]
    )
    stream = read_records(path)
    plain, chat = list(stream)
    assert stream.formats[str(path)] == "trl"
    assert plain == Pair("Hi?", " Hello!", " Go away.", margin=2.0, metadata={})
    assert isinstance(chat, Pair)
    assert chat.prompt == (Message("user", "Hi?"),)
    assert chat.chosen == (Message("assistant", "Hello!"),)


def test_rewardbench_rows_are_trl_pairs_with_their_subset_kept(write_jsonl: WriteJsonl) -> None:
    row = {
        "prompt": "Hi",
        "chosen": "Hello",
        "rejected": "No",
        "subset": "hep-go",
        "chosen_model": "m",
    }
    stream = read_records(write_jsonl([row]))
    (pair,) = list(stream)
    assert isinstance(pair, Pair)
    assert pair.metadata == {"subset": "hep-go", "chosen_model": "m"}
    assert not stream.report.counts  # known RewardBench fields: no unknown-field warning


def test_best_of_k_lists_become_rankings_by_correctness(write_jsonl: WriteJsonl) -> None:
    rows = [
        {"prompt": "P", "chosen": ["right"], "rejected": ["wrong", "worse"], "subset": "Math"},
        {"prompt": "Q", "responses": ["a", "b"], "correct": [False, True]},
    ]
    stream = read_records(write_jsonl(rows))
    first, second = list(stream)
    assert list(stream.formats.values()) == ["best-of-k"]
    assert first == Ranking(
        "P", ("right", "wrong", "worse"), (1.0, 0.0, 0.0), metadata={"subset": "Math"}
    )
    assert isinstance(second, Ranking) and second.scores == (0.0, 1.0)
    assert [(p.chosen, p.rejected) for p in read_pairs(write_jsonl(rows[:1], "one.jsonl"))] == [
        ("right", "wrong"),
        ("right", "worse"),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"prompt": "P", "responses": ["a", "b"], "correct": [True]}, "1 labels for 2 responses"),
        (
            {"prompt": "P", "responses": ["a", "b"], "correct": [False, False]},
            "no response is marked",
        ),
        ({"prompt": "P", "responses": ["a"], "correct": [True]}, "at least 2 responses"),
        ({"prompt": "P", "responses": ["a", "b"], "correct": "yes"}, "a list of booleans"),
    ],
)
def test_bad_best_of_k_rows_are_located(
    write_jsonl: WriteJsonl, row: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError, match=message) as caught:
        list(read_records(write_jsonl([row]), format="best-of-k"))
    assert "rows.jsonl:1" in str(caught.value)


def test_trl_implicit_prompt_is_the_shared_prefix(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {
                "chosen": [
                    {"role": "user", "content": "2+2?"},
                    {"role": "assistant", "content": "4"},
                ],
                "rejected": [
                    {"role": "user", "content": "2+2?"},
                    {"role": "assistant", "content": "5"},
                ],
            },
            {"chosen": "The sky is blue", "rejected": "The sky is green"},
        ]
    )
    chat, plain = read_pairs(path)
    assert chat.prompt == (Message("user", "2+2?"),)
    assert chat.chosen == (Message("assistant", "4"),)
    assert (plain.prompt, plain.chosen, plain.rejected) == ("The sky is", " blue", " green")


def test_hh_rlhf_prompt_runs_to_the_last_shared_assistant_turn(write_jsonl: WriteJsonl) -> None:
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant: Sure, here."
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant: No."
    (pair,) = read_pairs(write_jsonl([{"chosen": chosen, "rejected": rejected}]))
    assert pair.prompt == "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant:"
    assert pair.prompt + pair.chosen == chosen  # type: ignore[operator]
    assert pair.prompt + pair.rejected == rejected  # type: ignore[operator]


def test_hh_rlhf_without_a_shared_turn_is_a_located_error(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [{"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: c\n\nAssistant: d"}]
    )
    with pytest.raises(DataError) as info:
        list(read_records(path, format="hh-rlhf"))
    assert f"{path}:1 field 'chosen'" in str(info.value)


def _tree() -> dict[str, object]:
    def reply(i: str, text: str, rank: int | None, replies: list[object] | None = None) -> object:
        return {
            "message_id": i,
            "role": "assistant" if i.startswith("a") else "prompter",
            "text": text,
            "rank": rank,
            "replies": replies or [],
        }

    follow = reply("p2", "And why?", None, [reply("a3", "Because.", 1), reply("a4", "Physics.", 0)])
    return {
        "message_id": "p1",
        "role": "prompter",
        "text": "Why is the sky blue?",
        "replies": [
            reply("a1", "Scattering.", 0, [follow]),
            reply("a2", "Magic.", 1),
            {**reply("a5", "deleted", 2), "deleted": True},  # type: ignore[dict-item]
        ],
    }


def test_oasst_tree_to_rankings_and_pairs(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl([_tree()])
    top, nested = list(read_records(path))
    assert isinstance(top, Ranking) and isinstance(nested, Ranking)
    assert top.responses == ("Scattering.", "Magic.")
    assert nested.prompt == (
        Message("user", "Why is the sky blue?"),
        Message("assistant", "Scattering."),
        Message("user", "And why?"),
    )
    assert nested.responses == ("Physics.", "Because.")
    pairs = read_pairs(path)
    assert [(p.chosen, p.rejected) for p in pairs] == [
        ("Scattering.", "Magic."),
        ("Physics.", "Because."),
    ]


def test_two_response_votes_with_ties_give_p_chosen(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {
                "instruction": "Name a fruit.",
                "input": "",
                "response1": "Stone.",
                "response2": "Apple.",
                "annotator1": 2,
                "annotator2": 2,
                "annotator3": 0,
            },
            {"prompt": "Say hi", "response_a": "hi", "response_b": "yo", "winner": "tie"},
        ]
    )
    voted, tied = read_pairs(path)
    assert (voted.chosen, voted.rejected) == ("Apple.", "Stone.")
    assert [v.verdict for v in voted.votes] == ["chosen", "chosen", "tie"]
    assert voted.soft_label is None and voted.p_chosen == pytest.approx(2.5 / 3)
    assert tied.is_tie and tied.p_chosen == 0.5


def test_mt_bench_judge_rows_are_grouped_into_one_pair(write_jsonl: WriteJsonl) -> None:
    def row(judge: str, winner: str) -> dict[str, object]:
        return {
            "question_id": 81,
            "model_a": "m1",
            "model_b": "m2",
            "winner": winner,
            "judge": judge,
            "turn": 1,
            "conversation_a": [
                {"role": "user", "content": "Q"},
                {"role": "assistant", "content": "A1"},
            ],
            "conversation_b": [
                {"role": "user", "content": "Q"},
                {"role": "assistant", "content": "B1"},
            ],
        }

    (pair,) = read_pairs(
        write_jsonl([row("j1", "model_b"), row("j2", "model_b"), row("j3", "model_a")])
    )
    assert pair.chosen == (Message("assistant", "B1"),)
    assert [(v.annotator, v.verdict) for v in pair.votes] == [
        ("j1", "chosen"),
        ("j2", "chosen"),
        ("j3", "rejected"),
    ]


def test_graded_solutions_pair_each_correct_with_each_incorrect(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {
                "question": "1+1?",
                "ground_truth": "2",
                "m1": {"is_correct": True, "solution": "2"},
                "m2": {"is_correct": False, "solution": "3"},
                "m3": {"is_correct": False, "solution": "4"},
            }
        ]
    )
    pairs = read_pairs(path)
    assert [(p.chosen, p.rejected) for p in pairs] == [("2", "3"), ("2", "4")]
    assert pairs[0].metadata["ground_truth"] == "2"


def test_prm800k_rows_group_into_one_trace_per_leaf(write_jsonl: WriteJsonl) -> None:
    rows = [
        {"problem": "P", "prior_steps": [], "step": "s1", "rating": 1},
        {"problem": "P", "prior_steps": ["s1"], "step": "bad", "rating": -1},
        {"problem": "P", "prior_steps": ["s1"], "step": "s2", "rating": 0},
        {"problem": "P", "prior_steps": ["s1", "s2"], "step": "s3", "rating": None},
    ]
    traces = list(read_records(write_jsonl(rows)))
    assert {(t.steps, t.labels) for t in traces} == {  # type: ignore[union-attr]
        (("s1", "bad"), (1.0, -1.0)),
        (("s1", "s2", "s3"), (1.0, 0.0, None)),
    }


def test_trl_stepwise_and_math_shepherd(write_jsonl: WriteJsonl) -> None:
    trl = write_jsonl(
        [{"prompt": "Q", "completions": ["a", "b"], "labels": [True, False]}], "trl.jsonl"
    )
    (trace,) = read_records(trl)
    assert trace == StepTrace("Q", ("a", "b"), (1.0, -1.0), metadata={})
    text = "Find x. Step 1: x = 2 ки\nStep 2: so 4 ки"
    shepherd = write_jsonl(
        [{"input": text, "label": "Find x. Step 1: x = 2 +\nStep 2: so 4 -"}], "ms.jsonl"
    )
    (trace,) = read_records(shepherd)
    assert isinstance(trace, StepTrace)
    assert trace.prompt == "Find x."
    assert trace.steps == ("Step 1: x = 2", "Step 2: so 4")
    assert trace.labels == (1.0, -1.0)


def test_ratings_from_a_scores_object_or_numeric_columns(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {
                "source": "ctx",
                "system_output": "resp",
                "system_id": "s",
                "scores": {"overall": 4.5, "coherence": 3},
            }
        ],
        "usr.jsonl",
    )
    (rating,) = read_records(path)
    assert rating == Rating(
        "ctx", "resp", {"overall": 4.5, "coherence": 3.0}, metadata={"system_id": "s"}
    )
    path = write_jsonl(
        [{"prompt": "p", "response": "r", "helpfulness": 3, "verbosity": 1}], "hs.jsonl"
    )
    (rating,) = read_records(path)
    assert isinstance(rating, Rating)
    assert rating.attributes == {"helpfulness": 3.0, "verbosity": 1.0}


def test_column_mapping_and_unknown_fields(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl([{"question": "Q", "good": "yes", "bad": "no", "extra": 1}])
    stream = read_records(path, mapping={"prompt": "question", "chosen": "good", "rejected": "bad"})
    (pair,) = list(stream)
    assert isinstance(pair, Pair)
    assert (pair.prompt, pair.chosen, pair.rejected) == ("Q", "yes", "no")
    assert pair.metadata == {"extra": 1}
    assert stream.report.counts == {"unknown-field": 1}


# ---- a format added from outside the package (tests/toy_plugins.py) -------------------------------


@pytest.fixture
def toy_format(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    assert TOY_FORMAT_NAME not in FORMATS
    register_toy_format(monkeypatch)
    yield TOY_FORMAT_NAME


def test_a_format_inserted_into_formats_is_read_by_name(toy_format: str, tmp_path: Path) -> None:
    path = write_toy_rows(tmp_path / "toy.jsonl", 5)
    stream = read_records(path, format=toy_format)
    pairs = [r for r in stream if isinstance(r, Pair)]
    assert stream.formats[str(path)] == toy_format
    assert stream.report.n_errors == stream.report.n_warnings == 0
    assert len(pairs) == 5 and len({p.prompt for p in pairs}) == 5
    assert pairs[0] == Pair(
        "Question 0: what is 3 plus 2?",
        "Happy to help: 3 plus 2 is 5.",
        "No idea, maybe 6?",
        id="toy-0",
        source=toy_format,
    )


def test_a_format_inserted_into_formats_is_detected(toy_format: str, tmp_path: Path) -> None:
    path = write_toy_rows(tmp_path / "toy.jsonl", 3)
    stream = read_records(path)
    assert [p.id for p in read_pairs(path)] == ["toy-0", "toy-1", "toy-2"]
    list(stream)
    assert stream.formats[str(path)] == toy_format


def test_toy_rows_are_unknown_without_the_plugin(tmp_path: Path) -> None:
    path = write_toy_rows(tmp_path / "toy.jsonl", 2)
    with pytest.raises(ValueError, match="unknown format"):
        read_records(path, format=TOY_FORMAT_NAME)
    stream = read_records(path, on_error="skip")
    assert list(stream) == []
    assert stream.report.counts["unknown-format"] == 2
