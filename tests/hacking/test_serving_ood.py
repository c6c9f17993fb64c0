"""A real server on loopback returns an ensemble's spread and, with a detector saved beside the
model, each item's OOD score: equal to scoring the model's pooled features offline."""

from __future__ import annotations

from pathlib import Path

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
