"""Typed records that cross module boundaries: pairs, rankings, ratings, step traces, judgments.

A text is either a plain string or a list of chat messages (``{"role", "content"}``), so the
same records carry TRL's "standard" and "conversational" shapes. Records are plain frozen
dataclasses; they meet JSON only in ``to_dict`` (out) and the ``parse_*`` helpers below (in), which
the ``rewardkit`` row format (``rewardkit.data.formats.native``) uses to read ``to_dict`` back.

A pair's label is one number, ``Pair.p_chosen`` = P(chosen preferred): training targets, evaluation
outcomes, ties and the data formats all read it, so there is one rule for soft labels and votes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, get_args

Role = Literal["system", "user", "assistant", "tool"]
Verdict = Literal["chosen", "rejected", "tie"]
StepLabel: TypeAlias = float | None
"""-1/0/+1 (PRM800K), True/False (TRL stepwise) become -1.0/1.0, a float is kept, None is unlabelled."""

ROLES: tuple[str, ...] = get_args(Role)
VERDICTS: tuple[str, ...] = get_args(Verdict)


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


Text: TypeAlias = str | tuple[Message, ...]


def render_text(text: Text) -> str:
    """A plain rendering used for hashing, length statistics and token counts (not a chat template)."""
    if isinstance(text, str):
        return text
    return "\n".join(f"{m.role}: {m.content}" for m in text)


def is_empty(text: Text) -> bool:
    if isinstance(text, str):
        return not text.strip()
    return not text or all(not m.content.strip() for m in text)


@dataclass(frozen=True)
class Vote:
    """One annotator's verdict on a pair, from the point of view of the pair's ``chosen`` side."""

    annotator: str
    verdict: Verdict
    confidence: float | None = None


@dataclass(frozen=True)
class Pair:
    """A preference pair. ``soft_label`` is an explicit P(chosen preferred) that overrides votes."""

    prompt: Text
    chosen: Text
    rejected: Text
    margin: float | None = None
    votes: tuple[Vote, ...] = ()
    soft_label: float | None = None
    id: str | None = None
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    weight: float | None = None
    """How much the pair counts in training (e.g. a label model's confidence); None counts 1."""

    @property
    def vote_counts(self) -> tuple[int, int, int]:
        """Votes for chosen, for rejected, and ties."""
        verdicts = [v.verdict for v in self.votes]
        return verdicts.count("chosen"), verdicts.count("rejected"), verdicts.count("tie")

    @property
    def p_chosen(self) -> float:
        """P(chosen preferred), the one rule every reader of a pair's label uses:

        1. ``soft_label`` when it is set (it wins over votes);
        2. else the share of votes for chosen, a tie counting 1/2:
           ``(n_chosen + n_tie / 2) / n_votes``; every vote counts once, whatever its
           ``confidence`` (kept as provenance for label models, not used as a weight);
        3. else 1.0: an unannotated pair is a hard preference for chosen.
        """
        if self.soft_label is not None:
            return self.soft_label
        chosen, rejected, ties = self.vote_counts
        if not chosen + rejected + ties:
            return 1.0
        return (2 * chosen + ties) / (2 * (chosen + rejected + ties))

    @property
    def is_tie(self) -> bool:
        """True when the labels, taken together, prefer neither side (``p_chosen == 0.5``); an
        unannotated pair is never a tie."""
        return self.p_chosen == 0.5


@dataclass(frozen=True)
class Ranking:
    """K responses to one prompt, best first when ``scores`` is absent; otherwise higher is better."""

    prompt: Text
    responses: tuple[Text, ...]
    scores: tuple[float, ...] | None = None
    id: str | None = None
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_pairs(self) -> list[Pair]:
        """Every ordered pair (better, worse); equal scores give no pair."""
        pairs = []
        n = len(self.responses)
        for i in range(n):
            for j in range(n):
                better = (self.scores[i] > self.scores[j]) if self.scores is not None else i < j
                if not better:
                    continue
                margin = None if self.scores is None else self.scores[i] - self.scores[j]
                pair_id = None if self.id is None else f"{self.id}:{i}>{j}"
                pairs.append(
                    Pair(
                        self.prompt,
                        self.responses[i],
                        self.responses[j],
                        margin=margin,
                        id=pair_id,
                        source=self.source,
                        metadata=dict(self.metadata),
                    )
                )
        return pairs


@dataclass(frozen=True)
class Rating:
    """One response with named attribute scores (e.g. helpfulness 0-4, safety 0/1)."""

    prompt: Text
    response: Text
    attributes: Mapping[str, float]
    annotator: str | None = None
    id: str | None = None
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepTrace:
    """A worked solution split into ordered steps, each with an optional label."""

    prompt: Text
    steps: tuple[str, ...]
    labels: tuple[StepLabel, ...]
    id: str | None = None
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.steps) != len(self.labels):
            raise ValueError(f"{len(self.steps)} steps but {len(self.labels)} labels")


@dataclass(frozen=True)
class Judgment:
    """A judge's verdict on a pair (AI feedback), kept beside the pair it judged."""

    pair_id: str
    judge: str
    verdict: Verdict
    confidence: float | None = None
    rationale: str | None = None
    principle: str | None = None


