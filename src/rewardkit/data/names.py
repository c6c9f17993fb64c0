"""Short names for data files in reports and metrics: ``eval`` for ``runs/hh/eval.jsonl``, and
``hh/eval`` once another file is also called ``eval``, so that no row or metric stands for two."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path


def without_suffixes(name: str) -> str:
    """'hh/eval.jsonl.gz' -> 'hh/eval'."""
    path = Path(name)
    return str(path.with_name(path.name.split(".")[0]))


def distinct_names(names: Sequence[str], paths: Sequence[str]) -> list[str]:
    """``names`` (one per path), where those that repeat take their file's directory in front
    (``hh/eval``, ``oasst/eval``), or, repeating still, their whole path."""
    renames = (lambda path, name: f"{Path(path).parent.name}/{name}", lambda path, _: path)
    distinct = list(names)
    for rename in renames:
        counts = Counter(distinct)
        distinct = [
            rename(path, name) if counts[name] > 1 else name
            for name, path in zip(distinct, paths, strict=True)
        ]
    return distinct
