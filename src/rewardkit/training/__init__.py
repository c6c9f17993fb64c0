"""Training reward models (`rewardkit train`).

    from rewardkit.training import TrainConfig, train

The config is importable without torch; ``train`` loads the loop (and torch) on first use.
"""

from typing import TYPE_CHECKING, Any

from rewardkit.training.config import LoraConfig, TrainConfig

if TYPE_CHECKING:
    from rewardkit.training.loop import TrainResult, train

__all__ = ["LoraConfig", "TrainConfig", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    if name in ("train", "TrainResult"):
        from rewardkit.training import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'rewardkit.training' has no attribute {name!r}")
