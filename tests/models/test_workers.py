"""Inference batches spread over two threads: the same scores, every batch once, torch's thread
count restored, errors raised to the caller."""

from __future__ import annotations

import threading
import time

import pytest
import tiny
import torch

import rewardkit.models.reward_model as reward_model
from rewardkit.models.workers import run_spread

PROMPTS = ["What is the capital of France?", "Name a prime number.", "Say hi."] * 6
RESPONSES = [f"Answer {i}: " + "more words " * (i % 7) for i in range(len(PROMPTS))]


@pytest.fixture
def two_threads() -> object:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_scores_spread_over_two_workers_equal_one_worker(
    arch: str, two_threads: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tiny.reward_model(arch, max_length=64)
    spread = model.score(PROMPTS, RESPONSES, batch_tokens=64).raw
    assert torch.get_num_threads() == 2
    monkeypatch.setattr(reward_model, "cpu_workers", lambda device: 1)
    alone = model.score(PROMPTS, RESPONSES, batch_tokens=64).raw
    assert spread == pytest.approx(alone, abs=1e-6)


def test_every_item_runs_once_on_two_threads_of_one_torch_thread_each(two_threads: object) -> None:
    seen: list[tuple[int, str, int]] = []

    def task(item: int) -> None:
        time.sleep(0.01)  # long enough that both workers take items
        seen.append((item, threading.current_thread().name, torch.get_num_threads()))

    run_spread(task, range(20), workers=2)
    assert sorted(item for item, _, _ in seen) == list(range(20))
    assert len({name for _, name, _ in seen}) == 2
    assert {threads for _, _, threads in seen} == {1}
    assert torch.get_num_threads() == 2


def test_the_first_error_stops_the_workers_and_is_raised(two_threads: object) -> None:
    done: list[int] = []

    def task(item: int) -> None:
        if item == 3:
            raise RuntimeError("batch 3 failed")
        time.sleep(0.01)
        done.append(item)

    with pytest.raises(RuntimeError, match="batch 3 failed"):
        run_spread(task, range(100), workers=2)
    assert len(done) < 20  # the other worker stopped taking items
    assert torch.get_num_threads() == 2
