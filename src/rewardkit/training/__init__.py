"""Training reward models (`rewardkit train`)."""

from rewardkit.training.config import LoraConfig, TrainConfig

__all__ = ["LoraConfig", "TrainConfig"]
