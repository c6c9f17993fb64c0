"""Formats that yield preference pairs or rankings.

- ``trl``: TRL's explicit-prompt keys ``prompt/chosen/rejected`` (plain or conversational), plus
  our optional ``margin``, ``votes``, ``soft_label``, ``id``, ``source``, ``metadata``,
  ``weight``.
- ``trl-implicit``: ``chosen/rejected`` only; the prompt is their shared prefix (TRL's rule).
- ``hh-rlhf``: Anthropic transcripts; the prompt runs to the last shared ``\\n\\nAssistant:``.
- ``context-pairs``: OpenAssistant-style ``context`` message list with ``chosen/rejected`` replies.
- ``oasst-tree``: OpenAssistant message trees; ranked sibling replies become rankings.
- ``two-response``: PandaLM / generic A-versus-B items with a winner per annotator and ties.
- ``mt-bench``: MT-Bench human judgments, one row per judge, grouped into one pair with votes.
- ``graded-solutions``: several solutions per question with ``is_correct``: correct beats incorrect.

Votes are kept as votes; P(chosen) is ``Pair.p_chosen`` (records.py), never computed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from rewardkit.data.formats.base import Format, Located, extra_fields, field_error_issue, has_keys
from rewardkit.data.issues import Issue
from rewardkit.data.readers import RawRow
from rewardkit.records import (
    FieldError,
    Message,
    Pair,
    Ranking,
    Record,
    Text,
    Verdict,
    Vote,
    parse_message,
    parse_metadata,
    parse_number,
    parse_optional_str,
    parse_probability,
    parse_text,
    parse_vote,
    parse_weight,
    require,
    type_name,
)

PAIR_FIELDS = frozenset(
    {
        "prompt",
        "chosen",
        "rejected",
        "margin",
        "votes",
        "soft_label",
        "id",
        "source",
        "metadata",
        "weight",
    }
)
REWARDBENCH_FIELDS = frozenset({"subset", "chosen_model", "rejected_model"})
"""RewardBench rows are TRL rows with these beside: kept as metadata (``subset`` drives `eval`)."""
HH_TURN = "\n\nAssistant:"


def _pair(fmt: Format, row: Mapping[str, Any], prompt: Text, chosen: Text, rejected: Text) -> Pair:
    votes = row.get("votes") or []
    if not isinstance(votes, Sequence) or isinstance(votes, (str, bytes)):
        raise FieldError("votes", f"expected a list of votes, got {type_name(votes)}")
    metadata = {**parse_metadata(row.get("metadata")), **extra_fields(fmt, row)}
    return Pair(
        prompt=prompt,
        chosen=chosen,
        rejected=rejected,
        margin=parse_number(row.get("margin"), "margin"),
        votes=tuple(parse_vote(v, f"votes[{i}]") for i, v in enumerate(votes)),
        soft_label=parse_probability(row.get("soft_label"), "soft_label"),
        id=parse_optional_str(row.get("id"), "id"),
        source=parse_optional_str(row.get("source"), "source"),
        metadata=metadata,
        weight=parse_weight(row.get("weight")),
    )


def _trl_row(row: Mapping[str, Any]) -> list[Record]:
    return [
        _pair(
            TRL,
            row,
            parse_text(require(row, "prompt"), "prompt"),
            parse_text(require(row, "chosen"), "chosen"),
            parse_text(require(row, "rejected"), "rejected"),
        )
    ]


def split_shared_prompt(chosen: Text, rejected: Text) -> tuple[Text, Text, Text]:
    """TRL's implicit prompt: shared leading messages, or the shared leading characters of strings
    (a space at the cut goes with the responses)."""
    if isinstance(chosen, str) and isinstance(rejected, str):
        n = _common_prefix(chosen, rejected)
        if 0 < n < len(chosen) and chosen[n - 1] == " ":
            n -= 1
        return chosen[:n], chosen[n:], rejected[n:]
    if isinstance(chosen, tuple) and isinstance(rejected, tuple):
        k = 0
        while k < min(len(chosen), len(rejected)) and chosen[k] == rejected[k]:
            k += 1
        return chosen[:k], chosen[k:], rejected[k:]
    raise FieldError("rejected", "chosen and rejected must both be strings or both message lists")


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _implicit_row(row: Mapping[str, Any]) -> list[Record]:
    chosen = parse_text(require(row, "chosen"), "chosen")
    rejected = parse_text(require(row, "rejected"), "rejected")
    prompt, chosen, rejected = split_shared_prompt(chosen, rejected)
    return [_pair(TRL_IMPLICIT, row, prompt, chosen, rejected)]


def split_hh(chosen: str, rejected: str) -> tuple[str, str, str]:
    """The prompt is the shared prefix up to and including its last ``\\n\\nAssistant:``, so that
    prompt + response gives back the original transcript exactly."""
    shared = _common_prefix(chosen, rejected)
    cut = chosen.rfind(HH_TURN, 0, shared)
    while cut >= 0 and cut + len(HH_TURN) > shared:
        cut = chosen.rfind(HH_TURN, 0, cut)
    if cut < 0:
        raise FieldError("chosen", "no '\\n\\nAssistant:' turn shared by chosen and rejected")
    end = cut + len(HH_TURN)
    return chosen[:end], chosen[end:], rejected[end:]


def _hh_row(row: Mapping[str, Any]) -> list[Record]:
    chosen, rejected = require(row, "chosen"), require(row, "rejected")
    for name, value in (("chosen", chosen), ("rejected", rejected)):
        if not isinstance(value, str):
            raise FieldError(name, f"expected a transcript string, got {type_name(value)}")
    prompt, chosen, rejected = split_hh(chosen, rejected)
    return [_pair(HH, row, prompt, chosen, rejected)]


def _looks_like_hh(row: Mapping[str, Any]) -> bool:
    chosen = row.get("chosen")
    return (
        "prompt" not in row
        and "rejected" in row
        and isinstance(chosen, str)
        and "Human:" in chosen
        and HH_TURN in chosen
    )


def _context_row(row: Mapping[str, Any]) -> list[Record]:
    context = require(row, "context")
    prompt = parse_text(context, "context")
    return [
        _pair(
            CONTEXT_PAIRS,
            row,
            prompt,
            parse_text(require(row, "chosen"), "chosen"),
            parse_text(require(row, "rejected"), "rejected"),
        )
    ]


# ---- OpenAssistant trees -------------------------------------------------------------------------


def _oasst_tree_row(row: Mapping[str, Any]) -> list[Record]:
    rankings: list[Record] = []
    _walk_oasst(row, (), rankings, "")
    return rankings


def _walk_oasst(node: Any, path: tuple[Message, ...], out: list[Record], where: str) -> None:
    if not isinstance(node, Mapping):
        raise FieldError(where or "row", f"expected a message object, got {type_name(node)}")
    message = parse_message(node, where or "row")
    path = (*path, message)
    replies = node.get("replies") or []
    if not isinstance(replies, list):
        raise FieldError(f"{where}.replies" if where else "replies", "expected a list of replies")
    alive = [r for r in replies if isinstance(r, Mapping) and not r.get("deleted")]
    ranked = [
        r for r in alive if isinstance(r.get("rank"), int) and not isinstance(r["rank"], bool)
    ]
    if message.role == "user" and len(ranked) >= 2:
        ranked.sort(key=lambda r: r["rank"])
        out.append(
            Ranking(
                prompt=path,
                responses=tuple(parse_message(r, f"{where}.replies").content for r in ranked),
                id=parse_optional_str(node.get("message_id"), "message_id"),
                source="oasst",
                metadata={"message_ids": [r.get("message_id") for r in ranked]},
            )
        )
    for i, reply in enumerate(alive):
        _walk_oasst(reply, path, out, f"{where}.replies[{i}]" if where else f"replies[{i}]")


# ---- two responses with one winner per annotator ---------------------------------------------------

_PROMPT_KEYS = ("prompt", "instruction", "question")
_A_KEYS = ("response_a", "response1", "output_1", "answer_a")
_B_KEYS = ("response_b", "response2", "output_2", "answer_b")
_WINNER_A = {"a", "model_a", "response_a", "1", "response1", "output_1"}
_WINNER_B = {"b", "model_b", "response_b", "2", "response2", "output_2"}
_WINNER_TIE = {"tie", "0", "tie (bothbad)", "both", "none", "equal"}


def _first_key(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    for key in keys:
        if key in row:
            return key
    raise FieldError(keys[0], f"missing required field (any of {', '.join(keys)})", "missing-field")


def _winner(value: Any, field_name: str) -> str:
    """'a', 'b' or 'tie'."""
    token = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if token in _WINNER_A:
        return "a"
    if token in _WINNER_B:
        return "b"
    if token in _WINNER_TIE:
        return "tie"
    raise FieldError(
        field_name, f"expected a winner (a, b, tie, 1, 2, 0, model_a...), got {value!r}"
    )


def _annotator_winners(row: Mapping[str, Any]) -> list[tuple[str, str, float | None]]:
    if "votes" in row:
        votes = row["votes"]
        if not isinstance(votes, list):
            raise FieldError("votes", f"expected a list, got {type_name(votes)}")
        out = []
        for i, vote in enumerate(votes):
            if not isinstance(vote, Mapping):
                raise FieldError(f"votes[{i}]", f"expected an object, got {type_name(vote)}")
            annotator = parse_optional_str(vote.get("annotator", i), f"votes[{i}].annotator")
            confidence = parse_probability(vote.get("confidence"), f"votes[{i}].confidence")
            out.append(
                (str(annotator), _winner(vote.get("winner"), f"votes[{i}].winner"), confidence)
            )
        return out
    annotator_keys = sorted(k for k in row if k.startswith("annotator") and k[9:].isdigit())
    if annotator_keys:
        return [(k, _winner(row[k], k), None) for k in annotator_keys]
    return [("winner", _winner(require(row, "winner"), "winner"), None)]


def pair_from_two_responses(
    prompt: Text, a: Text, b: Text, winners: Sequence[tuple[str, str, float | None]]
) -> Pair:
    """Chosen is the side with more wins (A when even); votes are restated from chosen's side.
    No soft label is stored: ``Pair.p_chosen`` derives P(chosen) from the votes (ties count 1/2)."""
    wins_a = sum(w == "a" for _, w, _ in winners)
    wins_b = sum(w == "b" for _, w, _ in winners)
    a_is_chosen = wins_a >= wins_b
    chosen, rejected = (a, b) if a_is_chosen else (b, a)

    def verdict(winner: str) -> Verdict:
        if winner == "tie":
            return "tie"
        return "chosen" if (winner == "a") == a_is_chosen else "rejected"

    votes = tuple(Vote(annotator, verdict(w), confidence) for annotator, w, confidence in winners)
    return Pair(prompt, chosen, rejected, votes=votes, metadata={"a_is_chosen": a_is_chosen})


def _two_response_row(row: Mapping[str, Any]) -> list[Record]:
    prompt_key = _first_key(row, _PROMPT_KEYS)
    prompt = parse_text(row[prompt_key], prompt_key)
    extra_input = row.get("input")
    if isinstance(extra_input, str) and extra_input.strip() and isinstance(prompt, str):
        prompt = f"{prompt}\n\n{extra_input}"
    a_key, b_key = _first_key(row, _A_KEYS), _first_key(row, _B_KEYS)
    pair = pair_from_two_responses(
        prompt,
        parse_text(row[a_key], a_key),
        parse_text(row[b_key], b_key),
        _annotator_winners(row),
    )
    used = {prompt_key, "input", a_key, b_key, "votes", "winner"}
    extras = {k: v for k, v in row.items() if k not in used and not k.startswith("annotator")}
    return [
        replace(
            pair, id=parse_optional_str(row.get("id"), "id"), metadata={**pair.metadata, **extras}
        )
    ]


def _looks_two_response(row: Mapping[str, Any]) -> bool:
    return any(k in row for k in _A_KEYS) and any(k in row for k in _B_KEYS)


# ---- MT-Bench human judgments (one row per judge) ------------------------------------------------


def _mt_bench_stream(rows: Iterable[RawRow]) -> Iterator[Located | Issue]:
    groups: dict[tuple[str, ...], list[tuple[RawRow, str]]] = {}
    for raw in rows:
        row = raw.value
        try:
            key = tuple(str(require(row, k)) for k in ("question_id", "model_a", "model_b", "turn"))
            winner = _winner(require(row, "winner"), "winner")
        except FieldError as exc:
            yield field_error_issue(raw, exc)
            continue
        groups.setdefault(key, []).append((raw, winner))
    for key, members in groups.items():
        first = members[0][0]
        try:
            yield _mt_bench_pair(key, members), first.location
        except FieldError as exc:
            yield field_error_issue(first, exc)


def _mt_bench_pair(key: tuple[str, ...], members: list[tuple[RawRow, str]]) -> Pair:
    row = members[0][0].value
    turn = int(key[3]) if key[3].isdigit() else 1
    conv_a = parse_text(require(row, "conversation_a"), "conversation_a")
    conv_b = parse_text(require(row, "conversation_b"), "conversation_b")
    if isinstance(conv_a, str) or isinstance(conv_b, str):
        raise FieldError("conversation_a", "expected message lists")
    prompt, a, b = split_shared_prompt(conv_a[: 2 * turn], conv_b[: 2 * turn])
    winners = [(str(raw.value.get("judge", i)), w, None) for i, (raw, w) in enumerate(members)]
    pair = pair_from_two_responses(prompt, a, b, winners)
    meta = {
        **pair.metadata,
        "question_id": key[0],
        "model_a": key[1],
        "model_b": key[2],
        "turn": turn,
    }
    return replace(pair, id=":".join(key), source="mt-bench", metadata=meta)


# ---- several graded solutions per question --------------------------------------------------------


def _graded_solutions(row: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(name, text, is_correct) from either a ``solutions`` list or named solution objects."""
    found: list[tuple[str, str, bool]] = []
    listed = row.get("solutions")
    named = (
        listed if isinstance(listed, list) else [v for v in row.values() if isinstance(v, Mapping)]
    )
    names = (
        [str(i) for i in range(len(named))]
        if isinstance(listed, list)
        else [k for k, v in row.items() if isinstance(v, Mapping)]
    )
    for name, item in zip(names, named, strict=True):
        if not isinstance(item, Mapping) or "is_correct" not in item:
            continue
        text = item.get("solution", item.get("text"))
        correct = item["is_correct"]
        if not isinstance(text, str) or not isinstance(correct, bool):
            raise FieldError(f"{name}", "expected 'solution' text and a boolean 'is_correct'")
        found.append((name, text, correct))
    return found


