"""`rewardkit serve`'s one config dataclass: what to serve, where, and every limit."""

from __future__ import annotations

from dataclasses import dataclass

from rewardkit.scoring import Overflow, Precision


@dataclass
class ServeConfig:
    model: str = ""
    """A model directory written by `rewardkit train` (or a plain transformers one), or its Hub
    id OWNER/NAME[@REVISION]."""
    host: str = "127.0.0.1"
    """Interface to bind; loopback by default, so nothing is exposed by accident."""
    port: int = 5000
    batch_tokens: int = 4096
    """Tokens per forward pass (padded): batches are formed across requests by this budget.
    Small batches in length order are fastest on CPU; raise it on a GPU."""
    shared_prompt: bool = True
    """Decoder models: responses that share a prompt (a GRPO group) run with it encoded once."""
    precision: Precision = "auto"
    """auto: bf16 where the CPU or GPU runs it fast (scores within 1e-2 of fp32), else fp32."""
    max_tokens: int | None = None
    """Token limit per item; the model's own max_length when absent."""
    overflow: Overflow = "flag"
    """An item over the limit: flag: answer the request 422, naming the item; truncate_prompt:
    leave out the prompt's oldest turns (chat) or tokens and report how many in
    ``truncated_tokens`` (the same policy as `rewardkit score` and `eval`)."""
    max_items: int = 512
    """Items per request; more is answered 422."""
    max_body_bytes: int = 8 * 2**20
    """Request body cap; more is answered 413."""
    max_concurrency: int = 64
    """Scoring requests in flight at once; more is answered 429 with Retry-After."""
    max_queue_items: int = 16384
    """Items waiting for the model; a request that would exceed it is answered 429."""
    timeout_s: float = 60.0
    """Per-request limit, answered 504; its items still queued are dropped."""
    drain_timeout_s: float = 30.0
    """On SIGTERM: new requests get 503 while those in flight finish, for at most this long."""
    api_key_env: str | None = None
    """Name of an environment variable holding an API key; when set, every scoring route needs
    ``Authorization: Bearer KEY`` (or ``X-API-Key``). The key never appears on a command line."""
    normalize: bool = False
    """The OpenRLHF route sends normalised rewards ((raw - mean) / std from training) instead of raw."""
    warmup: bool = True
    """Run the largest batch shapes once before accepting requests."""
    threads: int | None = None
    """torch CPU threads (default: torch's choice), shared among the workers."""
    workers: int = 2
    """Batches run at once, each on a thread of its own with threads / workers torch threads
    (at most one worker per thread): while one worker runs the Python between ops, another
    computes. Two workers with one thread each served 1.13x and 1.19x the items/s of one with
    two threads (bench/serve_load.py, 64 clients, 2 CPU cores)."""
