"""A toy row format defined outside the package, the way user code adds one.

Rows look like ``{"q": question, "good": better answer, "bad": worse answer}`` (optional ``id``);
no built-in format claims these fields, so detection finds the toy format once it is registered.

    register_toy_format(monkeypatch)            # FORMATS[TOY_FORMAT_NAME] = TOY_FORMAT, undone after
    write_toy_rows(tmp_path / "toy.jsonl", 8)
    read_records(tmp_path / "toy.jsonl")        # or format=TOY_FORMAT_NAME
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from rewardkit.data.formats import FORMATS, Format, has_keys
from rewardkit.records import Pair, Record, parse_optional_str, parse_text, require

TOY_FORMAT_NAME = "toy-qa"
TOY_FIELDS = frozenset({"q", "good", "bad", "id"})


def toy_row(row: Mapping[str, Any]) -> list[Record]:
    return [
        Pair(
            prompt=parse_text(require(row, "q"), "q"),
            chosen=parse_text(require(row, "good"), "good"),
            rejected=parse_text(require(row, "bad"), "bad"),
            id=parse_optional_str(row.get("id"), "id"),
            source=TOY_FORMAT_NAME,
        )
    ]


TOY_FORMAT = Format(
    TOY_FORMAT_NAME,
    "pair",
    "toy question with a good and a bad answer (a format defined in tests/toy_plugins.py)",
    has_keys("q", "good", "bad"),
    fields=TOY_FIELDS,
    convert_row=toy_row,
)


def register_toy_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """Insert the toy format into the one registry for this test only."""
    monkeypatch.setitem(FORMATS, TOY_FORMAT_NAME, TOY_FORMAT)


def toy_rows(n: int) -> list[dict[str, str]]:
    """``n`` rows with varied texts: the good answer is correct and polite, the bad one is not."""
    rows = []
    for i in range(n):
        a, b = 3 + i % 7, 2 + (5 * i) % 11
        rows.append(
            {
                "id": f"toy-{i}",
                "q": f"Question {i}: what is {a} plus {b}?",
                "good": f"Happy to help: {a} plus {b} is {a + b}.",
                "bad": f"No idea, maybe {a * b + i}?",
            }
        )
    return rows


def write_toy_rows(path: Path, n: int) -> Path:
    """Write ``n`` toy rows as JSONL to ``path`` and return it."""
    path.write_text("".join(json.dumps(r) + "\n" for r in toy_rows(n)), encoding="utf-8")
    return path
