"""The base policy of the over-optimisation lab: a sampler over the synthetic world's responses
whose outputs vary in quality and in length, with each sample's gold reward known exactly.

Every quality dimension is a coin flip and the padding (filler sentences, which gold counts
against) is uniform over 0..5, so a proxy that likes length, flattery or a format finds
candidates to exploit, and the gold reward says what that selection costs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rewardkit.synthetic.world import (
    FILLER,
    PromptSpec,
    ResponseSpec,
    gold_reward,
    make_prompt,
    render_response,
)


@dataclass(frozen=True)
class Policy:
    """Probabilities of each quality dimension in a sample."""

    relevant: float = 0.8
    correct: float = 0.6
    polite: float = 0.6
    formatted: float = 0.6
    refuse_harmful: float = 0.5
    refuse_other: float = 0.1
    max_filler: int = len(FILLER)

    def spec(self, prompt: PromptSpec, rng: random.Random) -> ResponseSpec:
        refuse = self.refuse_harmful if prompt.category == "harmful" else self.refuse_other
        return ResponseSpec(
            refuses=rng.random() < refuse,
            relevant=rng.random() < self.relevant,
            correct=rng.random() < self.correct,
            polite=rng.random() < self.polite,
            formatted=rng.random() < self.formatted,
            filler=rng.randint(0, self.max_filler),
        )


@dataclass(frozen=True)
class Sample:
    text: str
    gold: float
    filler: int


def sample_prompts(count: int, seed: int = 0) -> list[PromptSpec]:
    """``count`` prompts; distinct where the world has enough of them."""
    rng = random.Random(seed)
    seen: dict[str, PromptSpec] = {}
    for _ in range(count * 50):
        if len(seen) == count:
            break
        prompt = make_prompt(rng)
        seen.setdefault(prompt.text, prompt)
    if len(seen) < count:
        raise ValueError(f"the world has fewer than {count} distinct prompts")
    return list(seen.values())


def sample_responses(
    prompt: PromptSpec, n: int, rng: random.Random, policy: Policy | None = None
) -> list[Sample]:
    policy = policy or Policy()
    samples = []
    for _ in range(n):
        spec = policy.spec(prompt, rng)
        text = render_response(prompt, spec, rng)
        samples.append(Sample(text, gold_reward(prompt, spec), spec.filler))
    return samples
