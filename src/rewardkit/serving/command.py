"""`rewardkit serve`: load a model, build the app, serve it until SIGTERM (drained)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.server import run_server


def load_backend(cfg: ServeConfig) -> ModelBackend:
    model = RewardModel.from_directory(cfg.model, max_length=cfg.max_tokens or 512)
    return ModelBackend(model, cfg.max_tokens, cfg.overflow, cfg.shared_prompt)


def api_key(cfg: ServeConfig) -> str | None:
    if cfg.api_key_env is None:
        return None
    key = os.environ.get(cfg.api_key_env)
    if not key:
        raise ValueError(f"--api_key_env {cfg.api_key_env}: that environment variable is empty")
    return key


def serve(cfg: ServeConfig) -> None:
    if not cfg.model:
        raise ValueError("--model is required")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    app = create_app(load_backend(cfg), cfg, name=Path(cfg.model).name, api_key=api_key(cfg))
    print(
        f"rewardkit serve: {cfg.model} on http://{cfg.host}:{cfg.port} (POST /score, /get_reward)"
    )
    run_server(app, cfg.host, cfg.port, cfg.drain_timeout_s)
