"""Best-of-K rows: one prompt, K responses, and which of them are correct.

- RewardBench 2's shape: ``chosen`` and ``rejected`` are *lists* of response strings (usually one
  correct and three incorrect), with ``subset``, ``num_correct`` and friends beside.
- The generic shape: ``responses`` (a list) and ``correct`` (a list of booleans, one per response).

Both become a ``Ranking`` whose scores are 1 for a correct response and 0 otherwise, so the usual
ranking machinery (``--to pair``) and `rewardkit eval`'s best-of-K accuracy read them alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewardkit.data.formats.base import Format, extra_fields
from rewardkit.records import (
    FieldError,
    Ranking,
    Record,
    Text,
    parse_metadata,
    parse_optional_str,
    parse_text,
    require,
    type_name,
)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _looks_best_of_k(row: Mapping[str, Any]) -> bool:
    if _is_list(row.get("responses")) and "correct" in row:
        return True
    # a list of strings, not a list of chat messages (that is TRL's conversational shape)
    chosen = row.get("chosen")
    if "prompt" not in row or not isinstance(chosen, list) or not _is_list(row.get("rejected")):
        return False
    return bool(chosen) and all(isinstance(c, str) for c in chosen)


def _texts(value: Any, name: str) -> list[Text]:
    if not _is_list(value):
        raise FieldError(name, f"expected a list of responses, got {type_name(value)}")
    return [parse_text(v, f"{name}[{i}]") for i, v in enumerate(value)]


def _correctness(value: Any, count: int) -> list[bool]:
    if not _is_list(value) or not all(isinstance(v, bool) for v in value):
        raise FieldError("correct", f"expected a list of booleans, got {type_name(value)}")
    if len(value) != count:
        raise FieldError("correct", f"{len(value)} labels for {count} responses")
    return list(value)


def _best_of_k_row(row: Mapping[str, Any]) -> list[Record]:
    prompt = parse_text(require(row, "prompt"), "prompt")
    if "responses" in row:
        responses = _texts(row["responses"], "responses")
        correct = _correctness(require(row, "correct"), len(responses))
    else:
        good = _texts(require(row, "chosen"), "chosen")
        bad = _texts(require(row, "rejected"), "rejected")
        responses, correct = good + bad, [True] * len(good) + [False] * len(bad)
    if len(responses) < 2:
        raise FieldError("responses", f"best-of-K needs at least 2 responses, got {len(responses)}")
    if not any(correct):
        raise FieldError("correct", "no response is marked correct")
    return [
        Ranking(
            prompt=prompt,
            responses=tuple(responses),
            scores=tuple(1.0 if c else 0.0 for c in correct),
            id=parse_optional_str(row.get("id"), "id"),
            source=parse_optional_str(row.get("source"), "source"),
            metadata={**parse_metadata(row.get("metadata")), **extra_fields(BEST_OF_K, row)},
        )
    ]


BEST_OF_K = Format(
    "best-of-k",
    "ranking",
    "one prompt, K responses and which are correct (RewardBench 2 lists, or responses/correct)",
    _looks_best_of_k,
    fields=frozenset(
        {"prompt", "chosen", "rejected", "responses", "correct", "id", "source", "metadata"}
    ),
    metadata_fields=frozenset(
        {"subset", "num_correct", "num_rejected", "total_completions", "models"}
    ),
    convert_row=_best_of_k_row,
)
