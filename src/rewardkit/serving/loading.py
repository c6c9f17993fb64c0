"""The model behind a server: one rule shared by `rewardkit serve` and the Ray Serve deployment."""

from __future__ import annotations

from rewardkit.models.ood import load_ood
from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig


def load_backend(cfg: ServeConfig) -> ModelBackend:
    model = RewardModel.from_directory(
        cfg.model, max_length=cfg.max_tokens or 512, precision=cfg.precision
    )
    detector = load_ood(cfg.model)  # None for a model without one
    return ModelBackend(
        model, cfg.max_tokens, cfg.overflow, cfg.shared_prompt, cfg.precision, detector
    )
