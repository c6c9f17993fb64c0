"""rewardkit: reward modeling from preference data. Importing it loads no torch:
``from rewardkit import RewardModel`` loads torch and transformers on first use."""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from rewardkit.models.reward_model import RewardModel, ScoreResult

__all__ = ["RewardModel", "ScoreResult", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("RewardModel", "ScoreResult"):
        from rewardkit.models import reward_model

        return getattr(reward_model, name)
    raise AttributeError(f"module 'rewardkit' has no attribute {name!r}")
