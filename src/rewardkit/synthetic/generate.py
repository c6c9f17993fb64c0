"""Deterministic data from the synthetic world: voted pairs, ratings and step traces.

    from rewardkit.synthetic import generate_pairs
    pairs = list(generate_pairs(1000, seed=0))
    pairs[0].metadata["gold_prefers_chosen"]   # what the gold reward says about the label

Each pair's ``chosen`` is what the majority of its simulated annotators preferred (not the gold
side): training sees annotator labels, evaluation can compare with the gold reward. Pairs carry
their votes and no soft label: ``Pair.p_chosen`` is the share of votes for chosen, ties counting 1/2.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from rewardkit.records import Pair, Rating, StepTrace, Verdict, Vote
from rewardkit.synthetic.annotators import DEFAULT_ANNOTATORS, Annotator
from rewardkit.synthetic.world import (
    PromptSpec,
    ResponseSpec,
    gold_dimensions,
    gold_reward_of_dimensions,
    make_prompt,
    random_spec,
    render_response,
)

_FLIP: dict[Verdict, Verdict] = {"chosen": "rejected", "rejected": "chosen", "tie": "tie"}


def _base_spec(prompt: PromptSpec, rng: random.Random) -> ResponseSpec:
    spec = random_spec(rng, flips=0)
    refuse_rate = 0.5 if prompt.category == "harmful" else 0.08
    return replace(spec, refuses=rng.random() < refuse_rate)


def generate_pairs(
    n: int,
    seed: int = 0,
    votes_per_pair: int = 3,
    annotators: Sequence[Annotator] = DEFAULT_ANNOTATORS,
) -> Iterator[Pair]:
    if votes_per_pair > len(annotators):
        raise ValueError(f"{votes_per_pair} votes per pair but only {len(annotators)} annotators")
    rng = random.Random(seed)
    made = 0
    while made < n:
        prompt = make_prompt(rng)
        spec_a = _base_spec(prompt, rng)
        spec_b = random_spec(rng, spec_a, flips=rng.choice([1, 1, 2, 3]))
        dims_a, dims_b = gold_dimensions(prompt, spec_a), gold_dimensions(prompt, spec_b)
        gold_a, gold_b = gold_reward_of_dimensions(dims_a), gold_reward_of_dimensions(dims_b)
        if gold_a == gold_b:
            continue
        text_a, text_b = render_response(prompt, spec_a, rng), render_response(prompt, spec_b, rng)
        if text_a == text_b:
            continue
        raters = rng.sample(list(annotators), votes_per_pair)
        yield vote_pair(
            prompt.text,
            (text_a, dims_a),
            (text_b, dims_b),
            raters,
            rng,
            id=f"synth-{seed}-{made}",
            metadata={"category": prompt.category},
        )
        made += 1


def vote_pair(
    prompt: str,
    a: tuple[str, dict[str, float]],
    b: tuple[str, dict[str, float]],
    raters: Sequence[Annotator],
    rng: random.Random,
    id: str,
    metadata: dict[str, object] | None = None,
) -> Pair:
    """Two (text, gold dimensions) responses voted on by ``raters``; ``chosen`` is the majority's
    side (a tied vote count is settled by a coin), the gold rewards kept in the metadata."""
    (text_a, dims_a), (text_b, dims_b) = a, b
    gold_a, gold_b = gold_reward_of_dimensions(dims_a), gold_reward_of_dimensions(dims_b)
    verdicts = [
        r.vote(r.perceived(gold_a, dims_a), r.perceived(gold_b, dims_b), rng) for r in raters
    ]
    wins_a, wins_b = verdicts.count("chosen"), verdicts.count("rejected")
    a_chosen = wins_a > wins_b or (wins_a == wins_b and rng.random() < 0.5)
    if not a_chosen:
        verdicts = [_FLIP[v] for v in verdicts]
        text_a, text_b, gold_a, gold_b = text_b, text_a, gold_b, gold_a
    return Pair(
        prompt=prompt,
        chosen=text_a,
        rejected=text_b,
        votes=tuple(Vote(r.id, v) for r, v in zip(raters, verdicts, strict=True)),
        id=id,
        source="synthetic",
        metadata={
            **(metadata or {}),
            "gold_chosen": round(gold_a, 4),
            "gold_rejected": round(gold_b, 4),
            "gold_prefers_chosen": gold_a > gold_b,
        },
    )


def label_accuracy(pairs: Iterable[Pair]) -> float:
    """How often the annotators' label (``chosen``) agrees with the gold reward: the ceiling that
    annotator noise sets for a model trained on these labels and judged against gold."""
    verdicts = [bool(p.metadata["gold_prefers_chosen"]) for p in pairs]
    return sum(verdicts) / len(verdicts)


def generate_ratings(n: int, seed: int = 0, noise: float = 0.3) -> Iterator[Rating]:
    """One response per item with noisy per-attribute scores on a 0-4 scale, plus the gold."""
    rng = random.Random(seed)
    for i in range(n):
        prompt = make_prompt(rng)
        spec = random_spec(rng, _base_spec(prompt, rng), flips=rng.choice([0, 1, 2]))
        dims = gold_dimensions(prompt, spec)
        clean = {
            "helpfulness": 2.0 * dims["relevant"] + 2.0 * dims["correct"],
            "correctness": 4.0 * dims["correct"],
            "safety": 4.0 * dims["appropriate"],
            "politeness": 4.0 * dims["polite"],
            "formatting": 4.0 * dims["formatted"],
            "verbosity": float(dims["filler"]),
        }
        scores = {
            k: round(min(4.0, max(0.0, v + rng.gauss(0, noise))), 2) for k, v in clean.items()
        }
        yield Rating(
            prompt=prompt.text,
            response=render_response(prompt, spec, rng),
            attributes=scores,
            id=f"synth-rating-{seed}-{i}",
            source="synthetic",
            metadata={"gold": round(gold_reward_of_dimensions(dims), 4)},
        )


def generate_step_traces(n: int, seed: int = 0, error_rate: float = 0.5) -> Iterator[StepTrace]:
    """Worked solutions of ``(a + b) * c - d``; an error at one step carries through the rest, and
    labels are +1 before the first error and -1 from it on (PRM800K's convention)."""
    rng = random.Random(seed)
    for i in range(n):
        a, b, c, d = (rng.randint(2, 9) for _ in range(4))
        wrong_at = rng.randrange(3) if rng.random() < error_rate else None
        values: list[int] = []
        steps = []
        for k, (expr, op) in enumerate(
            [("{a} + {b}", "+"), ("{x} * {c}", "*"), ("{x} - {d}", "-")]
        ):
            x = values[-1] if values else None
            left = a if k == 0 else x
            right = {0: b, 1: c, 2: d}[k]
            value = {"+": left + right, "*": left * right, "-": left - right}[op]  # type: ignore[operator]
            if k == wrong_at:
                value += rng.choice([-3, -1, 1, 2])
            values.append(value)
            steps.append(f"{expr.format(a=a, b=b, c=c, d=d, x=x)} = {value}")
        steps.append(f"The answer is {values[-1]}.")
        labels = tuple(1.0 if wrong_at is None or k < wrong_at else -1.0 for k in range(len(steps)))
        yield StepTrace(
            prompt=f"Compute ({a} + {b}) * {c} - {d}.",
            steps=tuple(steps),
            labels=labels,
            id=f"synth-trace-{seed}-{i}",
            source="synthetic",
            metadata={"first_error": wrong_at},
        )
