"""Inference batches spread over threads, each with a share of torch's CPU threads.

A forward pass is matmuls (parallel across torch's threads) between which Python runs on one core
and small ops leave cores waiting for each other. Two workers with one torch thread each keep
both cores busy: while one runs Python, the other computes (``RewardModel.score`` on hh texts,
MiniLM, bf16: 1.1-1.2x; the server's workers likewise). Each worker enters grad mode and autocast
itself: both are per thread. The cost is memory: each thread allocates from a malloc arena of its
own, which added 550 MiB to MiniLM training's peak RSS when its held-out pass was spread, so
training's pass keeps one worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import torch

T = TypeVar("T")


def cpu_workers(device: torch.device) -> int:
    """Two workers on a CPU with at least two torch threads (a GPU takes one stream of batches)."""
    return 2 if device.type == "cpu" and torch.get_num_threads() >= 2 else 1


def split_threads(threads: int, workers: int) -> tuple[int, int]:
    """(workers, torch threads each): at most one worker per thread, the threads shared evenly."""
    workers = max(1, min(workers, threads))
    return workers, threads // workers


def run_spread(task: Callable[[T], None], items: Iterable[T], workers: int) -> None:
    """``task`` on every item, by up to ``workers`` threads (``split_threads``) taking the next
    item as each finishes; torch's thread count is restored after. The first error cancels the
    items not started and is raised here."""
    threads = torch.get_num_threads()
    workers, each = split_threads(threads, workers)
    if workers == 1:
        for item in items:
            task(item)
        return
    pool = ThreadPoolExecutor(
        workers, "rewardkit-batches", initializer=torch.set_num_threads, initargs=(each,)
    )
    try:
        for future in [pool.submit(task, item) for item in items]:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
