"""The ASGI layer in front of every route: drain, auth, body cap, concurrency cap, metrics.

Guarded by default: every route gets auth, the body cap and the concurrency cap, except the few
in ``OPEN_ROUTES`` (health, info, metrics and the API docs), so a route added later cannot ship
unguarded by omission. The guard answers before the app sees a request, so a refused request
costs no parsing: 503 while draining, 401 without the API key (compared in constant time), 413
over the body cap (read at most cap + 1 bytes), 429 with Retry-After over the concurrency cap.
An exception that escapes a route is answered here as a JSON 500, so the keep-alive connection
survives (uvicorn closes a connection whose app raised). Every answer is counted in the
Prometheus metrics by route and status.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import Match

from rewardkit.serving.metrics import ServerMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_ROUTES = frozenset(
    {"/health", "/info", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
)
"""The only routes without auth and caps: probes and docs, which read no body."""

logger = logging.getLogger(__name__)


def too_large(cap: int) -> str:
    return f"the body is over {cap} bytes"


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
    body = json.dumps({"error": error}).encode()  # ASCII: escapes whatever the error holds
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


def route_label(scope: Scope) -> str:
    """The metrics label: the app's route template that matches (routes added after the app was
    built included), or "other", so stray paths cannot grow the label set without bound."""
    for route in getattr(scope.get("app"), "routes", ()):
        path = getattr(route, "path", None)
        if path is not None and route.matches(scope)[0] is not Match.NONE:
            return str(path)
    return "other"


class Guard:
    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_label(scope)
        start = time.perf_counter()
        status: int | None = None

        async def counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if self.state.draining:  # see _close_when_draining
                    message = _close_when_draining(message)
            await send(message)

        try:
            await self._guarded(scope, receive, counted)
        except Exception:
            if status is not None:  # half an answer is out: only closing the connection is left
                raise
            logger.exception("unhandled error answering %s %s", scope["method"], route)
            await answer(counted, 500, "internal server error")
        finally:
            self.state.metrics.requests.labels(route, str(status or 500)).inc()
            self.state.metrics.latency.labels(route).observe(time.perf_counter() - start)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if state.draining:
            await answer(send, 503, "the server is shutting down", {"Retry-After": "5"})
            return
        if scope["path"] in OPEN_ROUTES:
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
            body = await read_capped(
                body_chunks(receive), _header(scope, b"content-length"), state.max_body_bytes
            )
            if body is None:
                await answer(send, 413, too_large(state.max_body_bytes))
                return
            await self.app(scope, _replay(body, receive), send)
        finally:
            state.in_flight -= 1
            state.metrics.in_flight.set(state.in_flight)


def _close_when_draining(start: Message) -> Message:
    """Every answer given while draining says ``Connection: close``, so a keep-alive client
    opens a new connection for its next request (answered 503 until the listener closes, then
    refused) instead of reusing this one. Without it the next request could be written into a
    connection at the very moment the shutdown closes idle connections: a reset for a request
    the client had every reason to think was sent."""
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"connection"]
    return {**start, "headers": [*headers, (b"connection", b"close")]}


async def body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    """An ASGI request body as chunks (ending early if the client disconnects)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def read_capped(
    chunks: AsyncIterator[bytes], declared: bytes | str | None, cap: int
) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed ``cap`` (from the declared
    Content-Length, or after reading at most cap + 1 bytes). Shared with the Ray deployment."""
    if isinstance(declared, str):
        declared = declared.encode("latin-1")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        return None
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
    return b"".join(parts)


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
