"""The one scoring path of both front ends: the FastAPI app (``app.py``) and the Ray Serve
deployment (``ray_app.py``) call the same ``ScoringService`` with the same validated bodies, so
they apply the same limits, answer the same errors and build the same answers.

A front end brings only its batcher (the app's token-budget ``Scheduler``, or Serve's
``@serve.batch``). Everything else is here: the item cap (422), tokenisation in a thread (the
event loop only moves bytes), per-item errors for over-long items (422 naming the item), the
per-request timeout (504) and the answers. ``Refused`` is how a step says "answer this status":
each front end turns it into the same JSON body.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rewardkit.records import Text
from rewardkit.serving.backend import ModelBackend, Prepared, Reading
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.metrics import ServerMetrics
from rewardkit.serving.schemas import (
    GetRewardRequest,
    GetRewardResponse,
    ScoreRequest,
    ScoreResponse,
    item_scores,
    to_text,
)

MAX_ERRORS_SHOWN = 10

Batcher = Callable[[list[Prepared]], Awaitable[list[Reading]]]
"""Scores prepared items (in order): where the front ends differ."""

Body = TypeVar("Body", bound=BaseModel)


def printable(text: str, limit: int = 200) -> str:
    """Text safe to put in a UTF-8 answer: a lone surrogate (say, in a JSON key that an error
    names) becomes its escape instead of breaking the encoding of the whole answer."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


class Refused(Exception):
    """A request answered with an error status and a short JSON body, never the input echoed."""

    def __init__(
        self,
        status: int,
        error: str,
        headers: Mapping[str, str] | None = None,
        detail: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.headers = dict(headers or {})
        self.body: dict[str, Any] = {"error": printable(error, 500)}
        if detail is not None:
            self.body["detail"] = detail

    @classmethod
    def invalid(cls, errors: Sequence[Mapping[str, Any]]) -> Refused:
        """422 for a body that does not validate: where and what, for the first few errors."""
        detail = [
            {
                "loc": printable(".".join(str(p) for p in e.get("loc", ()))),
                "msg": printable(str(e.get("msg", ""))),
            }
            for e in errors[:MAX_ERRORS_SHOWN]
        ]
        return cls(422, "invalid request body", detail=detail)


def parse_body(model: type[Body], body: bytes) -> Body:
    """A JSON body validated as ``model``, with FastAPI's own steps and answers (for a front end
    that is not FastAPI): an empty body or invalid JSON is 422, JSON Python cannot hold (nesting
    past the recursion limit, an integer of 4,300+ digits) is 400, a schema error is 422."""
    if not body:
        raise Refused.invalid([{"loc": ("body",), "msg": "Field required"}])
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise Refused.invalid([{"loc": ("body", exc.pos), "msg": "JSON decode error"}]) from None
    except (ValueError, RecursionError):  # also bytes that are not UTF-8 (UnicodeDecodeError)
        raise Refused(400, "There was an error parsing the body") from None
    try:  # from_attributes as FastAPI validates (same messages); JSON has no attributes anyway
        return model.model_validate(data, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise Refused.invalid([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def check_weights(weights: Mapping[str, float] | None, head: str, objectives: list[str]) -> None:
    """Request weights name objectives of an ``objectives`` head, or the request is 422."""
    if weights is None:
        return
    if head != "objectives":
        raise Refused(422, f"weights: this model has a {head!r} head, not named objectives")
    unknown = [name for name in weights if name not in objectives]
    if unknown:
        raise Refused(
            422,
            f"weights: unknown objective(s) {', '.join(map(repr, unknown[:MAX_ERRORS_SHOWN]))}; "
            f"this model has {', '.join(objectives)}",
        )


@dataclass(frozen=True)
class Scored:
    prepared: list[Prepared]
    readings: list[Reading]

    @property
    def raw(self) -> list[float]:
        return [r.score for r in self.readings]


class ScoringService:
    def __init__(
        self,
        backend: ModelBackend,
        cfg: ServeConfig,
        name: str,
        batcher: Batcher,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self.backend = backend
        self.cfg = cfg
        self.name = name
        self.batcher = batcher
        self.metrics = metrics

    async def score(self, body: ScoreRequest) -> ScoreResponse:
        """``POST /score``: each item's raw and normalised score; an item whose score is not
        finite gets an error and no score, and the others are unaffected."""
        info = self.backend.model.info
        check_weights(body.weights, info.head, info.objectives)
        scored = await self._score([(to_text(i.prompt), to_text(i.response)) for i in body.items])
        return ScoreResponse(
            model=self.name,
            scores=item_scores(scored.prepared, scored.readings, info.mean, info.std, body.weights),
        )

    async def get_reward(self, body: GetRewardRequest) -> GetRewardResponse:
        """OpenRLHF's remote reward protocol: ``query`` is prompt + response; with ``prompts``,
        the prompt is split off (and shared by a group's responses)."""
        if body.prompts is not None and len(body.prompts) != len(body.query):
            raise Refused(422, f"{len(body.prompts)} prompts for {len(body.query)} queries")
        prompts = body.prompts or [""] * len(body.query)
        pairs = [self.backend.split_query(q, p) for q, p in zip(body.query, prompts, strict=True)]
        scored = await self._score(pairs)
        bad = [i for i, r in enumerate(scored.raw) if not math.isfinite(r)]
        if bad:  # this protocol has no per-item error: the request fails
            raise Refused(500, f"the model gave a non-finite score for items {bad[:10]}")
        info = self.backend.model.info
        mean, std = (info.mean, info.std) if self.cfg.normalize else (0.0, 1.0)
        values = [(r - mean) / std for r in scored.raw]
        return GetRewardResponse(
            rewards=values,
            scores=values,
            extra_logs={
                "raw_reward": scored.raw,
                "truncated_tokens": [float(p.dropped) for p in scored.prepared],
            },
        )

    async def _score(self, pairs: Sequence[tuple[Text, Text]]) -> Scored:
        if len(pairs) > self.cfg.max_items:
            raise Refused(422, f"{len(pairs)} items in one request; at most {self.cfg.max_items}")
        prepared = await asyncio.to_thread(self._prepare_all, pairs)
        try:
            readings = await asyncio.wait_for(self.batcher(prepared), self.cfg.timeout_s)
        except TimeoutError:  # the batcher was cancelled: its items still queued are dropped
            raise Refused(504, f"not scored within {self.cfg.timeout_s} s") from None
        failed = sum(not math.isfinite(r.score) for r in readings)
        if failed and self.metrics is not None:
            self.metrics.failed_items.inc(failed)
        return Scored(prepared, readings)

    def _prepare_all(self, pairs: Sequence[tuple[Text, Text]]) -> list[Prepared]:
        prepared = []
        for index, item in enumerate(self.backend.prepare_many(pairs)):
            if isinstance(item, ValueError):
                raise Refused(422, f"item {index}: {item}")
            prepared.append(item)
        return prepared
