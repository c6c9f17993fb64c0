"""Hostile bodies against a real server on loopback, through one keep-alive connection: no body
gets a 5xx, each gets a short JSON answer, and the same connection then scores a valid request."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest
import tiny
from hostile import KNOWN, SLOW_OK, Hostile, dumps, hostile
from hypothesis import given, settings
from live_server import serving

from rewardkit.records import Text
from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend, Prepared
from rewardkit.serving.config import ServeConfig

CONFIG = ServeConfig(warmup=False, batch_tokens=256)
JSON = {"Content-Type": "application/json"}
VALID = {"items": [{"prompt": "Why is the sky blue?", "response": "Rayleigh scattering."}]}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    backend = ModelBackend(tiny.reward_model("llama", max_length=64))
    with serving(create_app(backend, CONFIG)) as url, httpx.Client(base_url=url) as client:
        yield client


def answer_then_reuse(http: httpx.Client, case: Hostile) -> httpx.Response:
    """The hostile body's answer, checked; then a valid request on the same connection."""
    reply = http.post(case.route, content=case.body, headers=JSON, timeout=60)
    assert reply.status_code < 500, (case, reply.text[:300])
    if case.expect is not None:
        assert reply.status_code == case.expect, (case, reply.text[:300])
    assert reply.headers["content-type"] == "application/json"
    assert len(reply.content) < 64 * 1024
    if reply.status_code != 200:
        assert reply.json()["error"]
    assert reply.headers.get("connection") != "close"
    after = http.post("/score", json=VALID, timeout=60)
    assert after.status_code == 200
    # the same connection: httpx hands out the connection's stream object with each answer
    assert after.extensions["network_stream"] is reply.extensions["network_stream"], case
    return reply


@settings(max_examples=150, deadline=None, suppress_health_check=SLOW_OK)
@given(case=hostile)
def test_no_body_gets_a_5xx_or_loses_the_connection(http: httpx.Client, case: Hostile) -> None:
    reply = answer_then_reuse(http, case)
    if case.kind.startswith("lone surrogate"):
        assert "lone surrogate" in str(reply.json()["detail"])


@pytest.mark.parametrize("case", KNOWN, ids=lambda c: c.kind)
def test_known_hostile_bodies(http: httpx.Client, case: Hostile) -> None:
    answer_then_reuse(http, case)


@pytest.mark.parametrize(
    ("route", "body", "loc"),
    [
        ("/score", {"items": [{"prompt": "a\ud800", "response": "r"}]}, "body.items.0.prompt.text"),
        (
            "/score",
            {"items": [{"prompt": "p", "response": "\udfff"}]},
            "body.items.0.response.text",
        ),
        (
            "/score",
            {"items": [{"prompt": [{"role": "user", "content": "\udc00"}], "response": "r"}]},
            "body.items.0.prompt.messages.0.content",
        ),
        ("/get_reward", {"query": ["ok", "x\udbff"]}, "body.query.1"),
        ("/get_reward", {"query": ["q"], "prompts": ["\ud800"]}, "body.prompts.0"),
    ],
)
def test_a_lone_surrogate_is_422_naming_the_field(
    http: httpx.Client, route: str, body: dict[str, object], loc: str
) -> None:
    reply = http.post(route, content=dumps(body), headers=JSON)
    assert reply.status_code == 422
    (detail,) = reply.json()["detail"]
    assert detail["loc"] == loc
    assert "lone surrogate" in detail["msg"]


def test_non_bmp_text_scores_like_in_process(http: httpx.Client) -> None:
    """Emoji sent as escaped surrogate pairs score exactly as the same text does in process."""
    model = tiny.reward_model("llama", max_length=64)
    prompts, responses = ["Rate this \U0001f680", "\U00010348 and NUL \x00"], ["ok \U0001f600", "x"]
    body = {
        "items": [{"prompt": p, "response": r} for p, r in zip(prompts, responses, strict=True)]
    }
    reply = http.post("/score", content=dumps(body), headers=JSON)
    assert b"\\ud83d\\ude00" in dumps(body)  # really sent as a surrogate pair
    assert reply.status_code == 200
    served = [s["raw"] for s in reply.json()["scores"]]
    assert served == pytest.approx(model.score(prompts, responses).raw, abs=1e-5)


class Exploding(ModelBackend):
    """The real backend, but preparing "explode" raises what no route expects (as the tokenizer
    did on a lone surrogate before the schema refused them)."""

    def prepare_many(self, pairs: Sequence[tuple[Text, Text]]) -> list[Prepared | ValueError]:
        if any(response == "explode" for _, response in pairs):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return super().prepare_many(pairs)


def test_an_unexpected_error_is_a_json_500_and_the_connection_lives() -> None:
    backend = Exploding(tiny.reward_model("llama", max_length=64))
    with serving(create_app(backend, CONFIG)) as url, httpx.Client(base_url=url) as http:
        boom = http.post("/score", json={"items": [{"prompt": "p", "response": "explode"}]})
        after = http.post("/score", json=VALID)
        metrics = http.get("/metrics").text
    assert boom.status_code == 500
    assert boom.json() == {"error": "internal server error"}  # no traceback, no input echoed
    assert after.status_code == 200
    assert after.extensions["network_stream"] is boom.extensions["network_stream"]
    assert 'rewardkit_requests_total{route="/score",status="500"} 1.0' in metrics
