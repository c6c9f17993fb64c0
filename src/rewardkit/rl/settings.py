"""The settings of RL runs, apart from the code that runs them so that `rewardkit rl --help`
loads no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rewardkit.hacking.ensemble import COSTE_LAMBDA, Aggregate

Labels = Literal["annotators", "gold"]
LABELS: tuple[Labels, ...] = ("annotators", "gold")
StopMetric = Literal["none", "spread", "ood"]


@dataclass(frozen=True)
class Mitigation:
    aggregate: Aggregate = "mean"
    lam: float = COSTE_LAMBDA
    """The variance weight of the ``uncertainty`` aggregate."""
    length_penalty: float = 0.0
    """Reward units taken off per word of the response."""


@dataclass
class RLSettings:
    """What one GRPO run does (``rewardkit rl``'s config extends it with where the models come
    from)."""

    steps: int = 150
    """GRPO steps."""
    log_every: int = 5
    """Steps between logs (each samples the probe prompts with the current policy)."""
    prompts_per_step: int = 8
    generations: int = 8
    """Completions per prompt: GRPO's group."""
    max_completion_length: int = 128
    lr: float = 2.5e-4
    """GRPO's learning rate, constant so that the pressure lasts to the end."""
    beta: float = 0.0
    """GRPO's KL coefficient against the starting policy (0: no penalty)."""
    aggregate: Aggregate = "mean"
    """How ensemble members combine into the reward: mean, min or uncertainty (mean - lam var)."""
    lam: float = COSTE_LAMBDA
    """The variance weight of the uncertainty aggregate."""
    length_penalty: float = 0.0
    """Reward taken off per word of the response."""
    stop: StopMetric = "none"
    """End the run when the ensemble's spread or the OOD score climbs above --stop_ratio times
    its starting level (``StopRule``)."""
    stop_ratio: float = 1.5
    prompts: int = 100
    """Distinct world prompts trained on."""
    probe_prompts: int = 6
    """Fixed prompts of each category that every log samples (the world has 6 how-to and 6
    harmful asks)."""
    probe_samples: int = 4
    """Samples per probe prompt at every log."""
    seed: int = 0

    @property
    def mitigation(self) -> Mitigation:
        return Mitigation(self.aggregate, self.lam, self.length_penalty)
