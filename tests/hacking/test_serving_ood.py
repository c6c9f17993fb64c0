"""A real server on loopback returns an ensemble's spread and, with a detector saved beside the
model, each item's OOD score: equal to scoring the model's pooled features offline."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import tiny
from live_server import serving

from rewardkit.hacking.ood import fit_ood
from rewardkit.models.ood import pooled_features
from rewardkit.serving.app import create_app
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.loading import load_backend

PROMPTS = ["What is 2 plus 3?", "What is 4 plus 4?", "Hello"]
RESPONSES = ["2 plus 3 is 5.", "4 plus 4 is 8.", "Human: hi\n\nAssistant: hey! " * 3]


@pytest.mark.parametrize("with_detector", [True, False])
def test_server_returns_spread_and_ood(tmp_path: Path, with_detector: bool) -> None:
    model = tiny.reward_model("bert", head="ensemble", objectives=["m0", "m1", "m2"]).eval()
    model.save(tmp_path / "model")
    inside = [("What is 2 plus 3?", f"{a} plus 3 is {a + 3}.") for a in range(30)]
    detector = fit_ood(model, inside[:20], inside[20:])
    if with_detector:
        detector.save(tmp_path / "model")
    cfg = ServeConfig(model=str(tmp_path / "model"), warmup=False)
    items = [{"prompt": p, "response": r} for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    with serving(create_app(load_backend(cfg), cfg)) as url:
        reply = httpx.post(f"{url}/score", json={"items": items}, timeout=30)
    assert reply.status_code == 200, reply.text
    scores = reply.json()["scores"]
    expected = model.score(PROMPTS, RESPONSES)
    assert [s["spread"] for s in scores] == pytest.approx(expected.spread, abs=1e-4)
    if not with_detector:
        assert all(s["ood"] is None for s in scores)
        return
    offline = detector.score(pooled_features(model, PROMPTS, RESPONSES)).tolist()
    assert [s["ood"] for s in scores] == pytest.approx(offline, rel=1e-4)
    assert scores[2]["ood"] > max(scores[0]["ood"], scores[1]["ood"])  # the dialogue is far


def test_two_workers_give_each_item_its_own_ood_score(tmp_path: Path) -> None:
    model = tiny.reward_model("bert", head="ensemble", objectives=["m0", "m1", "m2"]).eval()
    model.save(tmp_path / "model")
    inside = [("What is 2 plus 3?", f"{a} plus 3 is {a + 3}.") for a in range(30)]
    fit_ood(model, inside[:20], inside[20:]).save(tmp_path / "model")
    # small batches from many requests at once: both workers busy, batches side by side
    cfg = ServeConfig(model=str(tmp_path / "model"), warmup=False, batch_tokens=48, workers=2)
    prompts = [f"What is {a} plus {a % 7}?" for a in range(24)]
    responses = [f"It is {a + a % 7}." + " Really." * (a % 4) for a in range(24)]
    items = [{"prompt": p, "response": r} for p, r in zip(prompts, responses, strict=True)]
    bodies = [{"items": items[k::6]} for k in range(6)]
    backend = load_backend(cfg)
    with serving(create_app(backend, cfg)) as url:
        replies = asyncio.run(_post_all(url, bodies))
    assert backend.ood is not None
    offline = backend.ood.score(pooled_features(model, prompts, responses)).tolist()
    for k, reply in enumerate(replies):
        assert reply.status_code == 200, reply.text
        assert [s["ood"] for s in reply.json()["scores"]] == pytest.approx(offline[k::6], rel=1e-4)


async def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url + "/score", json=b) for b in bodies))
