"""The model behind a server: one rule shared by `rewardkit serve` and the Ray Serve deployment.

The model is loaded on a thread that ends, never on the thread that serves. PyTorch's CPU
kernels run on libgomp, which keeps a pool of OpenMP workers for as long as the thread that first
ran a parallel op lives. With a second live pool (the server's batches run on the scheduler's
thread) libgomp counts more workers than cores and makes them sleep almost at once between ops,
and every small op of a forward pass then waits for a worker to wake: loading on the main thread
made the scheduler's batches 25-30% slower, on 1.45 of 2 cores (bench/serve_load.py).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from rewardkit.models.backbones import resolve_backbone
from rewardkit.models.ood import load_ood
from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig


def load_backend(cfg: ServeConfig) -> ModelBackend:
    """The backend, loaded on a thread of its own that has ended on return (see above)."""
    with ThreadPoolExecutor(1, "rewardkit-load") as loader:
        return loader.submit(_load, cfg).result()


def _load(cfg: ServeConfig) -> ModelBackend:
    directory = resolve_backbone(cfg.model)  # a Hub id: its files in the local cache
    model = RewardModel.from_directory(
        directory, max_length=cfg.max_tokens or 512, precision=cfg.precision
    )
    detector = load_ood(directory)  # None for a model without one
    return ModelBackend(
        model, cfg.max_tokens, cfg.overflow, cfg.shared_prompt, cfg.precision, detector
    )
