"""`rewardkit serve`: load a model, build the app, serve it until SIGTERM (drained).

The config is ``rewardkit.serving.config.ServeConfig``; the server's libraries (an optional
extra) and torch are imported only when the command runs.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from rewardkit.serving.config import ServeConfig


def run(cfg: ServeConfig) -> int:
    try:
        from rewardkit.serving.app import create_app
        from rewardkit.serving.loading import load_backend
        from rewardkit.serving.server import run_server
    except ModuleNotFoundError as exc:
        # fastapi and uvicorn come with the `serve` extra, not the core install.
        raise ValueError(f"the server needs {exc.name}: pip install 'rewardkit[serve]'") from None
    if not cfg.model:
        raise ValueError("--model is required")
    if cfg.workers < 1:
        raise ValueError(f"--workers {cfg.workers}: at least 1")
    import torch

    from rewardkit.models.workers import split_threads

    workers, each = split_threads(cfg.threads or torch.get_num_threads(), cfg.workers)
    cfg = replace(cfg, workers=workers)
    torch.set_num_threads(each)  # each worker's: new threads start with it
    app = create_app(load_backend(cfg), cfg, name=Path(cfg.model).name, api_key=api_key(cfg))
    print(
        f"rewardkit serve: {cfg.model} on http://{cfg.host}:{cfg.port} (POST /score, /get_reward)"
    )
    run_server(app, cfg.host, cfg.port, cfg.drain_timeout_s)
    return 0


def api_key(cfg: ServeConfig) -> str | None:
    """The key clients must send, read from the environment so it never sits in a config file."""
    if cfg.api_key_env is None:
        return None
    key = os.environ.get(cfg.api_key_env)
    if not key:
        raise ValueError(f"--api_key_env {cfg.api_key_env}: that environment variable is empty")
    return key
