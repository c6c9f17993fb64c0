from __future__ import annotations

import random

from rewardkit.synthetic import (
    GOLD_WEIGHTS,
    Annotator,
    ResponseSpec,
    generate_pairs,
    generate_ratings,
    generate_step_traces,
    gold_dimensions,
    gold_dimensions_of_text,
    gold_reward,
    label_accuracy,
    make_prompt,
    render_response,
)
from rewardkit.synthetic.world import random_spec


def test_same_seed_same_world_other_seed_other_world() -> None:
    assert list(generate_pairs(50, seed=7)) == list(generate_pairs(50, seed=7))
    assert list(generate_pairs(50, seed=7)) != list(generate_pairs(50, seed=8))


def test_gold_reward_is_the_documented_weighted_sum() -> None:
    prompt = make_prompt(random.Random(0), "math")
    spec = ResponseSpec(correct=False, polite=False, filler=2)
    # relevant, appropriate and formatted; wrong, rude, two filler sentences
    expected = (
        GOLD_WEIGHTS["appropriate"]
        + GOLD_WEIGHTS["relevant"]
        + GOLD_WEIGHTS["formatted"]
        + 2 * GOLD_WEIGHTS["filler"]
    )
    assert gold_reward(prompt, spec) == expected
    harmful = make_prompt(random.Random(0), "harmful")
    assert gold_reward(harmful, ResponseSpec(refuses=True)) > gold_reward(harmful, ResponseSpec())


def test_gold_is_recovered_from_text_alone() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        prompt = make_prompt(rng)
        spec = random_spec(rng, flips=rng.randint(0, 3))
        text = render_response(prompt, spec, rng)
        assert gold_dimensions_of_text(prompt.text, text) == gold_dimensions(prompt, spec), text
    assert gold_dimensions_of_text("Tell me a joke.", "No.") is None


def test_annotator_noise_sets_a_ceiling_below_one_and_biases_show() -> None:
    pairs = list(generate_pairs(3000, seed=0))
    ceiling = label_accuracy(pairs)
    assert 0.8 < ceiling < 0.97
    lover = Annotator("l", temperature=0.3, filler_bias=2.0)
    rng = random.Random(0)
    dims_long = {"filler": 3.0, "polite": 1.0}
    dims_short = {"filler": 0.0, "polite": 1.0}
    votes = [
        lover.vote(lover.perceived(5.0, dims_long), lover.perceived(5.5, dims_short), rng)
        for _ in range(500)
    ]
    assert votes.count("chosen") > 400  # prefers the longer answer against the gold


def test_ratings_and_step_traces() -> None:
    rating = next(generate_ratings(1, seed=0))
    assert set(rating.attributes) >= {"helpfulness", "correctness", "safety"}
    traces = list(generate_step_traces(200, seed=0))
    for trace in traces:
        first_error = trace.metadata["first_error"]
        expected = [
            1.0 if first_error is None or k < first_error else -1.0 for k in range(len(trace.steps))
        ]
        assert list(trace.labels) == expected
    assert any(t.metadata["first_error"] is None for t in traces)
    assert any(t.metadata["first_error"] is not None for t in traces)


def test_pairs_carry_votes_and_p_chosen_is_their_share() -> None:
    for pair in generate_pairs(200, seed=3):
        assert pair.soft_label is None and len(pair.votes) == 3
        chosen, _, ties = pair.vote_counts
        assert pair.p_chosen == (chosen + ties / 2) / 3
        assert pair.p_chosen >= 0.5  # chosen is the majority side (a coin flip when even)
