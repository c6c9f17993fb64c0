"""Content checks on records: empty or identical responses, duplicates, contradictions, sizes.

Checks never change a record: they only report. Whether a reported row is dropped is the
caller's mode (see ``issues.REASONS`` for what is an error and what a warning).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from rewardkit.data.issues import Issue, Location
from rewardkit.records import Pair, Ranking, Rating, Record, StepTrace, Text, is_empty, render_text

TokenCounter = Callable[[Text, Text], int]
"""Tokens the model would see for (prompt, response); built from a tokenizer by a higher layer."""

DEFAULT_MAX_CHARS = 1_000_000


def _digest(*parts: str) -> int:
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return int.from_bytes(h.digest(), "little")


@dataclass
class Validator:
    count_tokens: TokenCounter | None = None
    max_tokens: int | None = None
    max_chars: int = DEFAULT_MAX_CHARS
    check_duplicates: bool = True
    _seen: dict[int, int] = field(default_factory=dict)
    """Digest of every item so far, to where it was first seen (packed ints keep 1M items small)."""
    _directions: dict[int, int] = field(default_factory=dict)
    """Digest of each pair's (prompt, chosen, rejected) without votes, for contradictions."""
    _sources: list[str] = field(default_factory=list)

    def check(self, record: Record, where: Location) -> list[Issue]:
        issues = [
            Issue(where, code, message, name) for name, code, message in self._problems(record)
        ]
        if self.check_duplicates and not any(i.severity == "error" for i in issues):
            issues += self._repeats(record, where)
        return issues

    def _problems(self, record: Record) -> list[tuple[str, str, str]]:
        texts = _texts(record)
        problems = [
            (name, "too-large", f"{len(render_text(t))} characters, limit {self.max_chars}")
            for name, t in texts
            if len(render_text(t)) > self.max_chars
        ]
        if problems:
            return problems
        problems += [
            (name, "empty-response", "no text")
            for name, t in texts
            if name != "prompt" and is_empty(t)
        ]
        if isinstance(record, Pair) and record.chosen == record.rejected:
            problems.append(("rejected", "identical-responses", "chosen and rejected are the same"))
        if isinstance(record, Ranking) and len(record.responses) < 2:
            problems.append(("responses", "bad-field", "a ranking needs at least two responses"))
        if self.count_tokens is not None and self.max_tokens is not None and not problems:
            prompt = getattr(record, "prompt", "")
            for name, text in texts:
                if name == "prompt":
                    continue
                n = self.count_tokens(prompt, text)
                if n > self.max_tokens:
                    problems.append(
                        (name, "too-long", f"{n} tokens with the prompt, limit {self.max_tokens}")
                    )
        return problems

    def _repeats(self, record: Record, where: Location) -> list[Issue]:
        key = _identity(record)
        if key is None:
            return []
        digest = _digest(*key)
        if digest in self._seen:
            return [Issue(where, "duplicate", f"same item as {self._unpack(self._seen[digest])}")]
        here = self._pack(where)
        self._seen[digest] = here
        if not isinstance(record, Pair):
            return []
        self._directions.setdefault(_digest(*_pair_identity(record, with_votes=False)), here)
        swapped = _digest(*_pair_identity(record, with_votes=False, swapped=True))
        if swapped in self._directions:
            return [
                Issue(
                    where,
                    "contradictory",
                    f"the reverse of {self._unpack(self._directions[swapped])}",
                )
            ]
        return []

    def _pack(self, where: Location) -> int:
        if not self._sources or self._sources[-1] != where.source:
            self._sources.append(where.source)
        number, is_row = (where.line, 0) if where.line is not None else (where.row or 0, 1)
        return ((len(self._sources) - 1) << 42) | (is_row << 41) | number

    def _unpack(self, packed: int) -> Location:
        source, number = self._sources[packed >> 42], packed & ((1 << 41) - 1)
        is_row = (packed >> 41) & 1
        return Location(source, row=number) if is_row else Location(source, line=number)


def _texts(record: Record) -> list[tuple[str, Text]]:
    if isinstance(record, Pair):
        return [("prompt", record.prompt), ("chosen", record.chosen), ("rejected", record.rejected)]
    if isinstance(record, Ranking):
        return [("prompt", record.prompt)] + [
            (f"responses[{i}]", r) for i, r in enumerate(record.responses)
        ]
    if isinstance(record, Rating):
        return [("prompt", record.prompt), ("response", record.response)]
    if isinstance(record, StepTrace):
        return [("prompt", record.prompt)] + [
            (f"steps[{i}]", s) for i, s in enumerate(record.steps)
        ]
    return []


def _pair_identity(pair: Pair, with_votes: bool = True, swapped: bool = False) -> tuple[str, ...]:
    """Votes are part of a pair's identity: the same pair with other votes is more evidence."""
    first, second = (pair.rejected, pair.chosen) if swapped else (pair.chosen, pair.rejected)
    votes = repr(pair.votes) if with_votes else ""
    return "pair", render_text(pair.prompt), render_text(first), render_text(second), votes


def _identity(record: Record) -> tuple[str, ...] | None:
    if isinstance(record, Pair):
        return _pair_identity(record)
    if isinstance(record, Ranking):
        return ("ranking", render_text(record.prompt), *map(render_text, record.responses))
    if isinstance(record, Rating):
        return (
            "rating",
            render_text(record.prompt),
            render_text(record.response),
            record.annotator or "",
        )
    if isinstance(record, StepTrace):
        return ("trace", render_text(record.prompt), *record.steps)
    return None
