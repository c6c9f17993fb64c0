"""Real uvicorn servers on loopback for the serving tests (a thread, or a separate process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from rewardkit.serving.backend import FAILED, ModelBackend, Prepared, Reading


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free loopback port; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def wait_healthy(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy")


class SlowBackend(ModelBackend):
    """The real model, made slow (to hold requests in flight) or made to fail on chosen texts."""

    delay_s: float = 0.0
    poison: Sequence[int] = ()
    """Items whose response starts with these token ids get a NaN score."""

    def run(self, items: Sequence[Prepared]) -> list[Reading]:
        time.sleep(self.delay_s)
        scores = super().run(items)
        return [
            FAILED
            if self.poison and list(item.rest[: len(self.poison)]) == list(self.poison)
            else s
            for item, s in zip(items, scores, strict=True)
        ]
