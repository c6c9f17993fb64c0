"""Process reward evaluation: is each step judged right, and is the earliest wrong step found?

Two views of per-step scores (logits, or any score where higher means "more likely right"):

- step level: each labelled step predicted wrong when its score is below the threshold;
  accuracy, and precision, recall and F1 of finding the wrong steps (the class a PRM is for).
- ProcessBench (Zheng et al. 2024): a solution's predicted earliest error is its first step
  scored below the threshold (-1: none). Accuracy on the erroneous solutions (the index must
  match) and on the correct ones (must predict -1); F1 is their harmonic mean; the average over
  subsets is their plain mean. A PRM's threshold is chosen on one subset (ProcessBench: GSM8K)
  to maximise its F1 and reused on the others.

Every result carries two baselines computed from the labels alone: ``majority`` (predict what
is most common on the subset the threshold is chosen on, for every item) and ``random`` (a fair
coin per step judges it wrong; expected values, so they are exact and the same in every run).

Any ``Scorer`` gives per-step scores through ``prefix_step_scores``: the score of each prefix
of the solution (a min-aggregating PRM then scores each prefix by its weakest step so far, and
an outcome model judges "right so far"); a per-step model gives them in one pass per solution
through ``model_step_scores``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rewardkit.evaluation.suites import ProcessItem
from rewardkit.models.inputs import UnscorableText
from rewardkit.records import Text
from rewardkit.scoring import BATCH_TOKENS, Scorer

if TYPE_CHECKING:  # torch loads with the model, not with this module
    from rewardkit.models.reward_model import RewardModel

StepScores = Sequence[float]


@dataclass(frozen=True)
class StepMetrics:
    steps: int
    """Labelled steps with a finite score."""
    error_share: float
    """Share of those steps that are wrong (label P(right) < 0.5)."""
    accuracy: float
    precision: float
    """Of the steps predicted wrong, the share that are wrong."""
    recall: float
    """Of the wrong steps, the share predicted wrong."""
    f1: float


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def step_metrics(
    scores: Sequence[StepScores], targets: Sequence[Sequence[float]], threshold: float = 0.0
) -> StepMetrics:
    """``targets``: P(step is right) per step, NaN where unlabelled (left out, as are steps
    without a finite score)."""
    flat_scores, flat_targets = [], []
    for i, (item_scores, item_targets) in enumerate(zip(scores, targets, strict=True)):
        if len(item_scores) != len(item_targets):
            raise ValueError(
                f"item {i}: {len(item_scores)} step scores, {len(item_targets)} labels"
            )
        flat_scores += list(item_scores)
        flat_targets += list(item_targets)
    s = np.array(flat_scores, dtype=np.float64)
    y = np.array(flat_targets, dtype=np.float64)
    keep = np.isfinite(s) & np.isfinite(y)
    predicted_wrong, wrong = s[keep] < threshold, y[keep] < 0.5
    hits = float(np.sum(predicted_wrong & wrong))
    precision = hits / max(int(predicted_wrong.sum()), 1)
    recall = hits / max(int(wrong.sum()), 1)
    n = int(keep.sum())
    return StepMetrics(
        steps=n,
        error_share=float(wrong.mean()) if n else math.nan,
        accuracy=float(np.mean(predicted_wrong == wrong)) if n else math.nan,
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
    )


def choose_step_threshold(
    scores: Sequence[StepScores], targets: Sequence[Sequence[float]]
) -> float:
    """The threshold that maximises step-level F1 (finding wrong steps) on these steps, to be
    reused on others; the smallest such value on ties."""
    s = np.array([v for item in scores for v in item], dtype=np.float64)
    y = np.array([v for item in targets for v in item], dtype=np.float64)
    keep = np.isfinite(s) & np.isfinite(y)
    s, wrong = s[keep], y[keep] < 0.5
    candidates = np.unique(np.append(s, np.inf))
    order = np.argsort(s)
    below = np.searchsorted(s[order], candidates, side="left")  # steps predicted wrong at t
    hits = np.concatenate([[0], np.cumsum(wrong[order])])[below]
    precision = hits / np.maximum(below, 1)
    recall = hits / max(int(wrong.sum()), 1)
    f1 = np.where(
        precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0
    )
    return float(candidates[int(np.argmax(f1))])


def step_baselines(targets: Sequence[Sequence[float]]) -> dict[str, StepMetrics]:
    """``majority``: every step predicted as the more common class; ``random``: a fair coin per
    step (expected precision = error share, recall = 1/2)."""
    y = np.array([t for item in targets for t in item], dtype=np.float64)
    wrong = y[np.isfinite(y)] < 0.5
    n, share = int(wrong.size), float(wrong.mean()) if wrong.size else math.nan
    majority_wrong = share > 0.5
    return {
        "majority": StepMetrics(
            n,
            share,
            max(share, 1 - share),
            share if majority_wrong else 0.0,
            1.0 if majority_wrong else 0.0,
            _f1(share, 1.0) if majority_wrong else 0.0,
        ),
        "random": StepMetrics(n, share, 0.5, share, 0.5, _f1(share, 0.5)),
    }


# ---- ProcessBench: the earliest error ----------------------------------------------------------


@dataclass(frozen=True)
class EarliestError:
    items: int
    erroneous: int
    correct: int
    error_accuracy: float
    """Share of erroneous solutions whose earliest wrong step is found exactly."""
    correct_accuracy: float
    """Share of correct solutions predicted to have no wrong step."""
    f1: float
    """Harmonic mean of the two accuracies."""


@dataclass
class ProcessResult:
    threshold: float
    chosen_on: str | None
    """The subset the threshold was chosen on (None: given)."""
    subsets: dict[str, EarliestError]
    average_f1: float
    """Plain mean of the subsets' F1."""
    baselines: dict[str, dict[str, EarliestError]] = field(default_factory=dict)
    """Per baseline (majority, random), per subset."""
    baseline_average_f1: dict[str, float] = field(default_factory=dict)


