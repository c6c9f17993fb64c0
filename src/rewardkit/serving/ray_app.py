"""The same scorer as a Ray Serve deployment: replicas, Serve's request batching, autoscaling.

    from ray import serve
    from rewardkit.serving.ray_app import RayServeConfig, build_app

    serve.run(build_app(RayServeConfig(model="runs/demo/model", max_replicas=4)), route_prefix="/score")

It answers rewardkit's ``POST /score`` body with the same JSON as `rewardkit serve`. Each replica
loads the model once; Serve gathers items from concurrent requests into batches of up to
``max_batch_size`` (waiting at most ``batch_wait_timeout_s``), and each batch is one forward pass
of the same ``ModelBackend`` (length-sorted padded rows, shared prompts packed). Ray is an
optional dependency: ``pip install 'ray[serve]'``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from rewardkit.serving.backend import ItemTooLong, Prepared
from rewardkit.serving.command import load_backend
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.schemas import ScoreRequest, ScoreResponse, item_scores, to_text


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
    overflow: Literal["reject", "truncate_left"] = "reject"
    shared_prompt: bool = True
    extra_actor_options: dict[str, Any] = field(default_factory=dict)


class RewardDeployment:
    def __init__(self, cfg: RayServeConfig) -> None:
        serve_cfg = ServeConfig(
            model=cfg.model,
            max_tokens=cfg.max_tokens,
            overflow=cfg.overflow,
            shared_prompt=cfg.shared_prompt,
        )
        self.backend = load_backend(serve_cfg)
        self.name = Path(cfg.model).name
        self.score_batch.set_max_batch_size(cfg.max_batch_size)  # type: ignore[attr-defined]
        self.score_batch.set_batch_wait_timeout_s(cfg.batch_wait_timeout_s)  # type: ignore[attr-defined]

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.01)
    async def score_batch(self, items: list[Prepared]) -> list[float]:
        ordered = sorted(range(len(items)), key=lambda i: self.backend.sort_key(items[i]))
        scores = self.backend.run([items[i] for i in ordered])
        out = [0.0] * len(items)
        for position, index in enumerate(ordered):
            out[index] = scores[position]
        return out

    async def __call__(self, request: Request) -> JSONResponse:
        try:
            body = ScoreRequest.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            return JSONResponse(
                {"error": f"invalid request body: {str(exc)[:300]}"}, status_code=422
            )
        try:
            prepared = [
                self.backend.prepare(to_text(i.prompt), to_text(i.response)) for i in body.items
            ]
        except ItemTooLong as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        raw = await asyncio.gather(*(self.score_batch(p) for p in prepared))
        info = self.backend.model.info
        scores = item_scores(prepared, raw, info.mean, info.std)
        return JSONResponse(ScoreResponse(model=self.name, scores=scores).model_dump())


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
