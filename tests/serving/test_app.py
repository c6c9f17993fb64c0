"""The reward server on a real loopback socket: scores, protocols, limits, metrics, errors."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import tiny
from live_server import SlowBackend, serving
from starlette.requests import Request

from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig

PROMPT = "Explain briefly why the sky looks blue during the day."
RESPONSES = [
    "Sunlight scatters off air molecules, and blue light scatters most.",
    "Because of Rayleigh scattering.",
    "It is blue.",
    "Short wavelengths scatter more strongly in the atmosphere, so the sky looks blue to us.",
]
CONFIG = ServeConfig(warmup=False, batch_tokens=256)


@pytest.fixture(scope="module")
def decoder() -> RewardModel:
    return tiny.reward_model("llama", max_length=64)


@pytest.fixture(scope="module")
def encoder() -> RewardModel:
    return tiny.reward_model("bert", max_length=64)


def items(prompts: list[Any], responses: list[Any]) -> dict[str, Any]:
    return {
        "items": [{"prompt": p, "response": r} for p, r in zip(prompts, responses, strict=True)]
    }


async def concurrently(
    url: str, bodies: list[dict[str, Any]], route: str = "/score"
) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url + route, json=b) for b in bodies))


@pytest.mark.parametrize("arch", ["decoder", "encoder"])
@pytest.mark.parametrize("shared_prompt", [True, False])
def test_scores_equal_in_process_whatever_the_batch(
    arch: str, shared_prompt: bool, request: pytest.FixtureRequest
) -> None:
    model: RewardModel = request.getfixturevalue(arch)
    prompts = [PROMPT] * 4 + ["What is 2 plus 2?"] * 2
    responses = [*RESPONSES, "4", "It is four, of course."]
    expected = model.score(prompts, responses).raw
    backend = ModelBackend(model, shared_prompt=shared_prompt)
    with serving(create_app(backend, CONFIG)) as url:
        together = httpx.post(url + "/score", json=items(prompts, responses)).json()["scores"]
        alone = asyncio.run(
            concurrently(url, [items([p], [r]) for p, r in zip(prompts, responses, strict=True)])
        )
    assert [s["raw"] for s in together] == pytest.approx(expected, abs=1e-5)
    assert [a.json()["scores"][0]["raw"] for a in alone] == pytest.approx(expected, abs=1e-5)
    assert backend.shares_prompt == (shared_prompt and arch == "decoder")


def test_normalized_scores_and_chat_messages(decoder: RewardModel) -> None:
    model = RewardModel(
        decoder.network, decoder.tokenizer, replace(decoder.info, mean=1.0, std=2.0)
    )
    chat_prompt = [{"role": "user", "content": PROMPT}]
    chat_response = [{"role": "assistant", "content": RESPONSES[0]}]
    with serving(create_app(ModelBackend(model), CONFIG)) as url:
        body = httpx.post(url + "/score", json=items([chat_prompt], [chat_response])).json()
    (score,) = body["scores"]
    assert score["normalized"] == pytest.approx((score["raw"] - 1.0) / 2.0)
    from rewardkit.records import Message

    expected = model.score(
        [(Message("user", PROMPT),)], [(Message("assistant", RESPONSES[0]),)]
    ).raw[0]
    assert score["raw"] == pytest.approx(expected, abs=1e-5)


def test_openrlhf_get_reward(decoder: RewardModel) -> None:
    eos = decoder.tokenizer.eos_token
    expected = decoder.score([PROMPT] * 2, RESPONSES[:2]).raw
    with serving(create_app(ModelBackend(decoder), CONFIG)) as url:
        body = {
            "query": [PROMPT + r + eos for r in RESPONSES[:2]],
            "prompts": [PROMPT] * 2,
            "labels": ["a", None],
        }
        reply = httpx.post(url + "/get_reward", json=body).json()
        mismatched = httpx.post(url + "/get_reward", json={"query": ["a", "b"], "prompts": ["a"]})
    assert reply["rewards"] == pytest.approx(expected, abs=1e-5)
    assert reply["scores"] == reply["rewards"]
    assert reply["extra_logs"]["truncated_tokens"] == [0.0, 0.0]
    assert mismatched.status_code == 422
    assert "1 prompts for 2 queries" in mismatched.json()["error"]


def test_health_info_metrics_and_openapi(decoder: RewardModel) -> None:
    with serving(create_app(ModelBackend(decoder), CONFIG, name="tiny")) as url:
        httpx.post(url + "/score", json=items([PROMPT], [RESPONSES[0]]))
        health = httpx.get(url + "/health").json()
        info = httpx.get(url + "/info").json()
        metrics = httpx.get(url + "/metrics").text
        schema = httpx.get(url + "/openapi.json").json()
    assert health["status"] == "ok"
    assert (info["model"], info["limits"]["max_tokens"], info["shared_prompt"]) == (
        "tiny",
        64,
        True,
    )
    assert info["limits"]["max_items"] == CONFIG.max_items
    assert 'rewardkit_requests_total{route="/score",status="200"} 1.0' in metrics
    assert "rewardkit_batch_items_bucket" in metrics
    assert "rewardkit_items_total 1.0" in metrics
    assert {"/score", "/get_reward", "/health", "/info", "/metrics"} <= set(schema["paths"])
    request_schema = schema["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]
    assert request_schema["schema"]["$ref"].endswith("/ScoreRequest")


def test_limits_answer_413_and_422(decoder: RewardModel) -> None:
    cfg = replace(CONFIG, max_items=3, max_body_bytes=2000)
    with serving(create_app(ModelBackend(decoder), cfg)) as url:
        too_big = httpx.post(url + "/score", json=items(["p"], ["x" * 3000]))
        too_many = httpx.post(url + "/score", json=items(["p"] * 4, ["r"] * 4))
        too_long = httpx.post(url + "/score", json=items(["p", "p"], ["ok", "word " * 100]))
        wrong = httpx.post(url + "/score", json={"items": [{"prompt": 3, "response": "r"}]})
        empty = httpx.post(url + "/score", json={"items": []})
        ok = httpx.post(url + "/score", json=items(["p"], ["fine"]))
    assert too_big.status_code == 413
    assert too_many.status_code == 422 and "at most 3" in too_many.json()["error"]
    assert too_long.status_code == 422 and too_long.json()["error"].startswith("item 1: ")
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"].startswith(
        "body.items.0.prompt"
    )
    assert empty.status_code == 422
    assert ok.status_code == 200


@pytest.mark.parametrize("arch", ["decoder", "encoder"])
def test_truncation_of_the_prompt_is_flagged(arch: str, request: pytest.FixtureRequest) -> None:
    model: RewardModel = request.getfixturevalue(arch)
    cfg = replace(CONFIG, overflow="truncate_prompt")
    long_prompt = "start " + "filler words here " * 20 + "end of the prompt."
    with serving(create_app(ModelBackend(model, overflow="truncate_prompt"), cfg)) as url:
        (score,) = httpx.post(url + "/score", json=items([long_prompt], ["Yes."])).json()["scores"]
        short = httpx.post(url + "/score", json=items(["p"], ["Yes."])).json()["scores"][0]
        hopeless = httpx.post(url + "/score", json=items(["p"], ["word " * 100]))
    assert score["truncated_tokens"] > 0 and math.isfinite(score["raw"])
    assert short["truncated_tokens"] == 0
    assert (
        hopeless.status_code == 422 and "the response alone is too long" in hopeless.json()["error"]
    )


def test_api_key_on_every_route_but_the_open_ones(decoder: RewardModel) -> None:
    with serving(create_app(ModelBackend(decoder), CONFIG, api_key="s3cret")) as url:
        body = items([PROMPT], [RESPONSES[0]])
        missing = httpx.post(url + "/score", json=body)
        wrong = httpx.post(
            url + "/get_reward", json={"query": ["q"]}, headers={"X-API-Key": "nope"}
        )
        bearer = httpx.post(url + "/score", json=body, headers={"Authorization": "Bearer s3cret"})
        header = httpx.post(url + "/score", json=body, headers={"X-API-Key": "s3cret"})
        open_routes = [httpx.get(url + r) for r in ("/health", "/metrics", "/docs", "/redoc")]
        schema = httpx.get(url + "/openapi.json")
        unknown = httpx.get(url + "/admin")
        info = httpx.get(url + "/info").json()
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert (bearer.status_code, header.status_code) == (200, 200)
    assert [r.status_code for r in open_routes] == [200] * 4 and schema.status_code == 200
    assert unknown.status_code == 401  # an unknown path says nothing about the routes there are
    assert info["auth"] is True


def test_a_route_added_later_is_guarded_by_default(decoder: RewardModel) -> None:
    """Auth, the body cap and the concurrency cap hold for a route nobody listed anywhere."""
    cfg = replace(CONFIG, max_body_bytes=1000, max_concurrency=1)
    app = create_app(ModelBackend(decoder), cfg, api_key="s3cret")
    release = threading.Event()  # set from the test's thread, read in the server's

    @app.post("/toy")
    async def toy(request: Request) -> dict[str, int]:
        while request.query_params.get("hold") and not release.is_set():
            await asyncio.sleep(0.01)
        return {"bytes": len(await request.body())}

    key = {"X-API-Key": "s3cret"}
    with serving(app) as url:
        no_key = httpx.post(url + "/toy", content=b"x")
        too_big = httpx.post(url + "/toy", content=b"x" * 1001, headers=key)
        fits = httpx.post(url + "/toy", content=b"x" * 1000, headers=key)

        async def two_at_once() -> list[int]:
            async with httpx.AsyncClient(timeout=30) as client:
                held = asyncio.create_task(client.post(url + "/toy?hold=1", headers=key))
                while (await client.get(url + "/health")).json()["in_flight"] < 1:
                    await asyncio.sleep(0.01)
                second = await client.post(url + "/toy", headers=key)
                release.set()
                return [(await held).status_code, second.status_code]

        held, second = asyncio.run(two_at_once())
        metrics = httpx.get(url + "/metrics").text
    assert no_key.status_code == 401
    assert too_big.status_code == 413 and "over 1000 bytes" in too_big.json()["error"]
    assert fits.status_code == 200 and fits.json() == {"bytes": 1000}
    assert (held, second) == (200, 429)
    assert 'rewardkit_requests_total{route="/toy",status="401"} 1.0' in metrics


@pytest.fixture
def slow(decoder: RewardModel) -> Iterator[SlowBackend]:
    backend = SlowBackend(decoder)
    backend.delay_s = 0.3
    yield backend


def test_concurrency_cap_answers_429_with_retry_after(slow: SlowBackend) -> None:
    cfg = replace(CONFIG, max_concurrency=2)
    with serving(create_app(slow, cfg)) as url:
        replies = asyncio.run(concurrently(url, [items([PROMPT], [r]) for r in RESPONSES * 2]))
        after = httpx.post(url + "/score", json=items([PROMPT], [RESPONSES[0]]))
    codes = sorted(r.status_code for r in replies)
    assert set(codes) == {200, 429} and codes.count(200) >= 2
    assert all(r.headers["Retry-After"] == "1" for r in replies if r.status_code == 429)
    assert after.status_code == 200


def test_queue_cap_and_timeout(slow: SlowBackend) -> None:
    cfg = replace(CONFIG, max_queue_items=3, timeout_s=0.1)
    with serving(create_app(slow, cfg)) as url:
        over = httpx.post(url + "/score", json=items([PROMPT] * 4, RESPONSES))
        late = httpx.post(url + "/score", json=items([PROMPT], [RESPONSES[0]]))
        health = httpx.get(url + "/health")
    assert over.status_code == 429 and "cap 3" in over.json()["error"]
    assert late.status_code == 504
    assert health.status_code == 200


def test_a_nan_score_fails_its_item_not_the_server(decoder: RewardModel) -> None:
    backend = SlowBackend(decoder)
    backend.poison = decoder.tokenizer("poison", add_special_tokens=False)["input_ids"]
    with serving(create_app(backend, CONFIG)) as url:
        body = httpx.post(url + "/score", json=items([PROMPT] * 2, ["poison pill", "fine"])).json()
        openrlhf = httpx.post(url + "/get_reward", json={"query": ["poison pill"]})
        metrics = httpx.get(url + "/metrics").text
        again = httpx.post(url + "/score", json=items([PROMPT], ["fine"]))
    bad, good = body["scores"]
    assert bad["raw"] is None and bad["error"] == "the model gave a non-finite score"
    assert math.isfinite(good["raw"]) and good["error"] is None
    assert openrlhf.status_code == 500 and "non-finite" in openrlhf.json()["error"]
    assert "rewardkit_failed_items_total 2.0" in metrics
    assert again.status_code == 200
