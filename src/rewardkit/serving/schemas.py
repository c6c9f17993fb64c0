"""Request and response bodies: pydantic models, so every route validates its input and the
OpenAPI schema is the code's own."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rewardkit.records import Message, Text
from rewardkit.serving.backend import Prepared


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant", "tool"]
    content: str


WireText = str | list[ChatMessage]


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


class ItemScore(BaseModel):
    raw: float | None
    """The head's output; null when the item failed (see ``error``)."""
    normalized: float | None
    """(raw - mean) / std with the statistics saved at training time."""
    truncated_tokens: int = 0
    """Prompt tokens cut from the left to fit the limit (only with overflow=truncate_left)."""
    error: str | None = None
    """Why this item has no score (a non-finite model output); the other items are unaffected."""


def item_scores(
    prepared: Sequence[Prepared], raw: Sequence[float], mean: float, std: float
) -> list[ItemScore]:
    """Each item's answer: raw and normalised score, truncation, or the error of a non-finite
    score (that item fails, the others stand)."""
    return [
        ItemScore(
            raw=r,
            normalized=(r - mean) / std,
            truncated_tokens=p.dropped,
        )
        if math.isfinite(r)
        else ItemScore(
            raw=None,
            normalized=None,
            truncated_tokens=p.dropped,
            error="the model gave a non-finite score",
        )
        for p, r in zip(prepared, raw, strict=True)
    ]


class ScoreResponse(BaseModel):
    model: str
    scores: list[ItemScore]


class GetRewardRequest(BaseModel):
    """OpenRLHF's remote reward model body: ``query`` holds prompt + response as one string."""

    query: list[str] = Field(min_length=1)
    prompts: list[str] | None = None
    """The prompt of each query; when given (and a prefix of it), the prompt is split off."""
    labels: list[str | float | int | None] | None = None
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
    pooling: str
    shared_prompt: bool
    normalization: dict[str, float]
    limits: Limits
    auth: bool
    rewardkit_version: str


class ErrorBody(BaseModel):
    error: str
    detail: list[dict[str, str]] | None = None
