"""Request and response bodies: pydantic models, so every route validates its input and the
OpenAPI schema is the code's own."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag

from rewardkit.records import Message, Text
from rewardkit.serving.backend import Prepared, Reading


def unicode_text(value: str) -> str:
    """JSON can spell a lone UTF-16 surrogate (``"\\ud800"``, a high or low half without its
    partner) and Python's JSON decoder keeps it, but it is not text: no tokenizer can encode it
    (the Rust tokenizers raise a TypeError) and no UTF-8 answer can echo it. Such strings are
    refused here, at validation (422 naming the field), so nothing past the schema sees one. A
    valid pair (``"\\ud83d\\ude00"``) decodes to one character and passes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"not valid Unicode text: a lone surrogate \\u{ord(value[exc.start]):04x} at "
            f"character {exc.start} (a JSON \\uD800-\\uDFFF escape must be half of a pair)"
        ) from None
    return value


UnicodeText = Annotated[str, AfterValidator(unicode_text)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, strict=True)]  # no booleans


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: UnicodeText


# a tagged union (the tag chosen by the JSON type), so an error names one branch ("prompt.text"
# or "prompt.messages.0.content") instead of listing every branch's complaint
WireText = Annotated[
    Annotated[UnicodeText, Tag("text")] | Annotated[list[ChatMessage], Tag("messages")],
    Discriminator(lambda value: "messages" if isinstance(value, list) else "text"),
]


def to_text(value: WireText) -> Text:
    if isinstance(value, str):
        return value
    return tuple(Message(m.role, m.content) for m in value)


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt: WireText
    response: WireText


class ScoreRequest(BaseModel):
    """Items to score: a prompt and a response each, as text or chat messages."""

    model_config = ConfigDict(extra="forbid")
    items: list[ScoreItem] = Field(min_length=1)
    weights: dict[UnicodeText, FiniteFloat] | None = Field(default=None, min_length=1)
    """Objectives heads: this request's combination, {objective: weight}; the score is the
    weighted sum of the named objectives (the others count 0) in place of the model's own
    weights or gate, and ``normalized`` is null (the saved statistics are the model's own
    combination's). An objective the model does not have is answered 422."""


class ItemScore(BaseModel):
    raw: float | None
    """The head's output; null when the item failed (see ``error``)."""
    normalized: float | None
    """(raw - mean) / std with the statistics saved at training time."""
    truncated_tokens: int = 0
    """Prompt tokens cut from the left to fit the limit (only with overflow=truncate_prompt)."""
    error: str | None = None
    """Why this item has no score (a non-finite model output); the other items are unaffected."""
    objectives: dict[str, float] | None = None
    """Each named output, for models with several (objectives heads, ensemble members)."""
    steps: list[float] | None = None
    """Each step's score, for per-step models (steps end with the model's step marker)."""
    spread: float | None = None
    """The ensemble members' standard deviation: the score's uncertainty."""
    ood: float | None = None
    """Out-of-distribution score, where the model has a detector (ood.safetensors, from
    `rewardkit audit`): distance from the training data over its calibrated threshold; above 1
    is farther than about 95% of held-out in-distribution responses."""


def reweighted(reading: Reading, weights: Mapping[str, float]) -> Reading:
    """A reading scored by the request's weights over its objectives."""
    objectives = reading.fields.get("objectives") or {}
    score = sum(w * objectives[name] for name, w in weights.items()) if objectives else math.nan
    return Reading(score if math.isfinite(reading.score) else math.nan, reading.fields)


def item_scores(
    prepared: Sequence[Prepared],
    readings: Sequence[Reading],
    mean: float,
    std: float,
    weights: Mapping[str, float] | None = None,
) -> list[ItemScore]:
    """Each item's answer: raw and normalised score with the head kind's own fields, and
    truncation; or the error of a non-finite score (that item fails, the others stand). With
    ``weights`` the score is their mix of the objectives, with no normalised score."""
    if weights is not None:
        readings = [reweighted(r, weights) for r in readings]
    return [
        ItemScore(
            raw=r.score,
            normalized=(r.score - mean) / std if weights is None else None,
            truncated_tokens=p.dropped,
            **r.fields,
        )
        if math.isfinite(r.score)
        else ItemScore(
            raw=None,
            normalized=None,
            truncated_tokens=p.dropped,
            error="the model gave a non-finite score",
        )
        for p, r in zip(prepared, readings, strict=True)
    ]


class ScoreResponse(BaseModel):
    model: str
    scores: list[ItemScore]


class GetRewardRequest(BaseModel):
    """OpenRLHF's remote reward model body: ``query`` holds prompt + response as one string."""

    query: list[UnicodeText] = Field(min_length=1)
    prompts: list[UnicodeText] | None = None
    """The prompt of each query; when given (and a prefix of it), the prompt is split off."""
    labels: list[UnicodeText | float | int | None] | None = None
    """Accepted for compatibility (rule-based servers use them); a reward model ignores them."""


class GetRewardResponse(BaseModel):
    rewards: list[float]
    scores: list[float]
    extra_logs: dict[str, list[float]]


class Limits(BaseModel):
    max_tokens: int
    overflow: str
    max_items: int
    max_body_bytes: int
    max_concurrency: int
    max_queue_items: int
    timeout_s: float
    batch_tokens: int


class Info(BaseModel):
    model: str
    backbone: str
    head: str
    objectives: list[str]
    gate: bool
    """Whether a prompt-conditioned gate mixes the objectives (else fixed weights or the mean)."""
    pooling: str
    shared_prompt: bool
    normalization: dict[str, float]
    limits: Limits
    auth: bool
    rewardkit_version: str


class ErrorBody(BaseModel):
    error: str
    detail: list[dict[str, str]] | None = None
