"""The same scorer as a Ray Serve deployment: replicas, Serve's request batching, autoscaling.

    from ray import serve
    from rewardkit.serving.ray_app import RayServeConfig, build_app

    serve.run(build_app(RayServeConfig(model="runs/demo/model", max_replicas=4)), route_prefix="/score")

It answers rewardkit's ``POST /score`` body with the same JSON as `rewardkit serve`, through the
same ``ScoringService``: the same validation, the same body cap (413), item cap and token limit
(422), the same timeout (504) and the same error bodies; tokenisation runs in a thread. Each
replica loads the model once; Serve gathers items from concurrent requests into batches of up
to ``max_batch_size`` (waiting at most ``batch_wait_timeout_s``), and each batch is one forward
pass of the same ``ModelBackend`` (length-sorted padded rows, shared prompts packed), also in a
thread, so the replica's event loop stays free. Ray is an optional dependency:
``pip install 'ray[serve]'``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from rewardkit.scoring import Overflow, Precision
from rewardkit.serving.backend import FAILED, Prepared, Reading
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.guard import read_capped, too_large
from rewardkit.serving.loading import load_backend
from rewardkit.serving.schemas import ScoreRequest
from rewardkit.serving.service import Refused, ScoringService, parse_body

logger = logging.getLogger(__name__)


@dataclass
class RayServeConfig:
    model: str
    """A model directory, readable from every replica."""
    min_replicas: int = 1
    max_replicas: int = 1
    """Above min_replicas, Serve's autoscaler adds replicas as requests queue up."""
    target_ongoing_requests: float = 16
    """Autoscaling target per replica."""
    max_ongoing_requests: int = 64
    """Requests a replica accepts at once; Serve queues (and finally refuses) the rest."""
    max_batch_size: int = 64
    """Items per forward pass, gathered across requests."""
    batch_wait_timeout_s: float = 0.01
    num_cpus: float = 1.0
    """CPUs reserved per replica."""
    max_tokens: int | None = None
    overflow: Overflow = "flag"
    shared_prompt: bool = True
    precision: Precision = "auto"
    """auto: bf16 where the CPU or GPU runs it fast (as `rewardkit serve`)."""
    max_items: int = ServeConfig.max_items
    """Items per request; more is answered 422 (as by `rewardkit serve`)."""
    max_body_bytes: int = ServeConfig.max_body_bytes
    """Request body cap; more is answered 413."""
    timeout_s: float = ServeConfig.timeout_s
    """Per-request limit, answered 504."""
    extra_actor_options: dict[str, Any] = field(default_factory=dict)


class RewardDeployment:
    def __init__(self, cfg: RayServeConfig) -> None:
        # one ServeConfig, so the limits are `rewardkit serve`'s own fields, checked by its code
        shared = {f.name for f in fields(ServeConfig)} & {f.name for f in fields(cfg)}
        self.cfg = ServeConfig(**{name: getattr(cfg, name) for name in shared})
        self.backend = load_backend(self.cfg)
        self.scoring = ScoringService(self.backend, self.cfg, Path(cfg.model).name, self.batched)
        self.score_batch.set_max_batch_size(cfg.max_batch_size)  # type: ignore[attr-defined]
        self.score_batch.set_batch_wait_timeout_s(cfg.batch_wait_timeout_s)  # type: ignore[attr-defined]

    async def batched(self, prepared: list[Prepared]) -> list[Reading]:
        """The service's batcher: each item joins Serve's batches across requests."""
        return list(await asyncio.gather(*(self.score_batch(p) for p in prepared)))

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.01)
    async def score_batch(self, items: list[Prepared]) -> list[Reading]:
        # Serve runs one batch at a time (max_concurrent_batches=1), so one thread at a time
        return await asyncio.to_thread(self._run_sorted, items)

    def _run_sorted(self, items: list[Prepared]) -> list[Reading]:
        ordered = sorted(range(len(items)), key=lambda i: self.backend.sort_key(items[i]))
        scores = self.backend.run([items[i] for i in ordered])
        out = [FAILED] * len(items)
        for position, index in enumerate(ordered):
            out[index] = scores[position]
        return out

    async def __call__(self, request: Request) -> JSONResponse:
        cap = self.cfg.max_body_bytes
        try:
            body = await read_capped(request.stream(), request.headers.get("content-length"), cap)
            if body is None:
                raise Refused(413, too_large(cap))
            scored = await self.scoring.score(parse_body(ScoreRequest, body))
            return JSONResponse(scored.model_dump())
        except Refused as exc:
            return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
        except Exception:  # as the app's guard does: a JSON 500, logged, the replica goes on
            logger.exception("unhandled error scoring a request")
            return JSONResponse({"error": "internal server error"}, status_code=500)


def build_app(cfg: RayServeConfig) -> serve.Application:
    autoscaling = (
        {
            "min_replicas": cfg.min_replicas,
            "max_replicas": cfg.max_replicas,
            "target_ongoing_requests": cfg.target_ongoing_requests,
        }
        if cfg.max_replicas > cfg.min_replicas
        else None
    )
    deployment = serve.deployment(
        name="rewardkit",
        max_ongoing_requests=cfg.max_ongoing_requests,
        ray_actor_options={"num_cpus": cfg.num_cpus, **cfg.extra_actor_options},
    )(RewardDeployment)
    if autoscaling is not None:
        deployment = deployment.options(autoscaling_config=autoscaling)
    else:
        deployment = deployment.options(num_replicas=cfg.min_replicas)
    return deployment.bind(cfg)
