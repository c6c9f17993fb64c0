"""The ASGI layer in front of every route: drain, auth, body cap, concurrency cap, metrics.

It answers before the app sees a request, so a refused request costs no parsing: 503 while
draining, 401 without the API key (compared in constant time), 413 over the body cap (read at
most cap + 1 bytes), 429 with Retry-After over the concurrency cap. Every answer is counted in
the Prometheus metrics by route and status.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from rewardkit.serving.metrics import ServerMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCORING_ROUTES = frozenset({"/score", "/get_reward"})
KNOWN_ROUTES = SCORING_ROUTES | {"/health", "/info", "/metrics", "/docs", "/openapi.json"}


@dataclass
class ServerState:
    metrics: ServerMetrics
    max_body_bytes: int
    max_concurrency: int
    api_key: str | None = None
    draining: bool = False
    in_flight: int = 0


async def answer(
    send: Send, status: int, error: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": error}).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope["headers"] if k == name), None)


def authorized(scope: Scope, key: str) -> bool:
    expected = key.encode()
    bearer = _header(scope, b"authorization") or b""
    token = bearer[7:] if bearer[:7].lower() == b"bearer " else _header(scope, b"x-api-key") or b""
    return secrets.compare_digest(token, expected)


class Guard:
    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in KNOWN_ROUTES else "other"
        start = time.perf_counter()
        status = 500

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._guarded(scope, receive, counted, route)
        finally:
            self.state.metrics.requests.labels(route, str(status)).inc()
            self.state.metrics.latency.labels(route).observe(time.perf_counter() - start)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, route: str) -> None:
        state = self.state
        if state.draining:
            await answer(send, 503, "the server is shutting down", {"Retry-After": "5"})
            return
        if route not in SCORING_ROUTES:
            await self.app(scope, receive, send)
            return
        if state.api_key is not None and not authorized(scope, state.api_key):
            await answer(send, 401, "a valid API key is required", {"WWW-Authenticate": "Bearer"})
            return
        if state.in_flight >= state.max_concurrency:
            await answer(send, 429, "too many requests in flight", {"Retry-After": "1"})
            return
        state.in_flight += 1
        state.metrics.in_flight.set(state.in_flight)
        try:
            body = await self._read_body(scope, receive)
            if body is None:
                await answer(send, 413, f"the body is over {state.max_body_bytes} bytes")
                return
            await self.app(scope, _replay(body, receive), send)
        finally:
            state.in_flight -= 1
            state.metrics.in_flight.set(state.in_flight)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is known to exceed the cap."""
        declared = _header(scope, b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.state.max_body_bytes
        ):
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.state.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The body already read, then the connection's own messages (a real disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
