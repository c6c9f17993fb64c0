"""The seam between parts: anything that turns (prompt, response) pairs into scalar scores.

Evaluation, reward-hacking studies, serving and AI feedback accept any ``Scorer``: a trained
``RewardModel``, an ensemble, a remote server client, or a plain Python function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from rewardkit.records import Text


@runtime_checkable
class Scorer(Protocol):
    def __call__(self, prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
        """One score per (prompt, response); higher is better."""
        ...
