"""The server's model runs on one thread: loaded on a thread that ends, warmed up and run on the
scheduler's (libgomp slows every thread's small ops once two live threads hold worker pools)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
import tiny
from live_server import serving

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
