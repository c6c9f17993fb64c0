"""The reward server under load, on loopback, against the in-process scorer on the same inputs.

    python bench/serve_load.py --model runs/demo/model --seconds 60

1. in-process: `RewardModel.score` on the items the clients send (items/s, same batch budget;
   the median of --runs passes);
2. load: 64 concurrent clients for --seconds, 8 items per request: p50/p99 latency, items/s,
   ratio to in-process, status codes (goal: >= 0.85, zero 5xx), and the CPU the server and
   the clients used (both on this machine's cores);
3. overload: concurrency cap 16 and 64 clients: only 200 and 429, /health fine;
4. exactness: scores over HTTP against in-process scores (max difference);
5. fuzz: 10,000 malformed or hostile bodies: every answer 4xx and under 64 KB, /health fine;
6. GRPO groups: 8 responses to one ~300-token prompt on a random 13M Llama reward model,
   with the prompt shared versus encoded per response (items/s each, ratio).
Each server is `rewardkit serve` in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from rewardkit.models.reward_model import RewardModel
from rewardkit.synthetic import generate_pairs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, model: str, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--model", model, "--port", str(self.port), *flags]
        code = f"import sys; from rewardkit.cli import main; sys.exit(main({args!r}))"
        self.process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError("server did not start")

    def close(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


async def load(
    url: str, bodies: list[dict[str, Any]], clients: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    codes: Counter[int] = Counter()
    items = 0
    stop = time.monotonic() + seconds

    async def client(k: int) -> None:
        nonlocal items
        async with httpx.AsyncClient(timeout=120) as http:
            i = k
            while time.monotonic() < stop:
                start = time.perf_counter()
                reply = await http.post(url + "/score", json=bodies[i % len(bodies)])
                latencies.append(time.perf_counter() - start)
                codes[reply.status_code] += 1
                if reply.status_code == 200:
                    items += len(bodies[i % len(bodies)]["items"])
                i += clients

    start = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "items/s": items / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "codes": dict(codes),
    }


def hostile_bodies(n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    makers = [
        lambda: b"{" * rng.randint(1, 100_000),
        lambda: b"[" * 20_000 + b"]" * 20_000,
        lambda: json.dumps({"items": [{"prompt": rng.random(), "response": "r"}]}).encode(),
        lambda: json.dumps(
            {"items": [{"prompt": "p" * rng.randint(1, 300_000), "response": [1]}]}
        ).encode(),
        lambda: json.dumps({"items": "x" * rng.randint(0, 1000)}).encode(),
        lambda: json.dumps({"items": [{"prompt": "p"}] * rng.randint(1, 50)}).encode(),
        lambda: json.dumps(
            {"items": [{"prompt": [{"role": "x", "content": 1}], "response": "r"}]}
        ).encode(),
        lambda: json.dumps({"items": [{"prompt": "p", "response": "r", "z": None}]}).encode(),
        lambda: json.dumps({"query": [None] * rng.randint(1, 100)}).encode(),
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000))),
        lambda: json.dumps({"items": [{"prompt": "p", "response": "w " * 5000}]}).encode(),
        lambda: json.dumps({"items": [{"prompt": "p", "response": "r"}] * 10_000}).encode(),
        # valid JSON, not text: a lone surrogate (a high or a low half) in a prompt or a query
        lambda: json.dumps(
            {"items": [{"prompt": chr(rng.randint(0xD800, 0xDFFF)), "response": "r"}]}
        ).encode(),
        lambda: json.dumps({"query": ["q" + chr(rng.randint(0xD800, 0xDFFF))]}).encode(),
    ]
    return [rng.choice(makers)() for _ in range(n)]


async def fuzz(url: str, bodies: list[bytes]) -> dict[str, Any]:
    codes: Counter[int] = Counter()
    largest = 0
    async with httpx.AsyncClient(timeout=120) as http:
        for start in range(0, len(bodies), 32):
            batch = bodies[start : start + 32]
            routes = ["/score" if i % 3 else "/get_reward" for i in range(len(batch))]
            replies = await asyncio.gather(
                *(http.post(url + r, content=b, headers={"Content-Type": "application/json"})
                  for r, b in zip(routes, batch, strict=True))
            )  # fmt: skip
            for reply in replies:
                codes[reply.status_code] += 1
                largest = max(largest, len(reply.content))
        health = (await http.get(url + "/health")).status_code
    return {"codes": dict(codes), "largest_reply_bytes": largest, "health": health}


def in_process_rates(
    model: RewardModel, prompts: list[str], responses: list[str], batch_tokens: int, runs: int
) -> list[float]:
    """Items/s of ``runs`` whole passes: one pass swings by up to 25% on a shared 2-core VM."""
    model.score(prompts[:64], responses[:64], batch_tokens)  # warm-up
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        model.score(prompts, responses, batch_tokens)
        rates.append(len(prompts) / (time.perf_counter() - start))
    return rates


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def grpo(work: Path, seconds: float) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from train_vs_trl import random_llama

    network_dir = random_llama(work / "llama")
    model = RewardModel.from_backbone(network_dir, max_length=1024)
    model.save(work / "llama-rm")
    rng = random.Random(0)
    words = [
        "the",
        "a",
        "reward",
        "model",
        "scores",
        "each",
        "response",
        "to",
        "the",
        "prompt",
        "with",
        "care",
        "and",
        "some",
        "detail",
    ]
    bodies = []
    for g in range(32):
        prompt = f"Question {g}: " + " ".join(rng.choice(words) for _ in range(290))
        responses = [
            " ".join(rng.choice(words) for _ in range(rng.randint(20, 60))) for _ in range(8)
        ]
        bodies.append({"items": [{"prompt": prompt, "response": r} for r in responses]})
    for shared in ("true", "false"):
        server = Server(str(work / "llama-rm"), "--shared_prompt", shared, "--batch_tokens", "8192")
        try:
            result = asyncio.run(load(server.url, bodies, 8, seconds))
        finally:
            server.close()
        print(f"GRPO groups, shared_prompt={shared}: {result['items/s']:.1f} items/s, "
              f"p50 {result['p50_ms']:.0f} ms, codes {result['codes']}", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="runs/demo/model")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--parts", default="load,overload,exact,fuzz,grpo")
    parser.add_argument("--items_per_request", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="in-process passes (median)")
    parser.add_argument(
        "--batch_tokens", type=int, default=4096, help="server and in-process alike"
    )
    args = parser.parse_args()
    parts = args.parts.split(",")
    pairs = list(generate_pairs(2000, seed=3))
    prompts = [str(p.prompt) for p in pairs for _ in range(2)]
    responses = [str(r) for p in pairs for r in (p.chosen, p.rejected)]
    bodies = [
        {"items": [{"prompt": p, "response": r} for p, r in
                   zip(prompts[i : i + args.items_per_request], responses[i : i + args.items_per_request], strict=True)]}
        for i in range(0, len(prompts), args.items_per_request)
    ]  # fmt: skip
    model = RewardModel.load(args.model)
    if "load" in parts:
        rates = in_process_rates(model, prompts, responses, args.batch_tokens, args.runs)
        rate = statistics.median(rates)
        print(f"in-process scorer: {rate:.1f} items/s ({len(prompts)} items, median of "
              f"{', '.join(f'{r:.1f}' for r in rates)})", flush=True)  # fmt: skip
        server = Server(
            args.model, "--max_concurrency", "128", "--batch_tokens", str(args.batch_tokens)
        )
        try:
            cpu = cpu_seconds(server.process.pid), time.process_time(), time.monotonic()
            result = asyncio.run(load(server.url, bodies, 64, args.seconds))
            wall = time.monotonic() - cpu[2]
            server_cores = (cpu_seconds(server.process.pid) - cpu[0]) / wall
            client_cores = (time.process_time() - cpu[1]) / wall
        finally:
            server.close()
        print(f"64 clients x {args.seconds:.0f} s: {result['items/s']:.1f} items/s "
              f"({result['items/s'] / rate:.2f} of in-process), p50 {result['p50_ms']:.0f} ms, "
              f"p99 {result['p99_ms']:.0f} ms, codes {result['codes']}; CPU: server "
              f"{server_cores:.2f} cores, clients {client_cores:.2f}", flush=True)  # fmt: skip
    if "overload" in parts:
        server = Server(args.model, "--max_concurrency", "16")
        try:
            result = asyncio.run(load(server.url, bodies, 64, min(args.seconds, 20)))
            health = httpx.get(server.url + "/health").status_code
        finally:
            server.close()
        print(
            f"overload (cap 16, 64 clients): codes {result['codes']}, /health {health}", flush=True
        )
    if "exact" in parts:
        server = Server(args.model, "--max_concurrency", "128")
        try:
            sample = bodies[:100]
            replies = asyncio.run(_post_all(server.url, sample))
        finally:
            server.close()
        served = [s["raw"] for r in replies for s in r["scores"]]
        expected = model.score(prompts[: len(served)], responses[: len(served)]).raw
        worst = max(abs(a - b) for a, b in zip(served, expected, strict=True))
        print(f"exactness: {len(served)} items, max |http - in-process| = {worst:.2e}", flush=True)
    if "fuzz" in parts:
        server = Server(args.model, "--max_body_bytes", str(4 * 2**20))
        try:
            result = asyncio.run(fuzz(server.url, hostile_bodies(args.fuzz)))
        finally:
            server.close()
        print(f"fuzz: {args.fuzz} bodies -> {result}", flush=True)
    if "grpo" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            grpo(Path(tmp), min(args.seconds, 30))


async def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=120) as http:
        replies = await asyncio.gather(*(http.post(url + "/score", json=b) for b in bodies))
    return [r.json() for r in replies]


if __name__ == "__main__":
    main()
