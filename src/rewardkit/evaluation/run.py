"""Score one suite with one scorer and compute every metric, with bootstrap intervals.

Every item earns a credit in [0, 1] (a pair: chosen strictly above rejected; a best-of-K prompt:
RewardBench 2's rule), so subsets of both kinds feed the same subset -> section -> score
weighting. Pair-only views (calibration, length bias, agreement, score distributions) use pairs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rewardkit.aggregation import PanelSection
from rewardkit.aggregation.panel import model_against_votes
from rewardkit.evaluation import metrics as m
from rewardkit.evaluation.metrics.bootstrap import Indices
from rewardkit.evaluation.process import ProcessResult, score_processes
from rewardkit.evaluation.scorers import NamedScorer
from rewardkit.evaluation.suites import Suite
from rewardkit.records import Text
from rewardkit.scoring import OverflowCounts

Floats = m.Floats


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    """The 95% percentile-bootstrap interval."""


@dataclass
class Calibration:
    ece: float
    brier: float
    log_loss: float
    temperature: float
    """Fitted on the whole suite; divide raw scores by it to calibrate them."""
    calibrated_ece: float
    """ECE after temperature scaling, each half's temperature fitted on the other half."""
    calibrated_brier: float
    calibrated_log_loss: float
    bins: list[m.ReliabilityBin]
    pairs: int


@dataclass
class LengthBias:
    pearson: float
    """Reward against response length (characters), over all scored responses."""
    spearman: float
    split: m.LengthSplit
    controlled_interval: tuple[float, float]
    buckets: list[m.LengthBucket]


@dataclass
class Distributions:
    chosen: m.Summary
    rejected: m.Summary
    histogram_edges: list[float]
    chosen_counts: list[float]
    rejected_counts: list[float]


@dataclass
class Objectives:
    """A scorer with named outputs (objectives heads, ensemble members), over the pairs."""

    accuracy: dict[str, float]
    """Per objective, the share of pairs it ranks right."""
    correlation: dict[str, dict[str, float]]
    """Pearson's r between the objectives, the score and response length (characters), over
    every pair response."""


@dataclass(frozen=True)
class ItemScore:
    subset: str
    scores: list[float | None]
    """Raw scores: [chosen, rejected] for a pair, one per response for a best-of-K prompt."""
    credit: float


@dataclass
class SuiteResult:
    scorer: str
    suite: str
    baseline: bool
    items: int
    pairs: int
    best_of_k: int
    unscored: int
    """Responses the scorer gave no finite score (over its length limit, or NaN): counted wrong."""
    too_long: int
    """Responses over the scorer's length limit left unscored (models that count it)."""
    truncated: int
    """Responses scored with their prompt shortened to fit (overflow=truncate_prompt)."""
    seconds: float
    responses_per_s: float
    accuracy: Estimate
    """Mean credit over all items (pairs and best-of-K prompts)."""
    subsets: dict[str, Estimate]
    subset_sizes: dict[str, int]
    sections: dict[str, Estimate]
    score: Estimate
    """Mean of the section scores, each the example-weighted mean of its subsets."""
    leaderboard_score: Estimate | None = None
    """The suite's own weighting (e.g. RewardBench's Prior Sets at 0.5), when it has one."""
    calibration: Calibration | None = None
    length: LengthBias | None = None
    agreement: m.Agreement | None = None
    panel: PanelSection | None = None
    """The annotators: their agreement, reliability and biases, and the model against the votes."""
    distributions: Distributions | None = None
    objectives: Objectives | None = None
    process: ProcessResult | None = None
    """Step-labelled solutions: ProcessBench's earliest-error accuracies and F1 per subset."""
    per_item: list[ItemScore] = field(default_factory=list, repr=False)
    """Each item's raw scores and credit: written to scores.jsonl, kept out of metrics.json."""


def _score_all(
    scorer: NamedScorer, suite: Suite
) -> tuple[Floats, Floats, list[Floats], float, OverflowCounts]:
    prompts: list[Text] = []
    responses: list[Text] = []
    for pair in suite.pairs:
        prompts += [pair.prompt, pair.prompt]
        responses += [pair.chosen, pair.rejected]
    for item in suite.best_of_k:
        prompts += [item.prompt] * len(item.responses)
        responses += item.responses
    start = time.perf_counter()
    raw = scorer.score(prompts, responses)
    seconds = time.perf_counter() - start
    if len(raw) != len(responses):
        raise ValueError(f"{scorer.name} returned {len(raw)} scores for {len(responses)} responses")
    values = np.array([float(x) if x is not None else math.nan for x in raw], dtype=np.float64)
    n = 2 * len(suite.pairs)
    groups, at = [], n
    for item in suite.best_of_k:
        groups.append(values[at : at + len(item.responses)])
        at += len(item.responses)
    counts = getattr(scorer.score, "counts", None)
    counts = counts if isinstance(counts, OverflowCounts) else OverflowCounts()
    return values[0:n:2], values[1:n:2], groups, seconds, counts


