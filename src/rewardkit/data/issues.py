"""Located problems in input data, and the report that counts them.

Every problem names its place (file and line, or file and row index), the field, and a reason
code from ``REASONS``. Errors make a row unusable: ``strict`` mode fails with all of them, ``skip``
mode drops the row and counts it. Warnings are reported and the row is kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["strict", "skip"]

REASONS: dict[str, tuple[str, str]] = {
    # code: (severity, what it means)
    "bad-json": ("error", "the line or file is not valid JSON"),
    "bad-encoding": ("error", "bytes that are not valid UTF-8"),
    "bad-row": ("error", "a row that is not an object (JSON) or has broken structure (CSV)"),
    "bad-file": ("error", "a file that cannot be opened or parsed at all"),
    "missing-field": ("error", "a required field is absent"),
    "bad-field": ("error", "a field has the wrong type or value"),
    "too-large": ("error", "a field is larger than the configured character limit"),
    "unknown-format": ("error", "no known format matches the row's fields"),
    "empty-response": ("error", "a response with no text"),
    "identical-responses": ("error", "chosen and rejected are the same text"),
    "duplicate": ("error", "the same item appeared earlier"),
    "too-long": ("error", "longer than the tokenizer limit (never truncated silently)"),
    "contradictory": ("warning", "the same pair appeared earlier with the sides swapped"),
    "unknown-field": ("warning", "a field the format does not use (kept in metadata)"),
}


@dataclass(frozen=True)
class Location:
    source: str
    line: int | None = None
    """1-based line in a text file (JSONL, CSV)."""
    row: int | None = None
    """0-based row index in a table (Parquet, JSON array, HF datasets)."""

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        if self.row is not None:
            return f"{self.source}[row {self.row}]"
        return self.source


@dataclass(frozen=True)
class Issue:
    location: Location
    code: str
    message: str
    field: str | None = None

    @property
    def severity(self) -> str:
        return REASONS[self.code][0]

    def __str__(self) -> str:
        where = f"{self.location}" + (f" field '{self.field}'" if self.field else "")
        return f"{where}: {self.code}: {self.message}"


@dataclass
class Report:
    """Counts every issue by reason; keeps the first ``keep`` of them in full for display."""

    keep: int = 1000
    issues: list[Issue] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    rows_read: int = 0
    records_out: int = 0
    rows_skipped: int = 0

    def add(self, issue: Issue) -> None:
        self.counts[issue.code] += 1
        if len(self.issues) < self.keep:
            self.issues.append(issue)

    @property
    def n_errors(self) -> int:
        return sum(n for code, n in self.counts.items() if REASONS[code][0] == "error")

    @property
    def n_warnings(self) -> int:
        return sum(n for code, n in self.counts.items() if REASONS[code][0] == "warning")

    def summary(self) -> str:
        lines = [
            f"{self.rows_read} rows read, {self.records_out} records kept, "
            f"{self.rows_skipped} skipped"
        ]
        for code, n in sorted(self.counts.items()):
            lines.append(f"  {n:>8}  {code} ({REASONS[code][0]}): {REASONS[code][1]}")
        return "\n".join(lines)


class DataError(ValueError):
    """Raised in strict mode after the whole input was read, with every located error."""

    def __init__(self, report: Report, show: int = 50) -> None:
        self.report = report
        errors = [i for i in report.issues if i.severity == "error"]
        shown = "\n".join(f"  {issue}" for issue in errors[:show])
        more = report.n_errors - min(show, len(errors))
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{report.n_errors} error(s) in the input:\n{shown}{tail}\n"
            "(use --on_error skip to drop these rows and count them)"
        )
