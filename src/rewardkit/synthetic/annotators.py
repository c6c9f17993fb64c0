"""Simulated annotators: each sees the gold reward through their own noise and biases.

An annotator compares two responses by Bradley-Terry on a *perceived* reward (gold plus their
biases) at their own temperature; a careless one sometimes votes at random; everyone calls a tie
when the perceived difference is within their tie band.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from rewardkit.records import Verdict


@dataclass(frozen=True)
class Annotator:
    id: str
    temperature: float = 0.5
    """Bradley-Terry temperature on the perceived reward difference: higher is noisier."""
    filler_bias: float = 0.0
    """Added to the perceived reward per filler sentence (a lover of long answers has it > 0)."""
    politeness_bias: float = 0.0
    careless: float = 0.0
    """Probability of a vote at random."""
    tie_band: float = 0.1
    adversarial: float = 0.0
    """Probability of voting against their own perception (a tie stays a tie)."""

    def perceived(self, gold: float, dimensions: dict[str, float]) -> float:
        return (
            gold
            + self.filler_bias * dimensions["filler"]
            + self.politeness_bias * dimensions["polite"]
        )

    def vote(self, first: float, second: float, rng: random.Random) -> Verdict:
        """The verdict for ``first`` against ``second`` (perceived rewards)."""
        if rng.random() < self.careless:
            return rng.choice(["chosen", "rejected", "tie"])
        diff = first - second
        if abs(diff) < self.tie_band and rng.random() < 0.5:
            return "tie"
        p_first = 1.0 / (1.0 + math.exp(-diff / self.temperature))
        prefers_first = rng.random() < p_first
        if self.adversarial and rng.random() < self.adversarial:  # no draw for honest annotators
            prefers_first = not prefers_first
        return "chosen" if prefers_first else "rejected"


DEFAULT_ANNOTATORS: tuple[Annotator, ...] = (
    Annotator("expert", temperature=0.3),
    Annotator("steady-1", temperature=0.7),
    Annotator("steady-2", temperature=0.7),
    Annotator("length-lover", temperature=0.6, filler_bias=0.9),
    Annotator("flatterable", temperature=0.6, politeness_bias=1.5),
    Annotator("careless", temperature=0.6, careless=0.4),
)
