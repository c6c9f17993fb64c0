"""Per-request combination weights on /score, and gated models, on a real server on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import tiny
import torch
from live_server import serving

from rewardkit.models import RewardModel
from rewardkit.models.gate import Gate
from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig

NAMES = ["helpfulness", "safety", "verbosity"]
PROMPTS = ["What is 2 plus 3?", "How can I steal a car?"]
RESPONSES = ["2 plus 3 is 5.", "I can't help with that, because it could hurt someone."]
ITEMS = [{"prompt": p, "response": r} for p, r in zip(PROMPTS, RESPONSES, strict=True)]


def _model(head: str = "objectives", gate: bool = False) -> RewardModel:
    model = tiny.reward_model("llama", head=head, objectives=NAMES if head != "scalar" else None)
    if gate:
        torch.manual_seed(3)
        model.gate = Gate(tiny.WIDTH, len(NAMES), hidden=4)
    return model.eval()


def _app(model: RewardModel) -> Any:
    return create_app(ModelBackend(model), ServeConfig(warmup=False))


def test_request_weights_mix_the_objectives() -> None:
    with serving(_app(_model())) as url, httpx.Client(timeout=30) as client:
        plain = client.post(f"{url}/score", json={"items": ITEMS}).json()["scores"]
        weights = {"helpfulness": 2.0, "verbosity": -1}  # safety unnamed: it counts 0
        reply = client.post(f"{url}/score", json={"items": ITEMS, "weights": weights})
    assert reply.status_code == 200, reply.text
    for item, before in zip(reply.json()["scores"], plain, strict=True):
        objectives = item["objectives"]
        assert objectives == pytest.approx(before["objectives"], abs=1e-6)
        wanted = 2.0 * objectives["helpfulness"] - objectives["verbosity"]
        assert item["raw"] == pytest.approx(wanted, abs=1e-6)
        assert item["normalized"] is None  # the saved statistics are the model's own mix's
        # without weights: the mean of the three (no weights saved)
        assert before["raw"] == pytest.approx(sum(objectives.values()) / 3, abs=1e-5)


BAD_WEIGHTS = [
    ('{"helpfulness": 1.0, "tone": 2.0}', "unknown objective(s) 'tone'"),
    ("{}", "body.weights"),
    ('{"safety": true}', "body.weights.safety"),
    ('{"safety": "1"}', "body.weights.safety"),
    ('{"safety": null}', "body.weights.safety"),
    ('{"safety": 1e400}', "body.weights.safety"),  # JSON's overflow to infinity
    ("[1.0, 2.0]", "body.weights"),
]


def test_bad_weights_are_422_naming_them_and_the_server_goes_on() -> None:
    with serving(_app(_model())) as url, httpx.Client(timeout=30) as client:
        for weights, where in BAD_WEIGHTS:
            body = '{"items": %s, "weights": %s}' % (json.dumps(ITEMS), weights)  # noqa: UP031
            reply = client.post(
                f"{url}/score", content=body, headers={"content-type": "application/json"}
            )
            assert reply.status_code == 422, (weights, reply.text)
            answer = reply.json()
            text = answer["error"] + " " + " ".join(d["loc"] for d in answer.get("detail") or [])
            assert where in text, (weights, text)
        assert client.post(f"{url}/score", json={"items": ITEMS}).status_code == 200


def test_weights_on_a_model_without_objectives_are_422() -> None:
    with serving(_app(_model(head="scalar"))) as url:
        reply = httpx.post(f"{url}/score", json={"items": ITEMS, "weights": {"reward": 1.0}})
    assert reply.status_code == 422
    assert "not named objectives" in reply.json()["error"]


def test_a_gated_model_serves_what_it_scores_in_process() -> None:
    model = _model(gate=True)
    expected = model.score(PROMPTS, RESPONSES)
    assert expected.objectives is not None
    with serving(_app(model)) as url:
        scores = httpx.post(f"{url}/score", json={"items": ITEMS}, timeout=30).json()["scores"]
        info = httpx.get(f"{url}/info").json()
    assert info["gate"] is True and info["objectives"] == NAMES
    for item, raw, objectives in zip(scores, expected.raw, expected.objectives, strict=True):
        assert item["raw"] == pytest.approx(raw, abs=1e-5)
        assert objectives is not None
        mean = sum(objectives.values()) / len(NAMES)
        assert item["raw"] != pytest.approx(mean, abs=1e-4)  # the gate mixed, not the mean
