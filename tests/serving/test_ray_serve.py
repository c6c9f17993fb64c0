"""The Ray Serve deployment, started locally: same body, same scores, same limits and the same
answer to every hostile body as the FastAPI app."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tiny
from hostile import KNOWN, Hostile, every_kind
from live_server import serving

ray = pytest.importorskip("ray")
from ray import serve  # noqa: E402

from rewardkit.serving.app import create_app  # noqa: E402
from rewardkit.serving.config import ServeConfig  # noqa: E402
from rewardkit.serving.loading import load_backend  # noqa: E402
from rewardkit.serving.ray_app import RayServeConfig, build_app  # noqa: E402

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def ray_serve() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.MonkeyPatch.context() as env:
        # Serve kills a proxy not ready in 5 s; on a loaded 2-core machine (the suite's other
        # tests, a benchmark) its worker can take longer to start. The local cluster that
        # ray.init starts inherits these.
        for name in ("PROXY_READY_CHECK_TIMEOUT_S", "PROXY_HEALTH_CHECK_TIMEOUT_S"):
            env.setenv(f"RAY_SERVE_{name}", "120")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()  # type: ignore[no-untyped-call]
            ray.shutdown()


def items(prompts: list[str], responses: list[str]) -> dict[str, Any]:
    return {
        "items": [{"prompt": p, "response": r} for p, r in zip(prompts, responses, strict=True)]
    }


def test_deployment_scores_and_refuses_like_the_app(ray_serve: str, tmp_path: Path) -> None:
    model = tiny.reward_model("llama", max_length=64)
    model.save(tmp_path / "model")
    limits: dict[str, Any] = {"max_items": 4, "max_body_bytes": 500_000}
    cfg = RayServeConfig(
        model=str(tmp_path / "model"), num_cpus=0.5, max_batch_size=8, precision="fp32", **limits
    )
    serve.run(build_app(cfg), route_prefix="/score")
    prompts = ["Why is the sky blue?"] * 3 + ["2+2?"]
    responses = ["Rayleigh scattering.", "Because.", "Light scatters off the air.", "4"]
    valid = json.dumps(items(prompts, responses)).encode()
    limit_cases = [
        Hostile(
            "too long an item", "/score", json.dumps(items(["p"], ["word " * 100])).encode(), 422
        ),
        Hostile("too many items", "/score", json.dumps(items(["p"] * 5, ["r"] * 5)).encode(), 422),
        Hostile(
            "too big a body", "/score", json.dumps(items(["p"], ["x" * 600_000])).encode(), 413
        ),
    ]
    cases = [*limit_cases, *KNOWN, *(c for c in every_kind(60) if c.route == "/score")]
    app = create_app(
        load_backend(ServeConfig(model=cfg.model)), ServeConfig(warmup=False, **limits)
    )
    with serving(app) as url, httpx.Client(timeout=120) as on_ray, httpx.Client() as on_app:
        reply = on_ray.post(ray_serve + "/score", content=valid, headers=JSON)
        assert reply.status_code == 200, reply.text
        served = [s["raw"] for s in reply.json()["scores"]]
        assert served == pytest.approx(model.score(prompts, responses).raw, abs=1e-5)
        for case in cases:
            ray_reply = on_ray.post(ray_serve + case.route, content=case.body, headers=JSON)
            app_reply = on_app.post(url + case.route, content=case.body, headers=JSON)
            assert ray_reply.status_code == app_reply.status_code < 500, case
            if case.expect is not None:
                assert ray_reply.status_code == case.expect, case
            if ray_reply.status_code == 200:
                ray_scores = [s["raw"] for s in ray_reply.json()["scores"]]
                app_scores = [s["raw"] for s in app_reply.json()["scores"]]
                assert ray_scores == pytest.approx(app_scores, abs=1e-5), case
            else:  # the same error, word for word
                assert ray_reply.json() == app_reply.json(), case
            after = on_ray.post(ray_serve + "/score", content=valid, headers=JSON)
            assert after.status_code == 200, case
            assert after.extensions["network_stream"] is ray_reply.extensions["network_stream"]


def test_autoscaling_settings_reach_the_deployment(tmp_path: Path) -> None:
    app = build_app(RayServeConfig(model=str(tmp_path), min_replicas=1, max_replicas=3))
    deployment = app._bound_deployment  # what serve.run would deploy
    autoscaling = deployment._deployment_config.autoscaling_config
    assert autoscaling is not None
    assert (autoscaling.min_replicas, autoscaling.max_replicas) == (1, 3)
    assert deployment._deployment_config.max_ongoing_requests == 64
