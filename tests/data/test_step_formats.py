"""Step formats: PRM800K paths cut at the first error, neutral kept apart, soft labels kept as
floats, Math-Shepherd soft estimates, ProcessBench rows; and what a label means as a target."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rewardkit.data import read_records
from rewardkit.data.formats.steps import first_error, step_probability
from rewardkit.records import StepTrace

WriteJsonl = Callable[..., Path]


def _traces(path: Path, **options: Any) -> list[StepTrace]:
    records = list(read_records(path, **options))
    assert all(isinstance(r, StepTrace) for r in records)
    return records  # type: ignore[return-value]


def test_prm800k_paths_stop_at_the_first_wrong_step(write_jsonl: WriteJsonl) -> None:
    rows = [
        {"problem": "P", "prior_steps": [], "step": "s1", "rating": 1},
        {"problem": "P", "prior_steps": ["s1"], "step": "bad", "rating": -1},
        {"problem": "P", "prior_steps": ["s1", "bad"], "step": "after", "rating": 1},
        {"problem": "P", "prior_steps": ["s1"], "step": "s2", "rating": 0},
        {"problem": "P", "prior_steps": ["s1", "s2"], "step": "s3", "rating": 1},
    ]
    traces = _traces(write_jsonl(rows))
    assert [(t.steps, t.labels) for t in traces] == [
        (("s1", "bad"), (1.0, -1.0)),  # the row past the error is not supervision: cut
        (("s1", "s2", "s3"), (1.0, 0.0, 1.0)),  # neutral stays 0.0 until it becomes a target
    ]


def test_trl_stepwise_keeps_soft_labels_and_reads_zero_as_wrong(write_jsonl: WriteJsonl) -> None:
    row = {"prompt": "Q", "completions": ["a", "b", "c", "d"], "labels": [0.37, 0, 1, False]}
    (trace,) = _traces(write_jsonl([row]))
    assert trace.labels == (0.37, -1.0, 1.0, -1.0)
    assert isinstance(trace.labels[0], float)


def test_out_of_range_step_labels_are_located_errors(write_jsonl: WriteJsonl) -> None:
    rows = [
        {"prompt": "Q", "completions": ["a"], "labels": [1.5]},
        {"prompt": "Q", "completions": ["a"], "labels": [-0.5]},
    ]
    stream = read_records(write_jsonl(rows), on_error="skip")
    assert list(stream) == []
    issues = stream.report.issues
    assert [(i.location.line, i.field) for i in issues] == [(1, "labels[0]"), (2, "labels[0]")]


def test_math_shepherd_soft_estimates(write_jsonl: WriteJsonl) -> None:
    text = "Find x. Step 1: x = 2 ки\nStep 2: so 4 ки"
    (trace,) = _traces(write_jsonl([{"input": text, "label": [0.75, 0.0]}]))
    assert trace.prompt == "Find x."
    assert trace.steps == ("Step 1: x = 2", "Step 2: so 4")
    assert trace.labels == (0.75, -1.0)  # no rollout reached the answer: wrong, not neutral


def test_math_shepherd_needs_one_estimate_per_tag(write_jsonl: WriteJsonl) -> None:
    text = "Step 1: a ки\nStep 2: b ки"
    stream = read_records(write_jsonl([{"input": text, "label": [0.5]}]), on_error="skip")
    assert list(stream) == []
    (issue,) = stream.report.issues
    assert issue.field == "label" and "2 estimates" in issue.message


def test_processbench_rows_label_up_to_the_earliest_error(tmp_path: Path) -> None:
    rows = [
        {
            "id": "gsm8k-0",
            "generator": "Qwen2-7B-Instruct",
            "problem": "What is 2 + 3 * 4?",
            "steps": ["3 * 4 = 12.", "2 + 12 = 15.", "The answer is 15."],
            "final_answer_correct": False,
            "label": 1,
        },
        {
            "id": "gsm8k-1",
            "generator": "g",
            "problem": "What is 1 + 1?",
            "steps": ["1 + 1 = 2.", "The answer is 2."],
            "final_answer_correct": True,
            "label": -1,
        },
    ]
    path = tmp_path / "gsm8k.json"
    path.write_text(json.dumps(rows))
    first, second = _traces(path)
    assert first.labels == (1.0, -1.0, None)  # nothing past the earliest error is judged
    assert first.metadata == {"generator": "Qwen2-7B-Instruct", "final_answer_correct": False}
    assert second.labels == (1.0, 1.0)
    assert [first_error(t.labels, "positive") for t in (first, second)] == [1, -1]


def test_processbench_label_past_the_last_step_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"problem": "P", "steps": ["a"], "label": 1}]))
    stream = read_records(path, on_error="skip")
    assert list(stream) == []
    (issue,) = stream.report.issues
    assert issue.field == "label" and "below 1" in issue.message


@pytest.mark.parametrize(
    ("neutral", "target"), [("positive", 1.0), ("negative", 0.0), ("unlabelled", math.nan)]
)
def test_neutral_is_what_the_parameter_says(neutral: str, target: float) -> None:
    got = step_probability(0.0, neutral)  # type: ignore[arg-type]
    assert got == target or (math.isnan(got) and math.isnan(target))
    assert step_probability(-1.0, neutral) == 0.0  # type: ignore[arg-type]
    assert step_probability(1.0, neutral) == 1.0  # type: ignore[arg-type]
    assert step_probability(0.37, neutral) == 0.37  # type: ignore[arg-type]
    assert math.isnan(step_probability(None, neutral))  # type: ignore[arg-type]


def test_first_error_follows_neutral_and_soft_labels() -> None:
    labels = (1.0, 0.0, 0.3, -1.0)
    assert first_error(labels, "positive") == 2  # 0.3 < 0.5: more likely wrong
    assert first_error(labels, "negative") == 1
    assert first_error((None, 1.0, 0.6), "positive") == -1
    with pytest.raises(ValueError, match="neutral must be one of"):
        step_probability(0.0, "maybe")  # type: ignore[arg-type]
