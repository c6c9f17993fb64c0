"""Read records from files: detect formats, convert, validate, and account for every row.

    stream = read_records(["pairs.jsonl.gz"], on_error="skip")
    for pair in stream: ...
    print(stream.report.summary())

Iteration is lazy and memory stays bounded (but for the duplicate digests and formats that
group rows). In ``strict`` mode the whole input is still read, so that the ``DataError`` raised at
the end lists every bad row, not only the first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rewardkit.data.formats import FORMATS, Format, convert, detect_format
from rewardkit.data.issues import DataError, Issue, Location, Mode, Report
from rewardkit.data.readers import DEFAULT_MAX_LINE_BYTES, RawRow, read_rows
from rewardkit.data.validation import DEFAULT_MAX_CHARS, TokenCounter, Validator
from rewardkit.records import KIND_OF, Pair, Ranking, Record


@dataclass
class ReadOptions:
    format: str | None = None
    """Row format (see `rewardkit data formats`); detected from the first row when absent."""
    file_format: str | None = None
    """jsonl, json, csv, parquet or hf; from the file suffix when absent."""
    mapping: dict[str, str] = field(default_factory=dict)
    """Renames your columns to the format's: {"prompt": "question"} reads 'question' as 'prompt'."""
    to: str | None = None
    """Record kind wanted: "pair" expands rankings into every ordered pair."""
    on_error: Mode = "strict"
    """strict: fail with every located error at the end; skip: drop bad rows and count them."""
    max_chars: int = DEFAULT_MAX_CHARS
    """Largest text field accepted, in characters."""
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    """Largest JSONL line accepted, in bytes."""
    check_duplicates: bool = True
    """Report repeated items and pairs seen both ways."""

    def read_options(self) -> ReadOptions:
        """Just the reading options of a command config that extends these."""
        return ReadOptions(**{f.name: getattr(self, f.name) for f in fields(ReadOptions)})


class RecordStream(Iterable[Record]):
    def __init__(
        self,
        paths: Sequence[str | Path],
        options: ReadOptions | None = None,
        count_tokens: TokenCounter | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.options = options or ReadOptions()
        if self.options.format is not None and self.options.format not in FORMATS:
            raise ValueError(f"unknown format {self.options.format!r}; known: {', '.join(FORMATS)}")
        self.report = Report()
        self.formats: dict[str, str] = {}
        """The row format used for each path."""
        self._validator = Validator(
            count_tokens, max_tokens, self.options.max_chars, self.options.check_duplicates
        )

    def __iter__(self) -> Iterator[Record]:
        for path in self.paths:
            for item in self._located(path):
                if isinstance(item, Issue):
                    self._note(item)
                    continue
                record, where = item
                issues = self._validator.check(record, where)
                for issue in issues:
                    self.report.add(issue)
                if any(i.severity == "error" for i in issues):
                    self.report.rows_skipped += 1
                else:
                    self.report.records_out += 1
                    yield record
        if self.options.on_error == "strict" and self.report.n_errors:
            raise DataError(self.report)

    def _note(self, issue: Issue) -> None:
        self.report.add(issue)
        if issue.severity == "error":
            self.report.rows_skipped += 1

    def _located(self, path: Path) -> Iterator[tuple[Record, Location] | Issue]:
        rows = self._counted(
            self._mapped(read_rows(path, self.options.file_format, self.options.max_line_bytes))
        )
        fmt, rows = self._choose_format(rows)
        if fmt is None:
            return
        self.formats[str(path)] = fmt.name
        for item in convert(fmt, rows):
            if isinstance(item, Issue):
                yield item
                continue
            for record in self._as_wanted(item[0], item[1]):
                yield record, item[1]

    def _counted(self, rows: Iterator[RawRow | Issue]) -> Iterator[RawRow]:
        for item in rows:
            self.report.rows_read += 1
            if isinstance(item, Issue):
                self._note(item)
            else:
                yield item

    def _mapped(self, rows: Iterator[RawRow | Issue]) -> Iterator[RawRow | Issue]:
        if not self.options.mapping:
            yield from rows
            return
        theirs_to_ours = {theirs: ours for ours, theirs in self.options.mapping.items()}
        for item in rows:
            if isinstance(item, RawRow) and isinstance(item.value, Mapping):
                value = {theirs_to_ours.get(k, k): v for k, v in item.value.items()}
                item = RawRow(item.location, value)
            yield item

    def _choose_format(self, rows: Iterator[RawRow]) -> tuple[Format | None, Iterator[RawRow]]:
        if self.options.format is not None:
            return FORMATS[self.options.format], rows
        for raw in rows:
            fmt = detect_format(raw.value) if isinstance(raw.value, Mapping) else None
            if fmt is not None:
                return fmt, itertools.chain([raw], rows)
            self._note(_undetected(raw))
        return None, iter(())

    def _as_wanted(self, record: Record, where: Location) -> list[Record]:
        wanted = self.options.to
        if wanted is None or KIND_OF[type(record)] == wanted:
            return [record]
        if wanted == "pair" and isinstance(record, Ranking):
            return list(record.to_pairs())
        self._note(Issue(where, "bad-field", f"a {KIND_OF[type(record)]} cannot become a {wanted}"))
        return []


def _undetected(raw: RawRow) -> Issue:
    if not isinstance(raw.value, Mapping):
        return Issue(raw.location, "bad-row", f"expected an object, got {type(raw.value).__name__}")
    keys = ", ".join(sorted(map(str, raw.value))[:12]) or "(none)"
    return Issue(
        raw.location,
        "unknown-format",
        f"no known format has these fields: {keys}; pass --format or --mapping",
    )


def read_records(paths: str | Path | Sequence[str | Path], **options: Any) -> RecordStream:
    """Convenience: ``read_records("a.jsonl", on_error="skip", to="pair")``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    return RecordStream(paths, ReadOptions(**options))


def read_pairs(paths: str | Path | Sequence[str | Path], **options: Any) -> list[Pair]:
    """Every pair in the inputs (rankings expanded); fails on anything that is not a pair."""
    stream = read_records(paths, **{"to": "pair", **options})
    return [r for r in stream if isinstance(r, Pair)]
