"""The server's model runs on one thread: loaded on a thread that ends, warmed up and run on the
scheduler's (libgomp slows every thread's small ops once two live threads hold worker pools)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import tiny
from live_server import SlowBackend, serving

from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend, Prepared, Reading
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.loading import load_backend
from rewardkit.serving.scheduler import Scheduler


def test_warm_up_and_batches_run_on_the_scheduler_thread_alone() -> None:
    backend = ModelBackend(tiny.reward_model("bert", max_length=32))
    threads: list[str] = []
    run = backend.run

    def recorded(items: list[Prepared]) -> list[Reading]:
        threads.append(threading.current_thread().name)
        return run(items)

    backend.run = recorded  # type: ignore[method-assign,assignment]
    app = create_app(backend, ServeConfig(warmup=True, batch_tokens=256))
    with serving(app) as url:
        warmed = len(threads)
        reply = httpx.post(url + "/score", json={"items": [{"prompt": "p", "response": "r"}]})
    assert reply.status_code == 200
    assert warmed == 1 and len(threads) == 2
    assert set(threads) == {"rewardkit-scheduler"}


def test_a_failing_warm_up_fails_the_start() -> None:
    backend = ModelBackend(tiny.reward_model("bert", max_length=32))
    scheduler = Scheduler(backend, 256, 64)

    def broken() -> None:
        raise RuntimeError("out of memory in warm-up")

    with pytest.raises(RuntimeError, match="out of memory in warm-up"):
        scheduler.start(broken)
    scheduler.stop()


def test_load_backend_loads_off_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny.reward_model("bert", max_length=32).save(tmp_path / "model")
    loaded_on: list[threading.Thread] = []
    load = RewardModel.from_directory

    def recorded(*args: object, **kwargs: object) -> RewardModel:
        loaded_on.append(threading.current_thread())
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(RewardModel, "from_directory", recorded)
    backend = load_backend(ServeConfig(model=str(tmp_path / "model")))
    assert backend.model.info.max_length == 32
    assert loaded_on and loaded_on[0] is not threading.current_thread()
    assert not loaded_on[0].is_alive()  # the loading thread has ended: its worker pool with it


def test_load_backend_raises_the_loading_error_on_the_calling_thread(tmp_path: Path) -> None:
    with pytest.raises((OSError, ValueError)):
        load_backend(ServeConfig(model=str(tmp_path / "missing")))


def test_two_workers_run_batches_at_once_and_every_request_gets_its_own_scores() -> None:
    model = tiny.reward_model("bert", max_length=32)
    backend = SlowBackend(model)
    backend.delay_s = 0.2
    running, most = 0, 0
    lock = threading.Lock()
    run = backend.run

    def counted(items: list[Prepared]) -> list[Reading]:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return run(items)
        finally:
            with lock:
                running -= 1

    backend.run = counted  # type: ignore[method-assign,assignment]
    # a 64-token budget: each batch holds a few items, so the requests need several batches
    app = create_app(backend, ServeConfig(warmup=False, batch_tokens=64, workers=2))
    responses = [f"reply number {i} " + "word " * (i % 5) for i in range(24)]
    bodies = [
        {"items": [{"prompt": "p", "response": r} for r in responses[k::4]]} for k in range(4)
    ]
    with serving(app) as url:
        replies = asyncio.run(_post_all(url, bodies))
    expected = model.score(["p"] * len(responses), responses).raw
    for k, reply in enumerate(replies):
        assert reply.status_code == 200
        served = [item["raw"] for item in reply.json()["scores"]]
        assert served == pytest.approx(expected[k::4], abs=1e-5)
    assert most == 2


async def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=60) as client:
        return await asyncio.gather(*(client.post(url + "/score", json=b) for b in bodies))