def _graded_row(row: Mapping[str, Any]) -> list[Record]:
    prompt_key = _first_key(row, ("question", "prompt", "problem"))
    prompt = parse_text(row[prompt_key], prompt_key)
    solutions = _graded_solutions(row)
    base_id = (
        parse_optional_str(row.get("id"), "id")
        or hashlib.blake2b(str(prompt).encode(), digest_size=6).hexdigest()
    )
    context = {
        k: v
        for k, v in row.items()
        if k != prompt_key and not isinstance(v, Mapping) and k != "solutions"
    }
    pairs: list[Record] = []
    for good_name, good, good_ok in solutions:
        for bad_name, bad, bad_ok in solutions:
            if good_ok and not bad_ok:
                pairs.append(
                    Pair(
                        prompt,
                        good,
                        bad,
                        id=f"{base_id}:{good_name}>{bad_name}",
                        source="graded-solutions",
                        metadata={**context, "chosen_by": good_name, "rejected_by": bad_name},
                    )
                )
    return pairs


def _looks_graded(row: Mapping[str, Any]) -> bool:
    values = row.get("solutions") if isinstance(row.get("solutions"), list) else row.values()
    return any(isinstance(v, Mapping) and "is_correct" in v for v in values)  # type: ignore[union-attr]


TRL = Format(
    "trl",
    "pair",
    "TRL explicit prompt: prompt/chosen/rejected, plain or chat messages",
    has_keys("prompt", "chosen", "rejected"),
    fields=PAIR_FIELDS,
    metadata_fields=REWARDBENCH_FIELDS,
    convert_row=_trl_row,
)
HH = Format(
    "hh-rlhf",
    "pair",
    "Anthropic hh-rlhf transcripts: chosen/rejected dialogues",
    _looks_like_hh,
    fields=PAIR_FIELDS,
    convert_row=_hh_row,
)
CONTEXT_PAIRS = Format(
    "context-pairs",
    "pair",
    "context messages with chosen/rejected replies (OpenAssistant pairs)",
    has_keys("context", "chosen", "rejected"),
    fields=PAIR_FIELDS | {"context"},
    convert_row=_context_row,
)
TRL_IMPLICIT = Format(
    "trl-implicit",
    "pair",
    "TRL implicit prompt: chosen/rejected share a prefix",
    has_keys("chosen", "rejected"),
    fields=PAIR_FIELDS,
    convert_row=_implicit_row,
)
OASST_TREE = Format(
    "oasst-tree",
    "ranking",
    "OpenAssistant message trees with ranked replies",
    has_keys("message_id", "replies", "role"),
    fields=frozenset({"message_id", "replies", "role", "text"}),
    metadata_fields=frozenset(
        {
            "parent_id",
            "lang",
            "review_count",
            "review_result",
            "deleted",
            "rank",
            "synthetic",
            "model_name",
            "emojis",
            "labels",
            "message_tree_id",
        }
    ),
    convert_row=_oasst_tree_row,
)
TWO_RESPONSE = Format(
    "two-response",
    "pair",
    "A-versus-B items with a winner per annotator and ties (PandaLM style)",
    _looks_two_response,
    fields=frozenset({*_PROMPT_KEYS, *_A_KEYS, *_B_KEYS, "input", "votes", "winner", "id"}),
    convert_row=_two_response_row,
    open_schema=True,
)
MT_BENCH = Format(
    "mt-bench",
    "pair",
    "MT-Bench human judgments: one row per judge, grouped into votes",
    has_keys("question_id", "model_a", "model_b", "winner", "conversation_a"),
    fields=frozenset(
        {
            "question_id",
            "model_a",
            "model_b",
            "winner",
            "judge",
            "conversation_a",
            "conversation_b",
            "turn",
        }
    ),
    metadata_fields=frozenset({"tstamp"}),
    convert_stream=_mt_bench_stream,
)
GRADED = Format(
    "graded-solutions",
    "pair",
    "several solutions per question with is_correct (GSM8K samples)",
    _looks_graded,
    fields=frozenset({"question", "prompt", "problem", "solutions", "id"}),
    convert_row=_graded_row,
    open_schema=True,
)
