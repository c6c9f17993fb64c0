"""What a format is: which rows it recognises, which fields it knows, and how rows become records.

Most formats map one row to records (``convert_row``); formats whose items span rows (PRM800K
step rows, MT-Bench judge rows) group a whole stream (``convert_stream``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rewardkit.data.issues import Issue, Location
from rewardkit.data.readers import RawRow
from rewardkit.records import FieldError, Record

RowConverter = Callable[[Mapping[str, Any]], list[Record]]
Located = tuple[Record, Location]
"""A record and the place of the (first) row it came from."""
StreamConverter = Callable[[Iterable[RawRow]], Iterator[Located | Issue]]


@dataclass(frozen=True)
class Format:
    name: str
    produces: str
    """The record kind it yields ("pair", "ranking", "rating", "step_trace", or "any")."""
    description: str
    matches: Callable[[Mapping[str, Any]], bool]
    """True when a row has this format's shape (used for detection, most specific format first)."""
    fields: frozenset[str] = frozenset()
    """Fields the format reads; anything else is reported once as an unknown field."""
    metadata_fields: frozenset[str] = frozenset()
    """Fields known to carry provenance only: kept in metadata without a warning."""
    convert_row: RowConverter | None = None
    convert_stream: StreamConverter | None = None
    open_schema: bool = field(default=False)
    """True when every field is meaningful (e.g. numeric columns become rating attributes)."""


def has_keys(*keys: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda row: all(k in row for k in keys)


def extra_fields(fmt: Format, row: Mapping[str, Any]) -> dict[str, Any]:
    """Fields outside the format's vocabulary, kept as metadata rather than lost."""
    return {k: v for k, v in row.items() if k not in fmt.fields}


def field_error_issue(raw: RawRow, exc: FieldError) -> Issue:
    return Issue(raw.location, exc.code, exc.reason, exc.field)


def convert_rows_one_by_one(fmt: Format, rows: Iterable[RawRow]) -> Iterator[Located | Issue]:
    assert fmt.convert_row is not None
    for raw in rows:
        try:
            records = fmt.convert_row(raw.value)
        except FieldError as exc:
            yield field_error_issue(raw, exc)
            continue
        for record in records:
            yield record, raw.location
