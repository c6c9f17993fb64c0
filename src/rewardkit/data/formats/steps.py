"""Formats that yield step traces (process supervision), and what a step label means.

- ``prm800k-steps``: one row per rated step (``problem``, ``prior_steps``, ``step``, ``rating``),
  as in the denormalised PRM800K; rows are grouped into every distinct path of steps, so each
  alternative step that graders rated ends a trace of its own. Graders stop at the first wrong
  step, so a path is cut there: the few rows past a -1 are not supervision anyone gave.
- ``trl-stepwise``: TRL's ``prompt/completions/labels``; a label is a bool or P(step is right)
  in [0, 1] (soft labels, e.g. Math-Shepherd's rollout estimates, are kept as floats).
- ``math-shepherd``: ``input`` with a ``ки`` tag after each step, ``label`` with ``+``/``-``
  there (hard estimates), or a list of numbers, one per tag (soft estimates).
- ``processbench``: ProcessBench rows (``id``, ``generator``, ``problem``, ``steps``,
  ``final_answer_correct``, ``label``), ``label`` the index of the earliest wrong step or -1;
  steps after the earliest error are unlabelled, as ProcessBench judges none of them.

A step label (``records.StepLabel``) is -1.0 (wrong), +1.0 (right), 0.0 (PRM800K's neutral:
neither), a probability strictly between 0 and 1 (soft), or None (unlabelled). What neutral
counts as is decided where labels become targets (``step_probability``), not when reading: the
PRM800K paper counts it right, TRL's conversion of PRM800K counts it wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, get_args

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

Neutral = Literal["positive", "negative", "unlabelled"]
"""What a neutral step (PRM800K's rating 0) counts as: right (Lightman et al. 2023), wrong
(TRL's PRM800K conversion), or not supervised at all."""
NEUTRALS: tuple[str, ...] = get_args(Neutral)
_NEUTRAL_TARGET: dict[str, float] = {"positive": 1.0, "negative": 0.0, "unlabelled": math.nan}


def step_probability(label: StepLabel, neutral: Neutral) -> float:
    """P(step is right) from a step label: -1 is 0, +1 is 1, a soft label is kept as it is
    (never rounded), neutral (0) follows ``neutral``, and None is NaN (unlabelled)."""
    if neutral not in _NEUTRAL_TARGET:
        raise ValueError(f"neutral must be one of {', '.join(NEUTRALS)}, got {neutral!r}")
    if label is None:
        return math.nan
    if label == 0.0:
        return _NEUTRAL_TARGET[neutral]
    return 0.0 if label < 0 else float(label)


def first_error(labels: Sequence[StepLabel], neutral: Neutral) -> int:
    """The index of the earliest step more likely wrong than right (P(right) < 0.5), or -1 when
    there is none: ProcessBench's label. Unlabelled steps are skipped."""
    for index, label in enumerate(labels):
        if step_probability(label, neutral) < 0.5:  # NaN compares False
            return index
    return -1


def parse_step_label(value: Any, field_name: str) -> StepLabel:
    """rewardkit's own labels: -1/0/+1, a probability in (0, 1), a bool, or null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else -1.0
    if isinstance(value, (int, float)) and (value == -1 or 0 <= value <= 1):
        return float(value)
    raise FieldError(field_name, f"expected -1, 0, 1, a probability, a bool or null, got {value!r}")


def parse_probability_label(value: Any, field_name: str) -> StepLabel:
    """TRL's and Math-Shepherd's labels: a bool, or P(step is right) in [0, 1] (0 is wrong, not
    neutral: these sources have no neutral), or null."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return -1.0
    return parse_step_label(value, field_name)


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


def _until_first_error(path: tuple[str, ...], paths: dict[tuple[str, ...], StepLabel]) -> int:
    """How many steps of ``path`` graders stand behind: up to and including its first -1."""
    for k in range(len(path)):
        if paths.get(path[: k + 1]) == -1.0:
            return k + 1
    return len(path)


def _traces_of(
    problem: str, paths: dict[tuple[str, ...], StepLabel], index: int
) -> list[StepTrace]:
    """One trace per leaf path, cut after its first wrong step; a prefix nobody rated keeps a
    ``None`` label."""
    cut = list(dict.fromkeys(path[: _until_first_error(path, paths)] for path in paths))
    prefixes = {path[:k] for path in cut for k in range(1, len(path))}
    leaves = [path for path in cut if path not in prefixes]
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
            labels=tuple(parse_probability_label(v, f"labels[{i}]") for i, v in enumerate(labels)),
            id=parse_optional_str(row.get("id"), "id"),
            metadata=extra_fields(TRL_STEPWISE, row),
        )
    ]


