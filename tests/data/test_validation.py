from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rewardkit.data import DataError, ReadOptions, RecordStream, read_records
from rewardkit.models.backbones import load_tokenizer, token_counter

WriteJsonl = Callable[..., Path]


def test_content_problems_are_reported_with_place_and_reason(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl(
        [
            {"prompt": "p1", "chosen": "a", "rejected": "b"},
            {"prompt": "p2", "chosen": "same", "rejected": "same"},
            {"prompt": "p3", "chosen": "  ", "rejected": "b"},
            {"prompt": "p1", "chosen": "a", "rejected": "b"},
            {"prompt": "p1", "chosen": "b", "rejected": "a"},
        ]
    )
    with pytest.raises(DataError) as info:
        list(read_records(path))
    found = [(str(i.location), i.code) for i in info.value.report.issues]
    assert found == [
        (f"{path}:2", "identical-responses"),
        (f"{path}:3", "empty-response"),
        (f"{path}:4", "duplicate"),
        (f"{path}:5", "contradictory"),
    ]
    assert f"same item as {path}:1" in info.value.report.issues[2].message
    stream = read_records(path, on_error="skip")
    kept = list(stream)
    assert len(kept) == 2  # the first pair and its (warned) contradiction
    assert stream.report.rows_skipped == 3
    assert dict(stream.report.counts) == {
        "identical-responses": 1,
        "empty-response": 1,
        "duplicate": 1,
        "contradictory": 1,
    }


def test_same_pair_with_other_votes_is_not_a_duplicate(write_jsonl: WriteJsonl) -> None:
    vote = {"annotator": "w1", "verdict": "chosen"}
    path = write_jsonl(
        [
            {"prompt": "p", "chosen": "a", "rejected": "b", "votes": [vote]},
            {"prompt": "p", "chosen": "a", "rejected": "b", "votes": [{**vote, "annotator": "w2"}]},
        ]
    )
    assert len(list(read_records(path))) == 2


def test_items_over_the_tokenizer_limit_are_flagged_never_cut(write_jsonl: WriteJsonl) -> None:
    tokenizer = load_tokenizer("minilm")
    path = write_jsonl(
        [
            {"prompt": "Say something.", "chosen": "word " * 40, "rejected": "ok"},
            {"prompt": "Say something.", "chosen": "fine", "rejected": "ok"},
        ]
    )
    stream = RecordStream([path], ReadOptions(on_error="skip"), token_counter(tokenizer), 32)
    kept = list(stream)
    assert [p.chosen for p in kept] == ["fine"]  # type: ignore[union-attr]
    (issue,) = stream.report.issues
    assert (issue.code, issue.field, str(issue.location)) == ("too-long", "chosen", f"{path}:1")
    assert "limit 32" in issue.message


def test_strict_mode_lists_every_error_not_only_the_first(write_jsonl: WriteJsonl) -> None:
    path = write_jsonl([{"prompt": "p", "chosen": i, "rejected": "r"} for i in range(120)])
    with pytest.raises(DataError) as info:
        list(read_records(path))
    assert info.value.report.n_errors == 120
    assert "and 70 more" in str(info.value)