Record: TypeAlias = Pair | Ranking | Rating | StepTrace | Judgment
RECORD_TYPES: dict[str, type[Record]] = {
    "pair": Pair,
    "ranking": Ranking,
    "rating": Rating,
    "step_trace": StepTrace,
    "judgment": Judgment,
}
KIND_OF: dict[type[Record], str] = {cls: kind for kind, cls in RECORD_TYPES.items()}


# ---- JSON boundary ------------------------------------------------------------------------------


def text_to_json(text: Text) -> str | list[dict[str, str]]:
    if isinstance(text, str):
        return text
    return [{"role": m.role, "content": m.content} for m in text]


def to_dict(record: Record) -> dict[str, Any]:
    """The JSON-ready form written by rewardkit, read back by the ``rewardkit`` format."""
    out: dict[str, Any] = {"kind": KIND_OF[type(record)]}
    for name in record.__dataclass_fields__:
        value = getattr(record, name)
        if name in ("prompt", "chosen", "rejected", "response"):
            value = text_to_json(value)
        elif name == "responses":
            value = [text_to_json(t) for t in value]
        elif name == "votes":
            value = [{k: v for k, v in vars(vote).items() if v is not None} for vote in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        if value is None or value == [] or value == {}:
            continue
        out[name] = value
    return out


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null, in nested dicts and lists too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


class FieldError(ValueError):
    """A row field is missing or has the wrong type; ``field`` names it for the error report."""

    def __init__(self, field_name: str, reason: str, code: str = "bad-field") -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason
        self.code = code


def parse_text(value: Any, field_name: str) -> Text:
    """A string, or a list of ``{"role", "content"}`` messages (``text`` and ``value`` accepted too)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return tuple(parse_message(m, f"{field_name}[{i}]") for i, m in enumerate(value))
    raise FieldError(field_name, f"expected a string or a list of messages, got {type_name(value)}")


ROLE_ALIASES = {
    "human": "user",
    "prompter": "user",
    "gpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "chatbot": "assistant",
}


def parse_message(value: Any, field_name: str) -> Message:
    if not isinstance(value, Mapping):
        raise FieldError(field_name, f"expected a message object, got {type_name(value)}")
    role = value.get("role", value.get("from"))
    content = value.get("content", value.get("text", value.get("value")))
    if not isinstance(role, str):
        raise FieldError(f"{field_name}.role", f"expected a string role, got {type_name(role)}")
    role = ROLE_ALIASES.get(role.lower(), role.lower())
    if role not in ROLES:
        raise FieldError(f"{field_name}.role", f"unknown role {role!r}; expected one of {ROLES}")
    if not isinstance(content, str):
        raise FieldError(
            f"{field_name}.content", f"expected string content, got {type_name(content)}"
        )
    return Message(role, content)  # type: ignore[arg-type]


def parse_number(value: Any, field_name: str, *, optional: bool = True) -> float | None:
    """Numbers, and numeric strings (CSV cells, UltraFeedback's "4"); an empty cell is absent."""
    if isinstance(value, str):
        value = _numeric_string(value, field_name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(field_name, f"expected a number, got {type_name(value)}")
    if not math.isfinite(value):
        raise FieldError(field_name, f"expected a finite number, got {value}")
    return float(value)


def _numeric_string(value: str, field_name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise FieldError(field_name, f"expected a number, got the text {value[:40]!r}") from None


def parse_probability(value: Any, field_name: str) -> float | None:
    number = parse_number(value, field_name)
    if number is not None and not 0.0 <= number <= 1.0:
        raise FieldError(field_name, f"expected a probability in [0, 1], got {number}")
    return number


def parse_weight(value: Any, field_name: str = "weight") -> float | None:
    number = parse_number(value, field_name)
    if number is not None and not (math.isfinite(number) and number >= 0.0):
        raise FieldError(field_name, f"expected a finite weight >= 0, got {number}")
    return number


def parse_vote(value: Any, field_name: str) -> Vote:
    if not isinstance(value, Mapping):
        raise FieldError(field_name, f"expected a vote object, got {type_name(value)}")
    annotator = value.get("annotator")
    verdict = value.get("verdict")
    if not isinstance(annotator, (str, int)) or isinstance(annotator, bool):
        raise FieldError(
            f"{field_name}.annotator", f"expected an annotator id, got {type_name(annotator)}"
        )
    if verdict not in VERDICTS:
        raise FieldError(f"{field_name}.verdict", f"expected one of {VERDICTS}, got {verdict!r}")
    confidence = parse_probability(value.get("confidence"), f"{field_name}.confidence")
    return Vote(str(annotator), verdict, confidence)


def parse_optional_str(value: Any, field_name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FieldError(field_name, f"expected a string, got {type_name(value)}")
    return str(value)


def parse_metadata(value: Any, field_name: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise FieldError(field_name, f"expected an object, got {type_name(value)}")
    return dict(value)


def require(row: Mapping[str, Any], key: str) -> Any:
    if key not in row:
        raise FieldError(key, "missing required field", code="missing-field")
    return row[key]


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__
