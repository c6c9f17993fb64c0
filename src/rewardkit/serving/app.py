"""The reward server's app factory: ``create_app(backend, config)``.

Routes: ``POST /score`` (rewardkit's own: prompt/response items, raw and normalised scores, per
item errors and truncation flags), ``POST /get_reward`` (OpenRLHF's remote reward protocol),
``GET /health``, ``GET /info``, ``GET /metrics`` (Prometheus). The routes are plain functions of
this module that read the app's ``Served`` from ``request.app.state``; scoring itself is the
``ScoringService`` the Ray Serve deployment calls too. Tokenisation runs in a thread, the model
in the scheduler's worker: the event loop only moves bytes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from rewardkit import __version__
from rewardkit.serving.backend import ModelBackend, Prepared, Reading
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
)
from rewardkit.serving.service import Batcher, Refused, ScoringService, printable

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 413, 422, 429, 500, 503, 504)
}


@dataclass(frozen=True)
class Served:
    """What the routes read: one per app, in ``app.state.served``."""

    name: str
    cfg: ServeConfig
    backend: ModelBackend
    scheduler: Scheduler
    state: ServerState
    """The guard's: limits, the API key, requests in flight, draining."""
    scoring: ScoringService


def create_app(
    backend: ModelBackend, cfg: ServeConfig, name: str = "model", api_key: str | None = None
) -> FastAPI:
    metrics = ServerMetrics()
    scheduler = Scheduler(
        backend, cfg.batch_tokens, cfg.max_queue_items, metrics.record_batch, cfg.workers
    )
    state = ServerState(metrics, cfg.max_body_bytes, cfg.max_concurrency, api_key)
    scoring = ScoringService(backend, cfg, name, scheduled(scheduler, metrics), metrics)
    app = FastAPI(title="rewardkit reward server", version=__version__, lifespan=lifespan)
    app.state.served = Served(name, cfg, backend, scheduler, state, scoring)
    app.add_middleware(Guard, state=state)
    app.add_exception_handler(Refused, refused)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_api_route("/score", score, methods=["POST"], responses=ERRORS)
    app.add_api_route("/get_reward", get_reward, methods=["POST"], responses=ERRORS)
    app.add_api_route("/health", health, methods=["GET"])
    app.add_api_route("/info", info, methods=["GET"])
    app.add_api_route("/metrics", prometheus, methods=["GET"])
    return app


def scheduled(scheduler: Scheduler, metrics: ServerMetrics) -> Batcher:
    """The app's batcher: the items go on the scheduler's queue (429 when it is full); when the
    service's timeout cancels the wait, the request's items still queued are dropped."""

    async def batcher(prepared: list[Prepared]) -> list[Reading]:
        try:
            future, cancel = scheduler.submit(prepared)
        except QueueFull as exc:
            raise Refused(429, str(exc), headers={"Retry-After": "1"}) from None
        metrics.queue.set(scheduler.queued_items)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel()
            raise

    return batcher


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    served: Served = app.state.served
    warm_up = functools.partial(served.backend.warm_up, served.cfg.batch_tokens)
    await asyncio.to_thread(served.scheduler.start, warm_up if served.cfg.warmup else None)
    yield
    served.scheduler.stop()


# ---- answers for errors (short: never the input echoed back, a hostile body can be megabytes) --


async def refused(_: Request, exc: Refused) -> JSONResponse:
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    return await refused(_, Refused.invalid(exc.errors()))


async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    body = {"error": printable(str(exc.detail), 500)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


# ---- routes --------------------------------------------------------------------------------


def served_by(request: Request) -> Served:
    served: Served = request.app.state.served
    return served


ServedBy = Annotated[Served, Depends(served_by)]


async def score(body: ScoreRequest, served: ServedBy) -> ScoreResponse:
    """Scores for prompt/response items, in order; an item whose score is not finite gets an
    error and no score, and the others are unaffected."""
    return await served.scoring.score(body)


async def get_reward(body: GetRewardRequest, served: ServedBy) -> GetRewardResponse:
    """OpenRLHF's remote reward route (``--reward.remote_url``): ``query`` is prompt + response;
    give ``prompts`` to have the prompt split off (and shared by a group's responses)."""
    return await served.scoring.get_reward(body)


async def health(served: ServedBy) -> dict[str, Any]:
    return {
        "status": "ok",
        "in_flight": served.state.in_flight,
        "queued_items": served.scheduler.queued_items,
    }


async def info(served: ServedBy) -> Info:
    model, cfg = served.backend.model.info, served.cfg
    return Info(
        model=served.name,
        backbone=model.backbone,
        head=model.head,
        objectives=list(model.objectives),
        gate=served.backend.model.gate is not None,
        pooling=model.pooling,
        shared_prompt=served.backend.shares_prompt,
        normalization={"mean": model.mean, "std": model.std},
        limits=Limits(
            max_tokens=served.backend.limit,
            overflow=cfg.overflow,
            max_items=cfg.max_items,
            max_body_bytes=cfg.max_body_bytes,
            max_concurrency=cfg.max_concurrency,
            max_queue_items=cfg.max_queue_items,
            timeout_s=cfg.timeout_s,
            batch_tokens=cfg.batch_tokens,
        ),
        auth=served.state.api_key is not None,
        rewardkit_version=__version__,
    )


async def prometheus(served: ServedBy) -> Response:
    served.state.metrics.queue.set(served.scheduler.queued_items)
    return Response(served.state.metrics.render(), media_type="text/plain; version=0.0.4")
