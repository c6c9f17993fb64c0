"""`rewardkit data validate | convert | stats | split | formats`: configs and their runs.

The work is the data package's (``RecordStream``, ``compute_stats``, ``is_eval``, the writers);
this module reads the options, loads a tokenizer when ``--tokenizer`` asks for one and prints.
The tokenizer is loaded here, lazily, so the data layer itself never imports a tokenizer library.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rewardkit.data.formats import FORMATS
from rewardkit.data.issues import REASONS, Report
from rewardkit.data.load import ReadOptions, RecordStream
from rewardkit.data.split import is_eval
from rewardkit.data.stats import compute_stats
from rewardkit.data.validation import TokenCounter
from rewardkit.data.writers import jsonl_writer, write_records
from rewardkit.records import Record


@dataclass
class InputConfig(ReadOptions):
    paths: list[str] = field(default_factory=list)
    """Input files (JSONL/.gz, JSON, CSV, Parquet) or saved Hugging Face dataset directories."""
    tokenizer: str | None = None
    """A tokenizer (path, or 'minilm') to count tokens; needed for --max_length."""
    max_length: int | None = None
    """Flag items whose prompt + response is longer than this many tokens (never truncated)."""

    def stream(self, count_tokens: TokenCounter | None = None) -> RecordStream:
        if not self.paths:
            raise ValueError("no input files given")
        if self.max_length is not None and count_tokens is None:
            raise ValueError("--max_length needs --tokenizer to count tokens")
        return RecordStream(self.paths, self.read_options(), count_tokens, self.max_length)


def _tokenizer_tools(cfg: InputConfig) -> tuple[TokenCounter | None, Callable[[str], int] | None]:
    """(tokens of a prompt + response, tokens of one text) from ``--tokenizer``, else no counters."""
    if not cfg.tokenizer:
        return None, None
    from rewardkit.models.backbones import load_tokenizer, text_length, token_counter

    tokenizer = load_tokenizer(cfg.tokenizer)
    return token_counter(tokenizer), text_length(tokenizer)


def open_stream(cfg: InputConfig) -> RecordStream:
    return cfg.stream(_tokenizer_tools(cfg)[0])


def with_progress(stream: RecordStream, what: str) -> Iterator[Record]:
    # On stderr, and off when it is not a terminal, so piped stdout stays clean.
    return iter(tqdm(stream, desc=what, unit=" records", disable=None, file=sys.stderr))


@dataclass
class ValidateConfig(InputConfig):
    show: int = 50
    """How many located issues to print (all are counted)."""
    report: str | None = None
    """Also write the counts and issues as JSON here."""


def validate(cfg: ValidateConfig) -> int:
    """Reads everything, lists located issues, counts them per reason; never stops at the first.
    Exit code 1 when any row has an error."""
    stream = open_stream(cfg)
    stream.options.on_error = "skip"
    for _ in with_progress(stream, "validating"):
        pass
    report = stream.report
    print(f"format: {', '.join(f'{p} -> {f}' for p, f in stream.formats.items()) or 'none'}")
    for issue in report.issues[: cfg.show]:
        print(f"  {issue}")
    if report.n_errors + report.n_warnings > cfg.show:
        print(f"  ... {report.n_errors + report.n_warnings - cfg.show} more, counted below")
    print(report.summary())
    if cfg.report:
        Path(cfg.report).write_text(json.dumps(report_to_dict(report), indent=1))
    return 1 if report.n_errors > 0 else 0


def report_to_dict(report: Report) -> dict[str, Any]:
    """The ``--report`` file."""
    return {
        "rows_read": report.rows_read,
        "records_out": report.records_out,
        "rows_skipped": report.rows_skipped,
        "counts": {
            code: {"count": n, "severity": REASONS[code][0]} for code, n in report.counts.items()
        },
        "issues": [
            {"location": str(i.location), "field": i.field, "code": i.code, "message": i.message}
            for i in report.issues
        ],
    }


@dataclass
class ConvertConfig(InputConfig):
    output: str = ""
    """Output file; its suffix picks the format (.jsonl, .jsonl.gz, .json, .csv, .parquet)."""
    output_format: str | None = None
    """Force the output file format instead of reading it off the suffix."""


def convert(cfg: ConvertConfig) -> int:
    """Any known format in, rewardkit records out. In strict mode nothing is written on error."""
    if not cfg.output:
        raise ValueError("--output is required")
    stream = open_stream(cfg)
    n = write_records(with_progress(stream, "converting"), cfg.output, cfg.output_format)
    print(f"wrote {n} records to {cfg.output}")
    print(stream.report.summary())
    return 0


@dataclass
class StatsConfig(InputConfig):
    json: bool = False
    """Print the statistics as JSON instead of a table."""


def stats(cfg: StatsConfig) -> int:
    count_tokens, length_of = _tokenizer_tools(cfg)
    stream = cfg.stream(count_tokens)
    result = compute_stats(
        with_progress(stream, "reading"), length_of or len, "tokens" if length_of else "characters"
    )
    summary = {
        **result.to_dict(),
        "issues": dict(stream.report.counts),
        "rows_skipped": stream.report.rows_skipped,
    }
    print(json.dumps(summary, indent=1) if cfg.json else format_stats(summary))
    return 0


def format_stats(summary: dict[str, Any]) -> str:
    lines = [
        f"records: {summary['records']}  "
        + "  ".join(f"{k}: {v}" for k, v in summary["kinds"].items())
    ]
    lines.append(f"lengths ({summary['length_unit']}):")
    lines.append(f"  {'':<16}{'n':>9}{'mean':>9}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>9}")
    for name, d in summary["lengths"].items():
        lines.append(
            f"  {name:<16}{d['n']:>9}{d['mean']:>9}{d['p50']:>8.0f}{d['p90']:>8.0f}"
            f"{d['p99']:>8.0f}{d['max']:>9}"
        )
    for section in ("pairs", "annotators", "step_labels", "rating_attributes"):
        if summary.get(section):
            lines.append(f"{section}: {json.dumps(summary[section])}")
    duplicates = {k: summary["issues"].get(k, 0) for k in ("duplicate", "contradictory")}
    lines.append(
        f"duplicates: {duplicates['duplicate']}  contradictory pairs: "
        f"{duplicates['contradictory']}  rows skipped: {summary['rows_skipped']}"
    )
    if summary["issues"]:
        lines.append(f"issues: {json.dumps(summary['issues'])}")
    return "\n".join(lines)


@dataclass
class SplitConfig(InputConfig):
    output_dir: str = "split"
    """Writes train.jsonl and eval.jsonl here."""
    eval_fraction: float = 0.2
    """Share of prompts that go to eval (by a seeded hash of the prompt, so approximately)."""
    seed: int = 0
    """Changes which prompts go to eval."""


def split(cfg: SplitConfig) -> int:
    """Prompt-disjoint train/eval files: every item of one prompt lands on the same side."""
    out = Path(cfg.output_dir)
    stream = open_stream(cfg)
    counts = {"train": 0, "eval": 0}
    with jsonl_writer(out / "train.jsonl") as train, jsonl_writer(out / "eval.jsonl") as held:
        for record in with_progress(stream, "splitting"):
            side = "eval" if is_eval(record, cfg.eval_fraction, cfg.seed) else "train"
            (held if side == "eval" else train)(record)
            counts[side] += 1
    print(f"train: {counts['train']}  eval: {counts['eval']}  ({out})")
    print(stream.report.summary())
    return 0


@dataclass
class FormatsConfig:
    json: bool = False
    """Print as JSON."""


def formats(cfg: FormatsConfig) -> int:
    rows = [
        {"name": f.name, "produces": f.produces, "description": f.description}
        for f in FORMATS.values()
    ]
    if cfg.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            print(f"{row['name']:<18}{row['produces']:<12}{row['description']}")
    return 0


__all__ = [
    "ConvertConfig",
    "FormatsConfig",
    "InputConfig",
    "SplitConfig",
    "StatsConfig",
    "ValidateConfig",
    "convert",
    "format_stats",
    "formats",
    "report_to_dict",
    "split",
    "stats",
    "validate",
]
