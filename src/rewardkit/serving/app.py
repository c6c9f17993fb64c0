"""The reward server's app factory: ``create_app(backend, config)``.

Routes: ``POST /score`` (rewardkit's own: prompt/response items, raw and normalised scores, per
item errors and truncation flags), ``POST /get_reward`` (OpenRLHF's remote reward protocol),
``GET /health``, ``GET /info``, ``GET /metrics`` (Prometheus). Tokenisation runs in a thread,
the model in the scheduler's worker: the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from rewardkit import __version__
from rewardkit.records import Text
from rewardkit.serving.backend import ItemTooLong, ModelBackend, Prepared
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.guard import Guard, ServerState
from rewardkit.serving.metrics import ServerMetrics
from rewardkit.serving.scheduler import QueueFull, Scheduler
from rewardkit.serving.schemas import (
    ErrorBody,
    GetRewardRequest,
    GetRewardResponse,
    Info,
    Limits,
    ScoreRequest,
    ScoreResponse,
    item_scores,
    to_text,
)

MAX_ERRORS_SHOWN = 10
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 413, 422, 429, 503, 504)
}


@dataclass(frozen=True)
class Scored:
    prepared: list[Prepared]
    raw: list[float]


def create_app(
    backend: ModelBackend, cfg: ServeConfig, name: str = "model", api_key: str | None = None
) -> FastAPI:
    metrics = ServerMetrics()
    scheduler = Scheduler(backend, cfg.batch_tokens, cfg.max_queue_items, metrics.record_batch)
    state = ServerState(metrics, cfg.max_body_bytes, cfg.max_concurrency, api_key)
    info = backend.model.info

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if cfg.warmup:
            await asyncio.to_thread(backend.warm_up, cfg.batch_tokens)
        scheduler.start()
        yield
        scheduler.stop()

    app = FastAPI(title="rewardkit reward server", version=__version__, lifespan=lifespan)
    app.state.server = state
    app.add_middleware(Guard, state=state)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # short: never echo the input back (a hostile body could be megabytes)
        detail = [
            {
                "loc": ".".join(str(p) for p in e.get("loc", ()))[:200],
                "msg": str(e.get("msg", ""))[:200],
            }
            for e in exc.errors()[:MAX_ERRORS_SHOWN]
        ]
        return JSONResponse({"error": "invalid request body", "detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail)[:500]}, status_code=exc.status_code, headers=exc.headers
        )

    def prepare_all(pairs: Sequence[tuple[Text, Text]]) -> list[Prepared]:
        prepared = []
        for index, (prompt, response) in enumerate(pairs):
            try:
                prepared.append(backend.prepare(prompt, response))
            except ItemTooLong as exc:
                raise HTTPException(422, f"item {index}: {exc}") from None
        return prepared

    async def score(pairs: Sequence[tuple[Text, Text]]) -> Scored:
        if len(pairs) > cfg.max_items:
            raise HTTPException(422, f"{len(pairs)} items in one request; at most {cfg.max_items}")
        prepared = await asyncio.to_thread(prepare_all, pairs)
        try:
            future, cancel = scheduler.submit(prepared)
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"Retry-After": "1"}) from None
        metrics.queue.set(scheduler.queued_items)
        try:
            raw = await asyncio.wait_for(asyncio.shield(future), cfg.timeout_s)
        except TimeoutError:
            cancel()
            raise HTTPException(504, f"not scored within {cfg.timeout_s} s") from None
        failed = sum(not math.isfinite(r) for r in raw)
        if failed:
            metrics.failed_items.inc(failed)
        return Scored(prepared, raw)

    @app.post("/score", response_model=ScoreResponse, responses=ERRORS)
    async def score_route(body: ScoreRequest) -> ScoreResponse:
        """Scores for prompt/response items, in order; an item whose score is not finite gets an
        error and no score, and the others are unaffected."""
        scored = await score([(to_text(i.prompt), to_text(i.response)) for i in body.items])
        return ScoreResponse(
            model=name, scores=item_scores(scored.prepared, scored.raw, info.mean, info.std)
        )

    @app.post("/get_reward", response_model=GetRewardResponse, responses=ERRORS)
    async def get_reward(body: GetRewardRequest) -> GetRewardResponse:
        """OpenRLHF's remote reward route (``--reward.remote_url``): ``query`` is prompt + response;
        give ``prompts`` to have the prompt split off (and shared by a group's responses)."""
        if body.prompts is not None and len(body.prompts) != len(body.query):
            raise HTTPException(422, f"{len(body.prompts)} prompts for {len(body.query)} queries")
        prompts = body.prompts or [""] * len(body.query)
        pairs = [backend.split_query(q, p) for q, p in zip(body.query, prompts, strict=True)]
        scored = await score(pairs)
        bad = [i for i, r in enumerate(scored.raw) if not math.isfinite(r)]
        if bad:
            raise HTTPException(500, f"the model gave a non-finite score for items {bad[:10]}")
        mean, std = (info.mean, info.std) if cfg.normalize else (0.0, 1.0)
        values = [(r - mean) / std for r in scored.raw]
        return GetRewardResponse(
            rewards=values,
            scores=values,
            extra_logs={
                "raw_reward": scored.raw,
                "truncated_tokens": [float(p.dropped) for p in scored.prepared],
            },
        )

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "in_flight": state.in_flight,
            "queued_items": scheduler.queued_items,
        }

    @app.get("/info", response_model=Info)
    async def info_route() -> Info:
        return Info(
            model=name,
            backbone=info.backbone,
            head=info.head,
            objectives=list(info.objectives),
            pooling=info.pooling,
            shared_prompt=backend.shares_prompt,
            normalization={"mean": info.mean, "std": info.std},
            limits=Limits(
                max_tokens=backend.limit,
                overflow=cfg.overflow,
                max_items=cfg.max_items,
                max_body_bytes=cfg.max_body_bytes,
                max_concurrency=cfg.max_concurrency,
                max_queue_items=cfg.max_queue_items,
                timeout_s=cfg.timeout_s,
                batch_tokens=cfg.batch_tokens,
            ),
            auth=api_key is not None,
            rewardkit_version=__version__,
        )

    @app.get("/metrics")
    async def metrics_route() -> Response:
        metrics.queue.set(scheduler.queued_items)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return app
