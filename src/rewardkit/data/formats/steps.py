"""Formats that yield step traces (process supervision).

- ``prm800k-steps``: one row per rated step (``problem``, ``prior_steps``, ``step``, ``rating``),
  as in the denormalised PRM800K; rows are grouped into every distinct path of steps, so each
  alternative step that graders rated ends a trace of its own.
- ``trl-stepwise``: TRL's ``prompt/completions/labels``.
- ``math-shepherd``: ``input`` with a ``ки`` tag after each step, ``label`` with ``+``/``-`` there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rewardkit.data.formats.base import Format, Located, extra_fields, field_error_issue, has_keys
from rewardkit.data.issues import Issue, Location
from rewardkit.data.readers import RawRow
from rewardkit.records import (
    FieldError,
    Record,
    StepLabel,
    StepTrace,
    parse_optional_str,
    parse_text,
    require,
    type_name,
)

STEP_TAG = "ки"


def parse_step_label(value: Any, field_name: str) -> StepLabel:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else -1.0
    if isinstance(value, (int, float)):
        return float(value)
    raise FieldError(
        field_name, f"expected -1/0/1, a bool, a number or null, got {type_name(value)}"
    )


def _string_list(value: Any, field_name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise FieldError(field_name, f"expected a list of strings, got {type_name(value)}")
    return value


# ---- PRM800K step rows ---------------------------------------------------------------------------


def _prm800k_stream(rows: Iterable[RawRow]) -> Iterator[Located | Issue]:
    problems: dict[str, dict[tuple[str, ...], StepLabel]] = {}
    first_seen: dict[str, Location] = {}
    for raw in rows:
        row = raw.value
        try:
            problem = require(row, "problem")
            if not isinstance(problem, str):
                raise FieldError("problem", f"expected a string, got {type_name(problem)}")
            prior = _string_list(require(row, "prior_steps"), "prior_steps")
            step = require(row, "step")
            if not isinstance(step, str):
                raise FieldError("step", f"expected a string, got {type_name(step)}")
            label = parse_step_label(row.get("rating"), "rating")
        except FieldError as exc:
            yield field_error_issue(raw, exc)
            continue
        problems.setdefault(problem, {})[(*prior, step)] = label
        first_seen.setdefault(problem, raw.location)
    for index, (problem, paths) in enumerate(problems.items()):
        for trace in _traces_of(problem, paths, index):
            yield trace, first_seen[problem]


def _traces_of(
    problem: str, paths: dict[tuple[str, ...], StepLabel], index: int
) -> list[StepTrace]:
    """One trace per leaf path; a prefix nobody rated keeps a ``None`` label."""
    prefixes = {path[:k] for path in paths for k in range(1, len(path))}
    leaves = [path for path in paths if path not in prefixes]
    return [
        StepTrace(
            prompt=problem,
            steps=leaf,
            labels=tuple(paths.get(leaf[: k + 1]) for k in range(len(leaf))),
            id=f"prm800k:{index}:{n}",
            source="prm800k",
        )
        for n, leaf in enumerate(leaves)
    ]


# ---- TRL stepwise and Math-Shepherd --------------------------------------------------------------


def _trl_stepwise_row(row: Mapping[str, Any]) -> list[Record]:
    steps = _string_list(require(row, "completions"), "completions")
    labels = require(row, "labels")
    if not isinstance(labels, list) or len(labels) != len(steps):
        raise FieldError("labels", f"expected a list of {len(steps)} labels, one per completion")
    return [
        StepTrace(
            prompt=parse_text(require(row, "prompt"), "prompt"),
            steps=tuple(steps),
            labels=tuple(parse_step_label(v, f"labels[{i}]") for i, v in enumerate(labels)),
            id=parse_optional_str(row.get("id"), "id"),
            metadata=extra_fields(TRL_STEPWISE, row),
        )
    ]


def split_math_shepherd(text: str, labelled: str) -> tuple[str, list[str], list[StepLabel]]:
    """Each ``ки`` (two characters) in ``text`` stands where ``labelled`` has one ``+`` or ``-``."""
    pieces = text.split(STEP_TAG)
    if len(pieces) < 2:
        raise FieldError("input", f"no '{STEP_TAG}' step tag")
    head = pieces[0]
    marker = head.find("Step 1:")
    prompt, first = (head[:marker].strip(), head[marker:]) if marker >= 0 else ("", head)
    steps = [first.strip()] + [p.strip() for p in pieces[1:-1]]
    labels: list[StepLabel] = []
    position = -len(STEP_TAG)
    for i in range(len(steps)):
        position = text.index(STEP_TAG, position + len(STEP_TAG))
        mark = labelled[position - i] if position - i < len(labelled) else ""
        if mark not in ("+", "-"):
            raise FieldError("label", f"expected '+' or '-' for step {i + 1}, found {mark!r}")
        labels.append(1.0 if mark == "+" else -1.0)
    return prompt, steps, labels


def _math_shepherd_row(row: Mapping[str, Any]) -> list[Record]:
    text, labelled = require(row, "input"), require(row, "label")
    if not isinstance(text, str) or not isinstance(labelled, str):
        raise FieldError("input", "expected 'input' and 'label' strings")
    prompt, steps, labels = split_math_shepherd(text, labelled)
    return [
        StepTrace(
            prompt=prompt,
            steps=tuple(steps),
            labels=tuple(labels),
            source="math-shepherd",
            metadata=extra_fields(MATH_SHEPHERD, row),
        )
    ]


def _looks_math_shepherd(row: Mapping[str, Any]) -> bool:
    return isinstance(row.get("input"), str) and STEP_TAG in row["input"] and "label" in row


PRM800K_STEPS = Format(
    "prm800k-steps",
    "step_trace",
    "PRM800K rows: problem, prior_steps, step, rating -1/0/1",
    has_keys("problem", "prior_steps", "step"),
    fields=frozenset({"problem", "prior_steps", "step", "rating"}),
    metadata_fields=frozenset(
        {
            "ground_truth_answer",
            "is_human_response",
            "is_solution",
            "is_preferred_response",
            "error_reason",
        }
    ),
    convert_stream=_prm800k_stream,
)
TRL_STEPWISE = Format(
    "trl-stepwise",
    "step_trace",
    "TRL stepwise supervision: prompt/completions/labels",
    has_keys("prompt", "completions", "labels"),
    fields=frozenset({"prompt", "completions", "labels", "id"}),
    convert_row=_trl_stepwise_row,
)
MATH_SHEPHERD = Format(
    "math-shepherd",
    "step_trace",
    "Math-Shepherd: steps tagged 'ки' in input, '+'/'-' in label",
    _looks_math_shepherd,
    fields=frozenset({"input", "label"}),
    convert_row=_math_shepherd_row,
)
