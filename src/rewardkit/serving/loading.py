"""The model behind a server: one rule shared by `rewardkit serve` and the Ray Serve deployment."""

from __future__ import annotations

from rewardkit.models.backbones import resolve_backbone
from rewardkit.models.ood import load_ood
from rewardkit.models.reward_model import RewardModel
from rewardkit.serving.backend import ModelBackend
from rewardkit.serving.config import ServeConfig


def load_backend(cfg: ServeConfig) -> ModelBackend:
    directory = resolve_backbone(cfg.model)  # a Hub id: its files in the local cache
    model = RewardModel.from_directory(
        directory, max_length=cfg.max_tokens or 512, precision=cfg.precision
    )
    detector = load_ood(directory)  # None for a model without one
    return ModelBackend(
        model, cfg.max_tokens, cfg.overflow, cfg.shared_prompt, cfg.precision, detector
    )
