"""The Ray Serve deployment, started locally: same body, same scores as in-process."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tiny

ray = pytest.importorskip("ray")
from ray import serve  # noqa: E402

from rewardkit.serving.ray_app import RayServeConfig, build_app  # noqa: E402


@pytest.fixture(scope="module")
def ray_serve() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()


def test_deployment_scores_like_the_model(ray_serve: str, tmp_path: Path) -> None:
    model = tiny.reward_model("llama", max_length=64)
    model.save(tmp_path / "model")
    cfg = RayServeConfig(model=str(tmp_path / "model"), num_cpus=0.5, max_batch_size=8)
    serve.run(build_app(cfg), route_prefix="/score")
    prompts = ["Why is the sky blue?"] * 3 + ["2+2?"]
    responses = ["Rayleigh scattering.", "Because.", "Light scatters off the air.", "4"]
    body: dict[str, Any] = {
        "items": [{"prompt": p, "response": r} for p, r in zip(prompts, responses, strict=True)]
    }
    reply = httpx.post(ray_serve + "/score", json=body, timeout=120)
    assert reply.status_code == 200, reply.text
    served = [s["raw"] for s in reply.json()["scores"]]
    assert served == pytest.approx(model.score(prompts, responses).raw, abs=1e-5)
    too_long = {"items": [{"prompt": "p", "response": "word " * 100}]}
    refused = httpx.post(ray_serve + "/score", json=too_long, timeout=120)
    assert refused.status_code == 422 and "over the limit" in refused.json()["error"]
    bad = httpx.post(ray_serve + "/score", json={"items": "no"}, timeout=120)
    assert bad.status_code == 422


def test_autoscaling_settings_reach_the_deployment(tmp_path: Path) -> None:
    app = build_app(RayServeConfig(model=str(tmp_path), min_replicas=1, max_replicas=3))
    deployment = app._bound_deployment  # what serve.run would deploy
    autoscaling = deployment._deployment_config.autoscaling_config
    assert autoscaling is not None
    assert (autoscaling.min_replicas, autoscaling.max_replicas) == (1, 3)
    assert deployment._deployment_config.max_ongoing_requests == 64
