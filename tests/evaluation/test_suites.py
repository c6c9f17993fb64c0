"""Suites from real files: RewardBench v1 pair rows, RewardBench 2 lists, suite YAML files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rewardkit.data import DataError, ReadOptions
from rewardkit.evaluation.suites import REWARDBENCH_LEADERBOARD, load_suite

RB1 = [
    {"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away.", "subset": "alpacaeval-easy", "id": 1},
    {"prompt": "2+2?", "chosen": "4", "rejected": "5", "subset": "math-prm", "id": 2,
     "chosen_model": "a", "rejected_model": "b"},
    {"prompt": "Q", "chosen": "A", "rejected": "B", "subset": "my-own-subset", "id": 3},
]  # fmt: skip
RB2 = [
    {"prompt": "Capital of France?", "chosen": ["Paris."], "rejected": ["Rome.", "Lyon.", "Nice."],
     "subset": "Factuality", "num_correct": 1, "id": "x"},
    {"prompt": "Pick", "responses": ["a", "b", "c"], "correct": [False, True, False]},
]  # fmt: skip


def test_rewardbench_rows_keep_their_subsets(write_jsonl: Callable[..., Path]) -> None:
    suite = load_suite(str(write_jsonl(RB1, "rb1.jsonl")))
    assert suite.name == "rb1"
    assert [p.subset for p in suite.pairs] == ["alpacaeval-easy", "math-prm", "my-own-subset"]
    assert [p.outcome for p in suite.pairs] == [1.0, 1.0, 1.0]
    # a data file is its own suite: each subset is a section
    assert suite.section_map() == {s: [s] for s in suite.subsets}


def test_best_of_k_rows_from_both_shapes(write_jsonl: Callable[..., Path]) -> None:
    suite = load_suite(str(write_jsonl(RB2, "rb2.jsonl")))
    first, second = suite.best_of_k
    assert first.responses == ("Paris.", "Rome.", "Lyon.", "Nice.")
    assert first.correct == (True, False, False, False)
    assert first.subset == "Factuality"
    assert second.correct == (False, True, False)
    assert second.subset == "rb2"  # no subset field: the file's name


def test_suite_file_with_builtin_sections_and_leaderboard(
    write_jsonl: Callable[..., Path], tmp_path: Path
) -> None:
    write_jsonl(RB1, "rb1.jsonl")
    (tmp_path / "suite.yaml").write_text("name: rb\nfiles: [rb1.jsonl]\nsections: rewardbench\n")
    suite = load_suite(str(tmp_path / "suite.yaml"))
    sections = suite.section_map()
    assert "alpacaeval-easy" in sections["Chat"]
    assert sections["my-own-subset"] == ["my-own-subset"]  # listed nowhere: kept, not lost
    assert suite.leaderboard == REWARDBENCH_LEADERBOARD


def test_suite_file_with_own_sections_weighting_and_subset_field(
    write_jsonl: Callable[..., Path], tmp_path: Path
) -> None:
    write_jsonl(
        [{"prompt": "p", "chosen": "a", "rejected": "b", "topic": "t1", "soft_label": 0.75}],
        "own.jsonl",
    )
    (tmp_path / "suite.yaml").write_text(
        "files: [own.jsonl]\nsubset_field: topic\nsections: {S: [t1]}\n"
        "leaderboard: {section_weights: {S: 2}}\n"
    )
    suite = load_suite(str(tmp_path / "suite.yaml"))
    assert suite.name == "suite"
    assert suite.pairs[0].subset == "t1"
    assert suite.pairs[0].outcome == 0.75
    assert suite.leaderboard is not None and suite.leaderboard.section_weights == {"S": 2}


def test_rows_without_subset_take_the_file_as_listed(tmp_path: Path) -> None:
    (tmp_path / "hh").mkdir()
    row = '{"prompt": "p", "chosen": "a", "rejected": "b"}\n'
    (tmp_path / "hh" / "eval.jsonl").write_text(row)
    (tmp_path / "eval.jsonl").write_text(row)
    (tmp_path / "suite.yaml").write_text("files: [hh/eval.jsonl, eval.jsonl]\n")
    suite = load_suite(str(tmp_path / "suite.yaml"))
    assert [p.subset for p in suite.pairs] == ["hh/eval", "eval"]


def test_votes_become_counts_and_outcome(write_jsonl: Callable[..., Path]) -> None:
    votes = [
        {"annotator": "a", "verdict": "chosen"},
        {"annotator": "b", "verdict": "rejected"},
        {"annotator": "c", "verdict": "chosen"},
        {"annotator": "d", "verdict": "tie"},
    ]
    path = write_jsonl([{"prompt": "p", "chosen": "a", "rejected": "b", "votes": votes}])
    (pair,) = load_suite(str(path)).pairs
    assert pair.votes == (2, 1, 1)
    assert pair.outcome == pytest.approx(2.5 / 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("files: [a.jsonl]\nsections: nope\n", "unknown section map 'nope'"),
        ("sections: {}\n", "needs a 'files' list"),
        ("files: [a.jsonl]\nextra: 1\n", "unknown keys \\['extra'\\]"),
        ("files: [a.jsonl]\nsections: {S: 3}\n", "must map section names to lists"),
        ("files: [a.jsonl]\nleaderboard: {weights: 1}\n", "'leaderboard' takes"),
    ],
)
def test_bad_suite_files_say_what_is_wrong(
    write_jsonl: Callable[..., Path], tmp_path: Path, text: str, message: str
) -> None:
    write_jsonl(RB1, "a.jsonl")
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValueError, match=message):
        load_suite(str(tmp_path / "bad.yaml"))


def test_bad_rows_fail_with_their_place(write_jsonl: Callable[..., Path]) -> None:
    rows = [*RB2, {"prompt": "p", "responses": ["a", "b"], "correct": [True]}]
    path = write_jsonl(rows, "bad.jsonl")
    with pytest.raises(DataError) as caught:
        load_suite(str(path), ReadOptions(format="best-of-k"))
    assert "bad.jsonl:3" in str(caught.value)
    assert "1 labels for 2 responses" in str(caught.value)


def test_missing_suite_and_empty_suite(write_jsonl: Callable[..., Path], tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_suite(str(tmp_path / "absent.jsonl"))
    empty = write_jsonl([], "empty.jsonl")
    with pytest.raises(ValueError, match="nothing to evaluate"):
        load_suite(str(empty))
