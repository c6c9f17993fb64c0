"""Completions with ratings: one response and named attribute scores.

Attributes come from a ``scores`` / ``ratings`` / ``attributes`` object (USR, UniEval) or, when
there is none, from every numeric column (HelpSteer's helpfulness, correctness, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewardkit.data.formats.base import Format
from rewardkit.records import (
    FieldError,
    Rating,
    Record,
    parse_number,
    parse_optional_str,
    parse_text,
)

PROMPT_KEYS = ("prompt", "instruction", "question", "source", "history")
RESPONSE_KEYS = ("response", "completion", "output", "system_output")
SCORE_KEYS = ("scores", "ratings", "attributes")


def _find(row: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if k in row), None)


def _attributes(row: Mapping[str, Any]) -> tuple[dict[str, float], set[str]]:
    score_key = _find(row, SCORE_KEYS)
    if score_key is not None:
        scores = row[score_key]
        if not isinstance(scores, Mapping) or not scores:
            raise FieldError(score_key, "expected a non-empty object of attribute scores")
        parsed = {
            str(k): parse_number(v, f"{score_key}.{k}", optional=False) for k, v in scores.items()
        }
        return parsed, {score_key}  # type: ignore[return-value]
    numeric = {
        k: float(v)
        for k, v in row.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    if not numeric:
        raise FieldError(
            "scores",
            "no attribute scores: expected a 'scores' object or numeric columns",
            "missing-field",
        )
    return numeric, set(numeric)


def _rating_row(row: Mapping[str, Any]) -> list[Record]:
    prompt_key, response_key = _find(row, PROMPT_KEYS), _find(row, RESPONSE_KEYS)
    if prompt_key is None or response_key is None:
        missing = "prompt" if prompt_key is None else "response"
        raise FieldError(missing, "missing required field", "missing-field")
    attributes, used = _attributes(row)
    used |= {prompt_key, response_key, "id", "annotator"}
    return [
        Rating(
            prompt=parse_text(row[prompt_key], prompt_key),
            response=parse_text(row[response_key], response_key),
            attributes=attributes,
            annotator=parse_optional_str(row.get("annotator"), "annotator"),
            id=parse_optional_str(row.get("id"), "id"),
            metadata={k: v for k, v in row.items() if k not in used},
        )
    ]


def _looks_rated(row: Mapping[str, Any]) -> bool:
    if _find(row, PROMPT_KEYS) is None or _find(row, RESPONSE_KEYS) is None:
        return False
    return _find(row, SCORE_KEYS) is not None or any(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values()
    )


RATINGS = Format(
    "ratings",
    "rating",
    "a response with attribute scores (USR, HelpSteer style)",
    _looks_rated,
    convert_row=_rating_row,
    open_schema=True,
)
