"""Votes from data that records counts instead of per-annotator verdicts: OpenAssistant pairs
carry the crowd's rank of each reply and its +1 / -1 reactions. Each becomes a vote from a
pseudo-annotator a label model can learn to trust or not: ``oasst-rank`` (the merged ranking,
one vote), ``thumbs-up`` (a +1 on chosen is a vote for it, a +1 on rejected a vote against it)
and ``thumbs-down`` (the other way round)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rewardkit.records import Pair, Verdict, Vote


def _count(emojis: Any, key: str, where: str) -> int:
    if emojis is None:
        return 0
    if not isinstance(emojis, Mapping):
        raise ValueError(f"{where}: expected an object of reaction counts, got {emojis!r}")
    value = emojis.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}.{key}: expected a count, got {value!r}")
    return value


SIDES: tuple[tuple[str, Verdict, Verdict], ...] = (
    ("chosen", "chosen", "rejected"),
    ("rejected", "rejected", "chosen"),
)
"""Per side: what a +1 on it votes for, and what a -1 on it votes for."""


def _rank(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def oasst_votes(pair: Pair) -> Pair:
    """``pair`` with votes derived from ``chosen_rank`` / ``rejected_rank`` (lower is better)
    and ``chosen_emojis`` / ``rejected_emojis`` in its metadata (the shared OpenAssistant pairs);
    its own votes are kept first."""
    meta = pair.metadata
    votes = list(pair.votes)
    chosen_rank, rejected_rank = _rank(meta.get("chosen_rank")), _rank(meta.get("rejected_rank"))
    if chosen_rank is not None and rejected_rank is not None:
        verdict: Verdict = "chosen" if chosen_rank < rejected_rank else "rejected"
        votes.append(Vote("oasst-rank", "tie" if chosen_rank == rejected_rank else verdict))
    where = f"pair {pair.id} metadata" if pair.id else "pair metadata"
    for side, up, down in SIDES:
        emojis, field = meta.get(f"{side}_emojis"), f"{where}.{side}_emojis"
        votes += [Vote("thumbs-up", up)] * _count(emojis, "+1", field)
        votes += [Vote("thumbs-down", down)] * _count(emojis, "-1", field)
    return replace(pair, votes=tuple(votes))


VOTE_SOURCES = {"oasst_counts": oasst_votes}
"""Ways to derive votes from what a record stores instead, by the name the command takes."""
