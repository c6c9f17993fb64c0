"""The synthetic preference world: prompts, responses, a known gold reward, simulated annotators."""

from rewardkit.synthetic.annotators import DEFAULT_ANNOTATORS, Annotator
from rewardkit.synthetic.generate import (
    generate_pairs,
    generate_ratings,
    generate_step_traces,
    label_accuracy,
)
from rewardkit.synthetic.world import (
    GOLD_WEIGHTS,
    PromptSpec,
    ResponseSpec,
    gold_dimensions,
    gold_dimensions_of_text,
    gold_reward,
    gold_reward_of_dimensions,
    make_prompt,
    parse_prompt,
    render_response,
)

__all__ = [
    "DEFAULT_ANNOTATORS",
    "GOLD_WEIGHTS",
    "Annotator",
    "PromptSpec",
    "ResponseSpec",
    "generate_pairs",
    "generate_ratings",
    "generate_step_traces",
    "gold_dimensions",
    "gold_dimensions_of_text",
    "gold_reward",
    "gold_reward_of_dimensions",
    "label_accuracy",
    "make_prompt",
    "parse_prompt",
    "render_response",
]
