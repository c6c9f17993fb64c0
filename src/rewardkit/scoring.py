"""The seam between parts: anything that turns (prompt, response) pairs into scalar scores.

Evaluation, reward-hacking studies, serving and AI feedback accept any ``Scorer``: a trained
``RewardModel``, an ensemble, a remote server client, or a plain Python function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from rewardkit.records import Text

Overflow = Literal["flag", "truncate_prompt"]
"""What happens to an input over a model's length limit: ``flag`` (no score, counted) or
``truncate_prompt`` (the oldest prompt turns or tokens left out, counted)."""
BATCH_TOKENS = 4096
"""Padded tokens per scoring forward pass: measured fastest on CPU (length-sorted batches of
2,048-4,096 tokens beat 16,384 by 1.5x on MiniLM, bench/score_speed.py); raise it on a GPU."""
Precision = Literal["auto", "fp32", "bf16"]
"""Inference precision: ``auto`` runs bf16 where the hardware runs it fast, else fp32."""


@runtime_checkable
class Scorer(Protocol):
    def __call__(self, prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
        """One score per (prompt, response); higher is better."""
        ...


@dataclass
class OverflowCounts:
    """What a scorer with a length limit did with over-long inputs in its last call; evaluation
    reports it beside the scores (a scorer that has it exposes it as ``.counts``)."""

    too_long: int = 0
    """Inputs left unscored (NaN)."""
    truncated: int = 0
    """Inputs scored with their prompt shortened."""
