"""Reward model networks: backbones, pooling, inputs, save/load and scoring."""

from rewardkit.models.reward_model import ModelInfo, RewardModel, ScoreResult

__all__ = ["ModelInfo", "RewardModel", "ScoreResult"]
