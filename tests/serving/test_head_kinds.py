"""Every head kind answers through the same routes: per-objective scores, per-step scores and an
ensemble's spread come back from /score on a real server, equal to in-process scoring."""

from __future__ import annotations

import httpx
import pytest
import tiny
from live_server import serving

from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig

PROMPTS = ["Compute (2 + 3) * 4 - 1.", "Compute (5 + 1) * 2 - 3."]
RESPONSES = ["2 + 3 = 5\n5 * 4 = 20\n20 - 1 = 19", "5 + 1 = 6\n6 * 2 = 13\nThe answer is 10."]


@pytest.mark.parametrize(
    ("arch", "head", "names", "field"),
    [
        ("llama", "objectives", ["helpfulness", "safety"], "objectives"),
        ("bert", "ensemble", ["m0", "m1", "m2"], "spread"),
        ("llama", "steps", None, "steps"),
        ("bert", "steps", None, "steps"),
    ],
)
def test_head_fields_come_back_from_score(
    arch: str, head: str, names: list[str] | None, field: str
) -> None:
    model = tiny.reward_model(arch, head=head, objectives=names).eval()
    expected = model.score(PROMPTS, RESPONSES)
    items = [{"prompt": p, "response": r} for p, r in zip(PROMPTS, RESPONSES, strict=True)]
    with serving(create_app(ModelBackend(model), ServeConfig(warmup=False))) as url:
        reply = httpx.post(f"{url}/score", json={"items": items}, timeout=30)
    assert reply.status_code == 200, reply.text
    scores = reply.json()["scores"]
    for k, item in enumerate(scores):
        assert item["raw"] == pytest.approx(expected.raw[k], abs=1e-4)
        assert item[field] is not None
        wanted = expected.head_fields(k)
        if field == "objectives":
            assert list(item["objectives"]) == names
            assert item["objectives"] == pytest.approx(wanted["objectives"], abs=1e-4)
        elif field == "steps":
            assert len(item["steps"]) == 3
            assert item["steps"] == pytest.approx(wanted["steps"], abs=1e-4)
        else:
            assert item["spread"] == pytest.approx(wanted["spread"], abs=1e-4)
            assert item["objectives"] == pytest.approx(wanted["objectives"], abs=1e-4)


@pytest.mark.parametrize("arch", ["llama", "bert"])
def test_a_response_a_steps_head_cannot_read_is_422_and_the_connection_lives(arch: str) -> None:
    model = tiny.reward_model(arch, head="steps").eval()
    unreadable = ["", "   ", "\n\n\n", "\x00", "\x00\n\x00"]  # no step, or a step of no tokens
    app = create_app(ModelBackend(model), ServeConfig(warmup=False))
    with serving(app) as url, httpx.Client(timeout=30) as client:
        for response in unreadable:
            items = [{"prompt": PROMPTS[0], "response": RESPONSES[0]}]
            items.append({"prompt": PROMPTS[0], "response": response})
            reply = client.post(f"{url}/score", json={"items": items})
            assert reply.status_code == 422, (response, reply.text)
            assert reply.json()["error"].startswith("item 1: ")
            ok = client.post(f"{url}/score", json={"items": items[:1]})
            assert ok.status_code == 200