class _Bootstrap:
    """Each subset's mean credit in every resample (items drawn within their subset), computed
    once: every interval over subsets, sections and scores is a function of these means."""

    def __init__(self, credit: Floats, subsets: list[str], resamples: int, seed: int) -> None:
        self.credit = credit
        self.names = list(dict.fromkeys(subsets))
        code = {name: i for i, name in enumerate(self.names)}
        self.codes = np.array([code[s] for s in subsets], dtype=np.intp)
        counts = np.bincount(self.codes, minlength=len(self.names))
        self.sizes = {name: int(counts[i]) for i, name in enumerate(self.names)}
        self.samples = m.stratified_resamples(subsets, resamples, seed)
        self.point = self._means(np.arange(credit.size))
        self.resampled = [self._means(idx) for idx in self.samples]

    def _means(self, idx: Indices) -> dict[str, float]:
        sums = np.bincount(self.codes[idx], weights=self.credit[idx], minlength=len(self.names))
        return {name: float(sums[i] / self.sizes[name]) for i, name in enumerate(self.names)}

    def interval(self, statistic: Callable[[dict[str, float]], float]) -> Estimate:
        low, high = m.percentile_interval(statistic, self.resampled)
        return Estimate(statistic(self.point), low, high)


def _calibration(chosen: Floats, rejected: Floats, outcome: Floats) -> Calibration:
    ok = np.isfinite(chosen) & np.isfinite(rejected)
    margin, y = (chosen - rejected)[ok], outcome[ok]
    p = m.sigmoid(margin)
    halves = np.arange(margin.size) % 2 == 0
    cross = np.empty_like(p)
    for fit, apply in ((halves, ~halves), (~halves, halves)):
        t = m.fit_temperature(margin[fit], y[fit])
        cross[apply] = m.sigmoid(margin[apply] / t) if math.isfinite(t) else 0.5
    return Calibration(
        ece=m.expected_calibration_error(p, y),
        brier=m.brier_score(p, y),
        log_loss=m.log_loss(p, y),
        temperature=m.fit_temperature(margin, y),
        calibrated_ece=m.expected_calibration_error(cross, y),
        calibrated_brier=m.brier_score(cross, y),
        calibrated_log_loss=m.log_loss(cross, y),
        bins=m.reliability_bins(p, y),
        pairs=int(margin.size),
    )


def _length_bias(
    suite: Suite, chosen: Floats, rejected: Floats, correct: Floats, boot: _Bootstrap
) -> LengthBias:
    chosen_len, rejected_len = suite.pair_lengths
    rewards = np.concatenate([chosen, rejected])
    lengths = np.concatenate([chosen_len, rejected_len])
    ok = np.isfinite(rewards)
    split = m.length_split(correct, chosen_len, rejected_len)
    pair_idx = [s[s < correct.size] for s in boot.samples]  # pairs come first among items
    low, high = m.percentile_interval(
        lambda idx: m.length_split(correct[idx], chosen_len[idx], rejected_len[idx]).controlled,
        pair_idx,
    )
    return LengthBias(
        pearson=m.pearson(rewards[ok], lengths[ok]),
        spearman=m.spearman(rewards[ok], lengths[ok]),
        split=split,
        controlled_interval=(low, high),
        buckets=m.accuracy_by_length_difference(
            correct, chosen_len, rejected_len, m.LENGTH_DIFFERENCE_EDGES
        ),
    )


def _distributions(chosen: Floats, rejected: Floats) -> Distributions:
    c_counts, r_counts, edges = m.shared_histogram(chosen, rejected)
    return Distributions(
        m.summarize(chosen),
        m.summarize(rejected),
        edges.tolist(),
        c_counts.tolist(),
        r_counts.tolist(),
    )


