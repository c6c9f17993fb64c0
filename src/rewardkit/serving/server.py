"""Running the app under uvicorn, with a drain on SIGTERM / SIGINT.

uvicorn alone stops accepting connections at once; a load balancer or an RL loop then sees
connection errors. Here the first signal starts a drain: new requests get 503 (with Retry-After)
while the requests in flight finish, for at most ``drain_timeout_s``; then uvicorn shuts down.
A second signal stops at once. After a completed drain the process exits 0.

Every answer given during the drain (the 200s of the requests in flight and the 503s) says
``Connection: close`` (the guard adds it). That is what keeps the shutdown from cutting a request:
uvicorn's shutdown closes every idle keep-alive connection, and a client that had just been
answered on one may already be writing its next request into it; that request was reset. Told
to close, the client opens a new connection instead, which is answered 503 until the listener
closes and refused after (a connect error: nothing was sent, a retry elsewhere is safe).
"""

from __future__ import annotations

import threading
import time
from types import FrameType
from typing import Any

import uvicorn

from rewardkit.serving.guard import ServerState


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, state: ServerState, drain_timeout_s: float) -> None:
        super().__init__(config)
        self.state = state
        self.drain_timeout_s = drain_timeout_s

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.state.draining:  # a second signal: stop now
            self.force_exit = self.should_exit = True
            return
        self.state.draining = True
        threading.Thread(target=self._finish_drain, daemon=True).start()

    def _finish_drain(self) -> None:
        deadline = time.monotonic() + self.drain_timeout_s
        while self.state.in_flight > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        # a plain exit, not uvicorn's handle_exit: that re-raises the signal at the end, and a
        # drained server should exit 0
        self.should_exit = True


def run_server(app: Any, host: str, port: int, drain_timeout_s: float) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=int(drain_timeout_s) + 1,
        limit_concurrency=None,  # the guard answers 429 itself, with Retry-After
    )
    DrainingServer(config, app.state.served.state, drain_timeout_s).run()