def _split_at_tags(text: str) -> tuple[str, list[str]]:
    """The prompt (before ``Step 1:`` when it is there) and the steps, each ending at a tag."""
    pieces = text.split(STEP_TAG)
    if len(pieces) < 2:
        raise FieldError("input", f"no '{STEP_TAG}' step tag")
    head = pieces[0]
    marker = head.find("Step 1:")
    prompt, first = (head[:marker].strip(), head[marker:]) if marker >= 0 else ("", head)
    return prompt, [first.strip()] + [p.strip() for p in pieces[1:-1]]


def _tag_marks(text: str, labelled: str, steps: int) -> list[StepLabel]:
    """Each ``ки`` (two characters) in ``text`` stands where ``labelled`` has one ``+`` or ``-``."""
    labels: list[StepLabel] = []
    position = -len(STEP_TAG)
    for i in range(steps):
        position = text.index(STEP_TAG, position + len(STEP_TAG))
        mark = labelled[position - i] if position - i < len(labelled) else ""
        if mark not in ("+", "-"):
            raise FieldError("label", f"expected '+' or '-' for step {i + 1}, found {mark!r}")
        labels.append(1.0 if mark == "+" else -1.0)
    return labels


def split_math_shepherd(text: str, labelled: Any) -> tuple[str, list[str], list[StepLabel]]:
    """The prompt, the steps and their labels: hard (``labelled`` is ``input`` with ``+``/``-``
    for each tag) or soft (a list of P(step is right), one per tag)."""
    prompt, steps = _split_at_tags(text)
    if isinstance(labelled, str):
        return prompt, steps, _tag_marks(text, labelled, len(steps))
    if not isinstance(labelled, list) or len(labelled) != len(steps):
        raise FieldError(
            "label", f"expected the labelled text or a list of {len(steps)} estimates, one per tag"
        )
    return (
        prompt,
        steps,
        [parse_probability_label(v, f"label[{i}]") for i, v in enumerate(labelled)],
    )


def _math_shepherd_row(row: Mapping[str, Any]) -> list[Record]:
    text = require(row, "input")
    if not isinstance(text, str):
        raise FieldError("input", f"expected a string, got {type_name(text)}")
    prompt, steps, labels = split_math_shepherd(text, require(row, "label"))
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


# ---- ProcessBench --------------------------------------------------------------------------------


def processbench_labels(steps: int, label: int) -> tuple[StepLabel, ...]:
    """Right before the earliest error, wrong at it, unlabelled after it (ProcessBench judges
    nothing past the first error); all right when ``label`` is -1."""
    if not -1 <= label < steps:
        raise FieldError("label", f"expected -1 or a step index below {steps}, got {label}")
    if label == -1:
        return (1.0,) * steps
    return (1.0,) * label + (-1.0,) + (None,) * (steps - label - 1)


def _processbench_row(row: Mapping[str, Any]) -> list[Record]:
    steps = _string_list(require(row, "steps"), "steps")
    label = require(row, "label")
    if isinstance(label, bool) or not isinstance(label, int):
        raise FieldError("label", f"expected an integer step index or -1, got {type_name(label)}")
    return [
        StepTrace(
            prompt=parse_text(require(row, "problem"), "problem"),
            steps=tuple(steps),
            labels=processbench_labels(len(steps), label),
            id=parse_optional_str(row.get("id"), "id"),
            source=parse_optional_str(row.get("subset"), "subset"),
            metadata=extra_fields(PROCESSBENCH, row),
        )
    ]


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
    "TRL stepwise supervision: prompt/completions/labels (bools or soft P(right))",
    has_keys("prompt", "completions", "labels"),
    fields=frozenset({"prompt", "completions", "labels", "id"}),
    convert_row=_trl_stepwise_row,
)
MATH_SHEPHERD = Format(
    "math-shepherd",
    "step_trace",
    "Math-Shepherd: steps tagged 'ки' in input, '+'/'-' in label (or a list of soft estimates)",
    _looks_math_shepherd,
    fields=frozenset({"input", "label"}),
    convert_row=_math_shepherd_row,
)
PROCESSBENCH = Format(
    "processbench",
    "step_trace",
    "ProcessBench: problem, steps, label (earliest wrong step, -1: none)",
    has_keys("problem", "steps", "label"),
    fields=frozenset({"problem", "steps", "label", "id", "subset"}),
    metadata_fields=frozenset({"generator", "final_answer_correct"}),
    convert_row=_processbench_row,
)
