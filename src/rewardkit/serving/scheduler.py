"""Batches across requests, off the event loop.

Requests put their prepared items on a queue and await a future. One worker thread takes what
is waiting (a window of about four batches, oldest first), orders it by the backend's sort key,
cuts it into batches by the token budget and runs them; each request's future resolves when its
last item is scored. The event loop never runs the model, so health checks, metrics and 429s
stay instant under load.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rewardkit.serving.backend import CostMeter, Prepared


class Runner(Protocol):
    def sort_key(self, item: Prepared) -> tuple[int, tuple[int, ...], int]: ...
    def meter(self) -> CostMeter: ...
    def run(self, items: Sequence[Prepared]) -> list[float]: ...


class QueueFull(RuntimeError):
    pass


@dataclass
class _Request:
    items: list[Prepared]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[float]]
    results: list[float] = field(default_factory=list)
    remaining: int = 0
    cancelled: bool = False

    def __post_init__(self) -> None:
        self.results = [float("nan")] * len(self.items)
        self.remaining = len(self.items)


@dataclass
class BatchRecord:
    items: int
    tokens: int
    seconds: float


class Scheduler:
    def __init__(
        self,
        runner: Runner,
        batch_tokens: int,
        max_queue_items: int,
        on_batch: Callable[[BatchRecord], None] | None = None,
    ) -> None:
        self.runner = runner
        self.batch_tokens = batch_tokens
        self.max_queue_items = max_queue_items
        self.on_batch = on_batch
        self._pending: deque[_Request] = deque()
        self._queued_items = 0
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="rewardkit-scheduler", daemon=True)

    @property
    def queued_items(self) -> int:
        return self._queued_items

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=30)

    def submit(
        self, items: list[Prepared]
    ) -> tuple[asyncio.Future[list[float]], Callable[[], None]]:
        """A future of the items' scores (in order), and a function that drops the request's
        items still queued (for timeouts). Raises ``QueueFull`` when the queue cap is reached."""
        loop = asyncio.get_running_loop()
        request = _Request(items, loop, loop.create_future())
        with self._wake:
            if self._queued_items + len(items) > self.max_queue_items:
                raise QueueFull(f"{self._queued_items} items queued, cap {self.max_queue_items}")
            self._pending.append(request)
            self._queued_items += len(items)
            self._wake.notify()

        def cancel() -> None:
            request.cancelled = True

        return request.future, cancel

    def _take_window(self) -> list[_Request]:
        with self._wake:
            while not self._pending and not self._stopping:
                self._wake.wait()
            window: list[_Request] = []
            tokens = 0
            while self._pending and (not window or tokens < 4 * self.batch_tokens):
                request = self._pending.popleft()
                self._queued_items -= len(request.items)
                window.append(request)
                tokens += sum(item.length for item in request.items)
            return window

    def _work(self) -> None:
        while True:
            window = self._take_window()
            if not window:
                return  # stopping, nothing left
            slots = [(r, i) for r in window if not r.cancelled for i in range(len(r.items))]
            slots.sort(key=lambda s: self.runner.sort_key(s[0].items[s[1]]))
            for batch, tokens in self._batches(slots):
                self._run(batch, tokens)

    def _batches(
        self, slots: list[tuple[_Request, int]]
    ) -> list[tuple[list[tuple[_Request, int]], int]]:
        """Consecutive runs within the token budget, each with its cost; an item larger than the
        budget still gets a batch of its own."""
        batches: list[tuple[list[tuple[_Request, int]], int]] = []
        current: list[tuple[_Request, int]] = []
        meter = self.runner.meter()
        for request, index in slots:
            item = request.items[index]
            if current and meter.with_item(item) > self.batch_tokens:
                batches.append((current, meter.total))
                current, meter = [], self.runner.meter()
            current.append((request, index))
            meter.add(item)
        if current:
            batches.append((current, meter.total))
        return batches

    def _run(self, batch: list[tuple[_Request, int]], tokens: int) -> None:
        items = [r.items[i] for r, i in batch]
        start = time.perf_counter()
        try:
            scores = self.runner.run(items)
        except Exception as exc:  # the model failed: these requests fail, the server goes on
            for request in {id(r): r for r, _ in batch}.values():
                request.loop.call_soon_threadsafe(_fail, request.future, exc)
            return
        if self.on_batch is not None:
            self.on_batch(BatchRecord(len(items), tokens, time.perf_counter() - start))
        for (request, index), score in zip(batch, scores, strict=True):
            request.results[index] = score
            request.remaining -= 1
            if request.remaining == 0:
                request.loop.call_soon_threadsafe(_resolve, request.future, request.results)


def _resolve(future: asyncio.Future[list[float]], results: list[float]) -> None:
    if not future.done():
        future.set_result(results)


def _fail(future: asyncio.Future[list[float]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
