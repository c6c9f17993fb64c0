"""A reward function for TRL's ``GRPOTrainer(reward_funcs=[...])`` backed by rewardkit.

    from rewardkit.serving.trl_reward import grpo_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[grpo_reward("http://127.0.0.1:5000")], ...)

``target`` is a reward server URL (scored over HTTP, retried, never invented) or a model
directory (scored in this process). TRL passes plain strings or conversational message lists;
both are understood.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rewardkit.models.remote import RemoteScorer
from rewardkit.records import Message, Text
from rewardkit.scoring import Scorer

RewardFunction = Callable[..., list[float]]


def _text(value: Any) -> Text:
    if isinstance(value, str):
        return value
    return tuple(Message(m["role"], m["content"]) for m in value)


def grpo_reward(
    target: str, normalized: bool = True, api_key: str | None = None, batch_size: int = 64
) -> RewardFunction:
    scorer: Scorer
    if target.startswith(("http://", "https://")):
        scorer = RemoteScorer(target, normalized=normalized, api_key=api_key, batch_size=batch_size)
    else:
        from rewardkit.models.reward_model import RewardModel

        scorer = RewardModel.load(target).as_scorer(normalized=normalized)

    def rewardkit_reward(
        prompts: Sequence[Any], completions: Sequence[Any], **_: Any
    ) -> list[float]:
        return scorer([_text(p) for p in prompts], [_text(c) for c in completions])

    return rewardkit_reward
