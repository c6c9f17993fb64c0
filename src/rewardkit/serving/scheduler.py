"""Batches across requests, off the event loop.

Requests put their prepared items on a queue and await a future. Every waiting item sits in one
pool ordered by the backend's sort key (length; with shared prompts, prompt first); each worker
thread (one or more: while one runs Python between ops, another computes) forms its next batch
around the oldest waiting item: its neighbours in that order, nearest in length first, up to the
token budget. Batches are thus tight in length (little padding) while no item waits behind an
endless stream of better-fitting ones. Each request's future resolves when its last item is
scored, whichever worker scored it. The event loop never runs the model, so health checks,
metrics and 429s stay instant under load.
"""

from __future__ import annotations

import asyncio
import bisect
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

from rewardkit.serving.backend import FAILED, CostMeter, Prepared, Reading


class Runner(Protocol):
    def sort_key(self, item: Prepared) -> tuple[int, tuple[int, ...], int]: ...
    def meter(self) -> CostMeter: ...
    def run(self, items: Sequence[Prepared]) -> list[Reading]: ...


class QueueFull(RuntimeError):
    pass


@dataclass
class _Request:
    seq: int
    items: list[Prepared]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[Reading]]
    results: list[Reading] = field(default_factory=list)
    remaining: int = 0
    cancelled: bool = False

    def __post_init__(self) -> None:
        self.results = [FAILED] * len(self.items)
        self.remaining = len(self.items)


@dataclass(frozen=True)
class _Slot:
    """One waiting item: its request, its place there, and its sort key."""

    key: tuple[int, tuple[int, ...], int]
    request: _Request
    index: int

    @property
    def item(self) -> Prepared:
        return self.request.items[self.index]


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
        workers: int = 1,
    ) -> None:
        self.runner = runner
        self.workers = workers
        self.batch_tokens = batch_tokens
        self.max_queue_items = max_queue_items
        self.on_batch = on_batch
        self._pending: deque[_Request] = deque()
        self._queued_items = 0
        self._submitted = 0
        self._wake = threading.Condition()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._pool: list[_Slot] = []  # kept in sort-key order: each key computed once, on arrival

    @property
    def queued_items(self) -> int:
        return self._queued_items

    def start(self, first: Callable[[], None] | None = None) -> None:
        """Starts the worker threads and returns once the first has run ``first`` (the
        backend's warm-up): the model runs on these threads only (see ``serving.loading``)."""
        failed: list[BaseException] = []
        started = threading.Event()

        def work(warm_up: Callable[[], None] | None) -> None:
            try:
                if warm_up is not None:
                    warm_up()
            except BaseException as exc:  # handed to start's caller: the server does not start
                failed.append(exc)
                return
            finally:
                started.set()
            self._work()

        self._spawn(work, first)
        started.wait()
        if failed:
            raise failed[0]
        for _ in range(1, self.workers):
            self._spawn(work, None)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="rewardkit-scheduler", daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)

    def submit(
        self, items: list[Prepared]
    ) -> tuple[asyncio.Future[list[Reading]], Callable[[], None]]:
        """A future of the items' scores (in order), and a function that drops the request's
        items still queued (for timeouts). Raises ``QueueFull`` when the queue cap is reached."""
        loop = asyncio.get_running_loop()
        with self._wake:
            request = _Request(self._submitted, items, loop, loop.create_future())
            self._submitted += 1
            if self._queued_items + len(items) > self.max_queue_items:
                raise QueueFull(f"{self._queued_items} items queued, cap {self.max_queue_items}")
            self._pending.append(request)
            self._queued_items += len(items)
            self._wake.notify()

        def cancel() -> None:
            request.cancelled = True

        return request.future, cancel

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._pool and not self._stopping:
                    self._wake.wait()
                if self._stopping and not self._pending and not self._pool:
                    return
                while self._pending:
                    request = self._pending.popleft()
                    for index, item in enumerate(request.items):
                        slot = _Slot(self.runner.sort_key(item), request, index)
                        bisect.insort(self._pool, slot, key=attrgetter("key"))
                self._pool = [slot for slot in self._pool if not slot.request.cancelled]
                if not self._pool:
                    continue
                batch, tokens, self._pool = self._next_batch(self._pool)
                # what waits: the pool (cancelled items gone) and new requests
                self._queued_items = len(self._pool) + sum(len(r.items) for r in self._pending)
            self._run(batch, tokens)

    def _next_batch(self, pool: list[_Slot]) -> tuple[list[_Slot], int, list[_Slot]]:
        """The batch around the oldest item (its neighbours in sort order, nearest in length
        first, within the budget), its cost, and what stays in the pool."""
        anchor = min(range(len(pool)), key=lambda k: (pool[k].request.seq, pool[k].index))
        meter = self.runner.meter()
        meter.add(pool[anchor].item)
        target = pool[anchor].item.length
        low = high = anchor
        while True:
            sides = [k for k in (low - 1, high + 1) if 0 <= k < len(pool)]
            sides.sort(key=lambda k: abs(pool[k].item.length - target))
            fitting = [k for k in sides if meter.with_item(pool[k].item) <= self.batch_tokens]
            if not fitting:
                break
            meter.add(pool[fitting[0]].item)
            low, high = min(low, fitting[0]), max(high, fitting[0])
        return pool[low : high + 1], meter.total, pool[:low] + pool[high + 1 :]

    def _run(self, batch: list[_Slot], tokens: int) -> None:
        items = [slot.item for slot in batch]
        start = time.perf_counter()
        try:
            scores = self.runner.run(items)
        except Exception as exc:  # the model failed: these requests fail, the server goes on
            for request in {id(s.request): s.request for s in batch}.values():
                request.loop.call_soon_threadsafe(_fail, request.future, exc)
            return
        if self.on_batch is not None:
            self.on_batch(BatchRecord(len(items), tokens, time.perf_counter() - start))
        with self._wake:  # another worker may be finishing items of the same requests
            for slot, score in zip(batch, scores, strict=True):
                request = slot.request
                request.results[slot.index] = score
                request.remaining -= 1
                if request.remaining == 0:
                    request.loop.call_soon_threadsafe(_resolve, request.future, request.results)


def _resolve(future: asyncio.Future[list[Reading]], results: list[Reading]) -> None:
    if not future.done():
        future.set_result(results)


def _fail(future: asyncio.Future[list[Reading]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
