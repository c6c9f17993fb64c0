"""SIGTERM with requests in flight: all of them finish, new ones get 503, the process exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def in_flight_then_sigterm(url: str, pid: int) -> tuple[list[int], int]:
    async with httpx.AsyncClient(timeout=120) as client:
        body = {"items": [{"prompt": "Why is the sky blue?", "response": "Rayleigh scattering."}]}
        tasks = [asyncio.create_task(client.post(url + "/score", json=body)) for _ in range(32)]
        while True:  # until all 32 are inside the server
            health = (await client.get(url + "/health")).json()
            if health["in_flight"] == 32:
                break
            await asyncio.sleep(0.02)
        os.kill(pid, signal.SIGTERM)
        await asyncio.sleep(0.2)
        late = await client.post(url + "/score", json=body)
        replies = await asyncio.gather(*tasks)
    return [r.status_code for r in replies], late.status_code


def test_sigterm_drains_requests_in_flight() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        codes, late = asyncio.run(in_flight_then_sigterm(url, process.pid))
        assert codes == [200] * 32
        assert late == 503
        start = time.monotonic()
        assert process.wait(timeout=60) == 0
        assert time.monotonic() - start < 30
    finally:
        process.kill()
