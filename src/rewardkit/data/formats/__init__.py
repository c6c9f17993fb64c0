"""Known row formats, in detection order (most specific first), and the converter that runs one.

``FORMATS`` is the one registry: a plain dict from name to ``Format``, read at each use by
detection (``detect_format``), by ``read_records(..., format=NAME)`` / ``--format NAME`` and by
``rewardkit data formats``. Code outside the package adds a format by inserting into it::

    from rewardkit.data import read_records
    from rewardkit.data.formats import FORMATS, Format, has_keys
    from rewardkit.records import Pair, parse_text, require

    def qa_row(row):
        q, good, bad = (parse_text(require(row, k), k) for k in ("q", "good", "bad"))
        return [Pair(q, good, bad)]

    FORMATS["qa"] = Format(
        "qa", "pair", "q/good/bad rows", has_keys("q", "good", "bad"),
        fields=frozenset({"q", "good", "bad"}), convert_row=qa_row,
    )
    read_records("qa.jsonl", format="qa")   # by name; or let detection find it

Use ``Format.name`` as the key. Detection tries formats in dict order, so a format added
later is tried after the built-in ones: give it fields no built-in format matches, or read it by
name. Raise ``rewardkit.records.FieldError`` from a converter to report a located bad row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rewardkit.data.formats.base import Format, Located, convert_rows_one_by_one, has_keys
from rewardkit.data.formats.best_of_k import BEST_OF_K
from rewardkit.data.formats.native import NATIVE
from rewardkit.data.formats.pairs import (
    CONTEXT_PAIRS,
    GRADED,
    HH,
    MT_BENCH,
    OASST_TREE,
    TRL,
    TRL_IMPLICIT,
    TWO_RESPONSE,
    split_hh,
    split_shared_prompt,
)
from rewardkit.data.formats.ratings import RATINGS
from rewardkit.data.formats.steps import MATH_SHEPHERD, PRM800K_STEPS, PROCESSBENCH, TRL_STEPWISE
from rewardkit.data.issues import Issue
from rewardkit.data.readers import RawRow

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        NATIVE,
        OASST_TREE,
        MT_BENCH,
        PRM800K_STEPS,
        TRL_STEPWISE,
        MATH_SHEPHERD,
        PROCESSBENCH,
        CONTEXT_PAIRS,
        BEST_OF_K,
        TRL,
        HH,
        TRL_IMPLICIT,
        TWO_RESPONSE,
        GRADED,
        RATINGS,
    )
}

__all__ = [
    "FORMATS",
    "Format",
    "Located",
    "convert",
    "detect_format",
    "has_keys",
    "split_hh",
    "split_shared_prompt",
]


def detect_format(row: Mapping[str, Any]) -> Format | None:
    return next((f for f in FORMATS.values() if f.matches(row)), None)


def convert(fmt: Format, rows: Iterable[RawRow]) -> Iterator[Located | Issue]:
    """Rows to located records; non-object rows and unknown fields become issues (once per field)."""
    reported: set[str] = set()
    known = fmt.fields | fmt.metadata_fields

    def objects() -> Iterator[RawRow]:
        for raw in rows:
            if not isinstance(raw.value, Mapping):
                issues.append(
                    Issue(
                        raw.location,
                        "bad-row",
                        f"expected an object, got {type(raw.value).__name__}",
                    )
                )
                continue
            if not fmt.open_schema:
                for key in raw.value.keys() - known - reported:
                    reported.add(key)
                    issues.append(
                        Issue(
                            raw.location,
                            "unknown-field",
                            f"format '{fmt.name}' does not use it; kept in metadata "
                            "(reported once per field)",
                            field=str(key),
                        )
                    )
            yield raw

    issues: list[Issue] = []
    if fmt.convert_stream is not None:
        stream = fmt.convert_stream(objects())
    else:
        stream = convert_rows_one_by_one(fmt, objects())
    for item in stream:
        yield from issues
        issues.clear()
        yield item
    yield from issues
