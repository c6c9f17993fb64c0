"""Prometheus metrics of one app (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from rewardkit.serving.scheduler import BatchRecord

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
TOKEN_BUCKETS = (64, 256, 1024, 4096, 16384, 65536)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "rewardkit_requests",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "rewardkit_request_seconds",
            "Request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_items = Histogram(
            "rewardkit_batch_items", "Items per model batch", buckets=SIZE_BUCKETS, registry=r
        )
        self.batch_tokens = Histogram(
            "rewardkit_batch_tokens",
            "Tokens computed per model batch",
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "rewardkit_batch_seconds", "Model time per batch", buckets=LATENCY_BUCKETS, registry=r
        )
        self.items = Counter("rewardkit_items", "Items scored", registry=r)
        self.tokens = Counter("rewardkit_tokens", "Tokens computed by the model", registry=r)
        self.failed_items = Counter(
            "rewardkit_failed_items", "Items with a non-finite score", registry=r
        )
        self.queue = Gauge("rewardkit_queue_items", "Items waiting for the model", registry=r)
        self.in_flight = Gauge("rewardkit_in_flight", "Scoring requests in flight", registry=r)

    def record_batch(self, batch: BatchRecord) -> None:
        self.batch_items.observe(batch.items)
        self.batch_tokens.observe(batch.tokens)
        self.batch_seconds.observe(batch.seconds)
        self.items.inc(batch.items)
        self.tokens.inc(batch.tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
