"""SIGTERM under load from keep-alive clients that keep sending through the drain: the requests
in flight finish (200), later ones are refused (503, ``Connection: close``), no request sent on
a kept-alive connection is cut, and the process exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from live_server import wait_healthy

TESTS = Path(__file__).resolve().parents[1]
SERVER = """
import sys, tiny
from live_server import SlowBackend
from rewardkit.serving.app import create_app
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.server import run_server

backend = SlowBackend(tiny.reward_model("llama", max_length=64))
backend.delay_s = 0.25
app = create_app(backend, ServeConfig(warmup=False, batch_tokens=48))
run_server(app, "127.0.0.1", int(sys.argv[1]), drain_timeout_s=60)
"""
CLIENTS = 32
BODY = {"items": [{"prompt": "Why is the sky blue?", "response": "Rayleigh scattering."}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Tally:
    """What the clients saw. A request on a connection that an earlier answer left open (no
    ``Connection: close``) was sent to a server that had accepted that connection: it must be
    answered. Only a fresh connection may fail, once the listener is closing."""

    codes: Counter[int] = field(default_factory=Counter)
    after_sigterm: Counter[int] = field(default_factory=Counter)
    """Answers to requests sent after the signal."""
    finished_in_drain: int = 0
    """200s to requests sent before the signal and answered after it."""
    cut_on_reused: list[str] = field(default_factory=list)
    refused_new: Counter[str] = field(default_factory=Counter)
    answered: set[int] = field(default_factory=set)
    sigterm_at: float | None = None


async def client(k: int, url: str, tally: Tally) -> None:
    limits = httpx.Limits(max_connections=1)  # one connection per client: reuse is observable
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        reused = False
        while True:
            sent_at = time.monotonic()
            try:
                reply = await http.post(url + "/score", json=BODY)
            except httpx.TransportError as exc:
                # a connect error is a new connection by definition (httpx opens one when it
                # sees the old one closed); anything else is a new one only if no answer said
                # the last one stays open
                if reused and not isinstance(exc, httpx.ConnectError):
                    tally.cut_on_reused.append(f"client {k}: {exc!r}")
                else:  # the listener closed under a new connection: the client stops
                    tally.refused_new[type(exc).__name__] += 1
                return
            tally.codes[reply.status_code] += 1
            tally.answered.add(k)
            if tally.sigterm_at is not None and sent_at > tally.sigterm_at:
                tally.after_sigterm[reply.status_code] += 1
            elif tally.sigterm_at is not None and reply.status_code == 200:
                tally.finished_in_drain += 1
            reused = reply.headers.get("connection", "").lower() != "close"
            if reply.status_code == 503:
                await asyncio.sleep(0.02)  # a new connection each time: keep 2 cores usable


async def load_then_sigterm(url: str, pid: int) -> Tally:
    tally = Tally()
    clients = [asyncio.create_task(client(k, url, tally)) for k in range(CLIENTS)]
    async with httpx.AsyncClient(timeout=10) as probe:
        while True:  # every client on a kept-alive connection, and requests queued behind
            health = (await probe.get(url + "/health")).json()
            if len(tally.answered) == CLIENTS and health["in_flight"] >= CLIENTS // 2:
                break
            await asyncio.sleep(0.02)
    tally.sigterm_at = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    await asyncio.wait_for(asyncio.gather(*clients), timeout=30)  # each ends refused
    return tally


def test_sigterm_under_keep_alive_load_cuts_no_accepted_request() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        tally = asyncio.run(load_then_sigterm(url, process.pid))
        assert tally.cut_on_reused == []
        assert set(tally.codes) <= {200, 503}, tally.codes
        # the requests in flight at the signal were scored, the later ones refused...
        assert tally.finished_in_drain >= CLIENTS // 4, tally
        assert tally.after_sigterm[503] > 0, tally
        # ...and every client finally met the closed listener on a new connection
        assert sum(tally.refused_new.values()) == CLIENTS, tally.refused_new
        start = time.monotonic()
        assert process.wait(timeout=30) == 0
        assert time.monotonic() - start < 10
    finally:
        process.kill()
        process.wait()