def earliest_error(scores: StepScores, threshold: float) -> int | None:
    """The first step scored below ``threshold``, -1 if none; None when a step has no finite
    score (the item cannot be judged and counts wrong)."""
    values = np.asarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(values)):
        return None
    below = np.flatnonzero(values < threshold)
    return int(below[0]) if below.size else -1


def earliest_error_metrics(hits: Sequence[float], labels: Sequence[int]) -> EarliestError:
    """``hits``: per item, whether its earliest error was predicted right (or, for expected
    values, the probability that it is)."""
    hit = np.array(hits, dtype=np.float64)
    erroneous = np.array(labels) != -1
    error_acc = float(hit[erroneous].mean()) if erroneous.any() else math.nan
    correct_acc = float(hit[~erroneous].mean()) if (~erroneous).any() else math.nan
    return EarliestError(
        len(labels),
        int(erroneous.sum()),
        int((~erroneous).sum()),
        error_acc,
        correct_acc,
        _f1(error_acc, correct_acc) if erroneous.any() and (~erroneous).any() else math.nan,
    )


def _right_windows(
    scores: Sequence[StepScores], labels: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Per item, the thresholds t with ``low < t <= high`` that predict its label: the wrong
    step must fall below t (low = its score) and every earlier step must not (high = their
    minimum). An item without finite scores has an empty window."""
    low = np.full(len(labels), -np.inf)
    high = np.full(len(labels), np.inf)
    for i, (item, label) in enumerate(zip(scores, labels, strict=True)):
        values = np.asarray(item, dtype=np.float64)
        if not np.all(np.isfinite(values)) or label >= values.size:
            low[i], high[i] = np.inf, -np.inf
            continue
        before = values if label == -1 else values[:label]
        high[i] = before.min() if before.size else np.inf
        low[i] = -np.inf if label == -1 else values[label]
    return low, high


def choose_threshold(scores: Sequence[StepScores], labels: Sequence[int]) -> float:
    """The threshold that maximises the earliest-error F1 on these items (the smallest such
    value on ties). Every item is right on a window ``(low, high]``, so the best F1 is reached at
    one of the step scores or above all of them."""
    low, high = _right_windows(scores, labels)
    finite = [v for item in scores for v in item if math.isfinite(v)]
    candidates = np.unique(np.array([*finite, math.inf], dtype=np.float64))
    erroneous = np.array(labels) != -1
    best, best_f1 = 0.0, -1.0
    for chunk in np.array_split(candidates, max(1, candidates.size // 2048)):
        t = chunk[:, None]
        hit = (low[None, :] < t) & (t <= high[None, :])
        if not erroneous.any() or erroneous.all():  # one class only: its accuracy
            f1 = hit.mean(axis=1)
        else:
            error_acc = hit[:, erroneous].mean(axis=1)
            correct_acc = hit[:, ~erroneous].mean(axis=1)
            total = error_acc + correct_acc
            f1 = np.where(total > 0, 2 * error_acc * correct_acc / np.maximum(total, 1e-300), 0)
        at = int(np.argmax(f1))
        if f1[at] > best_f1:
            best, best_f1 = float(chunk[at]), float(f1[at])
    return best


def _majority_label(labels: Sequence[int]) -> int:
    values, counts = np.unique(np.array(labels), return_counts=True)
    return int(values[int(np.argmax(counts))])


def _random_hits(scores: Sequence[StepScores], labels: Sequence[int]) -> list[float]:
    """P(a fair coin per step finds the label): the first wrong-judged step is ``label``, or
    none of the steps is judged wrong for a correct solution."""
    return [
        0.5 ** len(item) if label == -1 else 0.5 ** (label + 1)
        for item, label in zip(scores, labels, strict=True)
    ]


def evaluate_process(
    scores: Sequence[StepScores],
    labels: Sequence[int],
    subsets: Sequence[str],
    threshold: float | None = None,
    threshold_subset: str | None = None,
) -> tuple[ProcessResult, list[bool]]:
    """ProcessBench metrics per subset and each item's hit. With no ``threshold``, it is chosen
    on ``threshold_subset`` (default: the first subset) and reused on every subset."""
    if not (len(scores) == len(labels) == len(subsets)):
        raise ValueError(f"{len(scores)} items, {len(labels)} labels, {len(subsets)} subsets")
    names = list(dict.fromkeys(subsets))
    chosen_on = None
    if threshold is None:
        chosen_on = threshold_subset or names[0]
        if chosen_on not in names:
            raise ValueError(f"threshold subset {chosen_on!r} is not one of {names}")
        on = [i for i, s in enumerate(subsets) if s == chosen_on]
        threshold = choose_threshold([scores[i] for i in on], [labels[i] for i in on])
    predicted = [earliest_error(item, threshold) for item in scores]
    hits = [p is not None and p == label for p, label in zip(predicted, labels, strict=True)]
    reference = [labels[i] for i, s in enumerate(subsets) if s == (chosen_on or names[0])]
    majority = _majority_label(reference)
    baseline_hits = {
        "majority": [float(label == majority) for label in labels],
        "random": _random_hits(scores, labels),
    }

    def per_subset(values: Sequence[float]) -> dict[str, EarliestError]:
        return {
            name: earliest_error_metrics(
                [v for v, s in zip(values, subsets, strict=True) if s == name],
                [label for label, s in zip(labels, subsets, strict=True) if s == name],
            )
            for name in names
        }

    def average(results: dict[str, EarliestError]) -> float:
        return float(np.mean([r.f1 for r in results.values()]))

    own = per_subset([float(h) for h in hits])
    baselines = {name: per_subset(values) for name, values in baseline_hits.items()}
    result = ProcessResult(
        threshold=threshold,
        chosen_on=chosen_on,
        subsets=own,
        average_f1=average(own),
        baselines=baselines,
        baseline_average_f1={name: average(b) for name, b in baselines.items()},
    )
    return result, hits


def prefix_step_scores(
    scorer: Scorer, prompts: Sequence[Text], steps: Sequence[Sequence[str]], marker: str = "\n"
) -> list[list[float]]:
    """Each step's score as the score of the solution up to and including it, from any scorer
    (one call for every prefix of every solution)."""
    flat_prompts: list[Text] = []
    flat_responses: list[Text] = []
    for prompt, item in zip(prompts, steps, strict=True):
        for k in range(1, len(item) + 1):
            flat_prompts.append(prompt)
            flat_responses.append(marker.join(item[:k]))
    values = [math.nan if v is None else float(v) for v in scorer(flat_prompts, flat_responses)]
    if len(values) != len(flat_responses):
        raise ValueError(f"the scorer returned {len(values)} scores for {len(flat_responses)}")
    out, at = [], 0
    for item in steps:
        out.append(values[at : at + len(item)])
        at += len(item)
    return out


def process_rows(results: Sequence[tuple[str, ProcessResult]]) -> list[dict[str, str]]:
    """Report rows: each scorer's threshold and F1 per subset (error / correct accuracy), then
    the majority and random baselines."""

    def cells(subsets: dict[str, EarliestError]) -> dict[str, str]:
        return {
            name: f"{e.f1:.3f} ({e.error_accuracy:.3f} / {e.correct_accuracy:.3f})"
            for name, e in subsets.items()
        }

    rows = [
        {
            "scorer": name,
            "threshold": f"{r.threshold:.3g} ({r.chosen_on or 'given'})",
            **cells(r.subsets),
            "average F1": f"{r.average_f1:.3f}",
        }
        for name, r in results
    ]
    if results:
        first = results[0][1]
        rows += [
            {
                "scorer": f"baseline: {name}",
                "threshold": "",
                **cells(subsets),
                "average F1": f"{first.baseline_average_f1[name]:.3f}",
            }
            for name, subsets in first.baselines.items()
        ]
    return rows


def score_processes(
    scorer: Scorer, items: Sequence[ProcessItem], threshold_subset: str | None = None
) -> tuple[ProcessResult | None, list[float], list[list[float]]]:
    """A suite's step-labelled solutions through any scorer (by prefixes): the ProcessBench
    result (None without items), each item's credit (1 when its earliest error is found) and
    its step scores."""
    if not items:
        return None, [], []
    scores = prefix_step_scores(scorer, [i.prompt for i in items], [i.steps for i in items])
    labels, subsets = [i.first_error for i in items], [i.subset for i in items]
    result, hits = evaluate_process(scores, labels, subsets, threshold_subset=threshold_subset)
    return result, [float(h) for h in hits], scores


def model_step_scores(
    model: RewardModel,
    prompts: Sequence[Text],
    steps: Sequence[Sequence[str]],
    batch_tokens: int = BATCH_TOKENS,
    progress: bool = False,
) -> list[list[float] | None]:
    """Each step's score from a per-step model, the steps exactly as given, one pass per
    solution; None for a solution over the model's ``max_length`` or without steps."""
    kept: list[int] = []
    units = []
    for i, (prompt, item) in enumerate(zip(prompts, steps, strict=True)):
        try:
            encoded = model.encode_steps(prompt, list(item))
        except UnscorableText:
            continue
        if len(encoded.ids) <= model.info.max_length:
            kept.append(i)
            units.append(model.unit(encoded))
    out: list[list[float] | None] = [None] * len(prompts)
    for i, values in zip(kept, model.unit_outputs(units, batch_tokens, progress), strict=True):
        out[i] = model.summarize(values)[1]["steps"]
    return out