def _objectives(scorer: NamedScorer, suite: Suite, chosen: Floats, rejected: Floats) -> Objectives:
    """From the named outputs the scorer kept of its last call (pairs first, chosen then
    rejected): the call that scored this suite."""
    n = 2 * len(suite.pairs)
    named: dict[str, list[float]] = getattr(scorer.score, "objectives", None) or {}
    values = {k: np.asarray(v[:n], dtype=np.float64) for k, v in named.items()}
    columns = {
        **{k: np.concatenate([v[0::2], v[1::2]]) for k, v in values.items()},
        "score": np.concatenate([chosen, rejected]),
        "length": np.concatenate(suite.pair_lengths),
    }
    accuracy = m.objective_accuracy(
        {k: v[0::2] for k, v in values.items()}, {k: v[1::2] for k, v in values.items()}
    )
    return Objectives(accuracy, m.correlation_matrix(columns))


def evaluate_suite(
    scorer: NamedScorer, suite: Suite, resamples: int = 1000, seed: int = 0
) -> SuiteResult:
    process, process_credit, step_scores = score_processes(
        scorer.score, suite.processes, suite.threshold_subset
    )
    chosen, rejected, groups, seconds, counts = _score_all(scorer, suite)
    correct = m.pairwise_correct(chosen, rejected)
    credit = np.concatenate(
        [
            correct,
            [
                m.best_of_k_credit(g, b.correct)
                for g, b in zip(groups, suite.best_of_k, strict=True)
            ],
            process_credit,
        ]
    )
    subsets = [p.subset for p in suite.pairs] + [b.subset for b in suite.best_of_k]
    subsets += [p.subset for p in suite.processes]
    boot = _Bootstrap(credit, subsets, resamples, seed)
    sections = suite.section_map()
    plain = m.Weighting()

    def accuracy(means: dict[str, float]) -> float:
        return sum(boot.sizes[s] * v for s, v in means.items()) / credit.size

    def subset(name: str) -> Callable[[dict[str, float]], float]:
        return lambda means: means[name]

    def section(name: str) -> Callable[[dict[str, float]], float]:
        return lambda means: m.section_scores(means, boot.sizes, sections).get(name, math.nan)

    def score(weighting: m.Weighting) -> Callable[[dict[str, float]], float]:
        return lambda means: m.overall_score(
            m.section_scores(means, boot.sizes, sections, weighting), weighting
        )

    result = SuiteResult(
        scorer=scorer.name,
        suite=suite.name,
        baseline=scorer.baseline,
        items=int(credit.size),
        pairs=len(suite.pairs),
        best_of_k=len(suite.best_of_k),
        unscored=int(
            np.sum(~np.isfinite(np.concatenate([chosen, rejected, *groups, *step_scores])))
        ),
        too_long=counts.too_long,
        truncated=counts.truncated,
        seconds=seconds,
        responses_per_s=(2 * len(suite.pairs) + sum(len(g) for g in groups)) / max(seconds, 1e-9),
        accuracy=boot.interval(accuracy),
        subsets={s: boot.interval(subset(s)) for s in boot.names},
        subset_sizes=boot.sizes,
        sections={
            s: boot.interval(section(s)) for s in m.section_scores(boot.point, boot.sizes, sections)
        },
        score=boot.interval(score(plain)),
        leaderboard_score=boot.interval(score(suite.leaderboard)) if suite.leaderboard else None,
        process=process,
    )
    rows = [[c, r] for c, r in zip(chosen.tolist(), rejected.tolist(), strict=True)]
    rows += [g.tolist() for g in groups] + step_scores
    result.per_item = [
        ItemScore(s, [v if math.isfinite(v) else None for v in row], float(c))
        for s, row, c in zip(subsets, rows, credit.tolist(), strict=True)
    ]
    if suite.pairs:
        outcome = np.array([p.outcome for p in suite.pairs], dtype=np.float64)
        result.calibration = _calibration(chosen, rejected, outcome)
        result.length = _length_bias(suite, chosen, rejected, correct, boot)
        result.distributions = _distributions(chosen, rejected)
        if getattr(scorer.score, "objectives", None):
            result.objectives = _objectives(scorer, suite, chosen, rejected)
        votes = np.array([p.votes for p in suite.pairs], dtype=np.float64)
        if votes.sum():
            voted = votes.sum(axis=1) > 0
            p = m.preference_probability(chosen[voted], rejected[voted])
            p = np.where(np.isfinite(p), p, 0.5)
            result.agreement = m.agreement(p, *votes[voted].T)
            if not scorer.baseline and suite.voted_panel is not None:
                result.panel = model_against_votes(suite.voted_panel, p)
    return result
