"""rewardkit's own rows: ``records.to_dict`` output, tagged with ``kind``; read back losslessly."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rewardkit.data.formats.base import Format, has_keys
from rewardkit.data.formats.pairs import PAIR_FIELDS, TRL
from rewardkit.data.formats.steps import parse_step_label
from rewardkit.records import (
    RECORD_TYPES,
    VERDICTS,
    FieldError,
    Judgment,
    Ranking,
    Rating,
    Record,
    StepTrace,
    parse_metadata,
    parse_number,
    parse_optional_str,
    parse_probability,
    parse_text,
    require,
    type_name,
)

COMMON = frozenset({"kind", "id", "source", "metadata"})


def _list(row: Mapping[str, Any], key: str) -> list[Any]:
    value = require(row, key)
    if not isinstance(value, list):
        raise FieldError(key, f"expected a list, got {type_name(value)}")
    return value


def _numbers(values: list[Any], field_name: str) -> tuple[float, ...]:
    parsed = [parse_number(v, f"{field_name}[{i}]", optional=False) for i, v in enumerate(values)]
    return tuple(v for v in parsed if v is not None)


def _metadata(row: Mapping[str, Any]) -> dict[str, Any]:
    value = row.get("metadata")
    if isinstance(value, str):  # Parquet keeps free-form metadata as a JSON string, CSV as a cell
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise FieldError("metadata", f"not a JSON object: {exc.msg}") from exc
    return parse_metadata(value)


def _common(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": parse_optional_str(row.get("id"), "id"),
        "source": parse_optional_str(row.get("source"), "source"),
        "metadata": _metadata(row),
    }


def _native_row(row: Mapping[str, Any]) -> list[Record]:
    kind = row.get("kind")
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        raise FieldError("kind", f"expected one of {tuple(RECORD_TYPES)}, got {kind!r}")
    if kind == "pair":
        fixed = {**row, "metadata": _metadata(row)}
        fixed.pop("kind")
        assert TRL.convert_row is not None
        return TRL.convert_row(fixed)
    if kind == "ranking":
        responses = _list(row, "responses")
        scores = row.get("scores")
        if scores is not None and (not isinstance(scores, list) or len(scores) != len(responses)):
            raise FieldError("scores", f"expected {len(responses)} scores, one per response")
        return [
            Ranking(
                prompt=parse_text(require(row, "prompt"), "prompt"),
                responses=tuple(parse_text(r, f"responses[{i}]") for i, r in enumerate(responses)),
                scores=None if scores is None else _numbers(scores, "scores"),
                **_common(row),
            )
        ]
    if kind == "rating":
        attributes = require(row, "attributes")
        if isinstance(attributes, list) and all(isinstance(a, tuple) for a in attributes):
            attributes = dict(attributes)  # Parquet's map type reads back as (key, value) tuples
        if not isinstance(attributes, Mapping):
            raise FieldError("attributes", f"expected an object, got {type_name(attributes)}")
        return [
            Rating(
                prompt=parse_text(require(row, "prompt"), "prompt"),
                response=parse_text(require(row, "response"), "response"),
                attributes={
                    str(k): parse_number(v, f"attributes.{k}", optional=False)  # type: ignore[misc]
                    for k, v in attributes.items()
                },
                annotator=parse_optional_str(row.get("annotator"), "annotator"),
                **_common(row),
            )
        ]
    if kind == "step_trace":
        steps, labels = _list(row, "steps"), row.get("labels") or []
        if not all(isinstance(s, str) for s in steps):
            raise FieldError("steps", "expected a list of strings")
        if not isinstance(labels, list) or len(labels) != len(steps):
            raise FieldError("labels", f"expected {len(steps)} labels, one per step")
        return [
            StepTrace(
                prompt=parse_text(require(row, "prompt"), "prompt"),
                steps=tuple(steps),
                labels=tuple(parse_step_label(v, f"labels[{i}]") for i, v in enumerate(labels)),
                **_common(row),
            )
        ]
    verdict = require(row, "verdict")
    if verdict not in VERDICTS:
        raise FieldError("verdict", f"expected one of {VERDICTS}, got {verdict!r}")
    return [
        Judgment(
            pair_id=str(parse_optional_str(require(row, "pair_id"), "pair_id")),
            judge=str(parse_optional_str(require(row, "judge"), "judge")),
            verdict=verdict,
            confidence=parse_probability(row.get("confidence"), "confidence"),
            rationale=parse_optional_str(row.get("rationale"), "rationale"),
            principle=parse_optional_str(row.get("principle"), "principle"),
        )
    ]


NATIVE = Format(
    "rewardkit",
    "any",
    "rewardkit's own records, tagged with 'kind' (what rewardkit writes)",
    has_keys("kind"),
    fields=COMMON
    | PAIR_FIELDS
    | {
        "responses",
        "scores",
        "response",
        "attributes",
        "annotator",
        "steps",
        "labels",
        "pair_id",
        "judge",
        "verdict",
        "confidence",
        "rationale",
        "principle",
    },
    convert_row=_native_row,
)
