"""The over-optimisation lab: best-of-n against a proxy reward, judged by the synthetic world's
gold reward (Gao et al. 2022, with the mitigations of Coste et al. 2023 and Singhal et al. 2023).

    pool = build_pool(prompts=32, samples=2048)                  # candidates, gold known
    proxy = score_pool(pool, model.as_scorer())                  # each distinct text scored once
    curve = sweep(pool, proxy, "single proxy")                   # gold and proxy against KL
    fit = fit_gao(curve.kl, curve.gold - curve.gold[0])

A pool draws N samples per prompt from the lab's sampler; best-of-n for every n <= N is then
the exact expectation over n-subsets of those samples (``expected_best_of_n``), averaged over
prompts. Samples repeat (the world's responses are finite), so each distinct text is scored once
and in batches. Mitigations are other proxies on the same pool: an aggregate of ensemble members,
the proxy minus a length penalty, or a KL budget that stops the optimisation early.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from rewardkit.evaluation.metrics.arrays import Floats
from rewardkit.evaluation.metrics.selection import expected_best_of_n
from rewardkit.hacking.best_of_n import best_of_n_kl
from rewardkit.hacking.sampler import Policy, sample_prompts, sample_responses
from rewardkit.scoring import Scorer

DEFAULT_NS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class Pool:
    prompts: list[str]
    """The prompt of each distinct item."""
    responses: list[str]
    """Each distinct (prompt, response) item's response."""
    gold: Floats
    """Each item's gold reward."""
    words: Floats
    """Each item's response length in words (what a length penalty reads)."""
    samples: list[npt.NDArray[np.int64]]
    """Per prompt, its N samples as indices into the items (repeats included)."""


def build_pool(
    prompts: int = 32, samples: int = 2048, seed: int = 0, policy: Policy | None = None
) -> Pool:
    policy = policy or Policy()
    rng = random.Random(seed)
    index: dict[tuple[str, str], int] = {}
    gold: list[float] = []
    drawn: list[npt.NDArray[np.int64]] = []
    for prompt in tqdm(sample_prompts(prompts, seed), desc="sampling", unit=" prompts"):
        picks = []
        for sample in sample_responses(prompt, samples, rng, policy):
            key = (prompt.text, sample.text)
            if key not in index:
                index[key] = len(index)
                gold.append(sample.gold)
            picks.append(index[key])
        drawn.append(np.asarray(picks, dtype=np.int64))
    keys = list(index)
    return Pool(
        [k[0] for k in keys],
        [k[1] for k in keys],
        np.asarray(gold),
        np.asarray([len(k[1].split()) for k in keys], dtype=np.float64),
        drawn,
    )


def score_pool(pool: Pool, scorer: Scorer) -> Floats:
    """Each distinct item's proxy score (the scorer batches; NaN is refused later)."""
    return np.asarray(scorer(pool.prompts, pool.responses), dtype=np.float64)


@dataclass(frozen=True)
class Curve:
    name: str
    ns: npt.NDArray[np.int64]
    kl: Floats
    gold: Floats
    """Mean over prompts of the gold reward of best-of-n."""
    proxy: Floats
    """Mean over prompts of the optimised proxy's own score of best-of-n."""

    @property
    def gold_drop(self) -> float:
        """How far gold falls from its peak by the largest n (0 when it never falls)."""
        return float(self.gold.max() - self.gold[-1])

    def gold_within(self, kl_budget: float) -> float:
        """Gold at the largest n whose KL is within the budget: best-of-n stopped early."""
        allowed = np.flatnonzero(self.kl <= kl_budget)
        if allowed.size == 0:
            raise ValueError(f"no n has KL <= {kl_budget}")
        return float(self.gold[allowed[-1]])


def sweep(pool: Pool, proxy: npt.ArrayLike, name: str, ns: Sequence[int] = DEFAULT_NS) -> Curve:
    values = np.asarray(proxy, dtype=np.float64)
    if values.shape != pool.gold.shape:
        raise ValueError(f"{values.shape[0]} proxy scores for {pool.gold.shape[0]} pool items")
    gold_rows, proxy_rows = [], []
    for picks in pool.samples:
        p = values[picks]
        gold_rows.append(expected_best_of_n(p, pool.gold[picks], ns))
        proxy_rows.append(expected_best_of_n(p, p, ns))
    n = np.asarray(ns, dtype=np.int64)
    return Curve(name, n, best_of_n_kl(n), np.mean(gold_rows, axis=0), np.mean(proxy_rows, axis=0))


def length_slope(proxy: npt.ArrayLike, words: npt.ArrayLike) -> float:
    """The least-squares slope of the proxy on response length: the reward per word that length
    alone explains, a length penalty's weight (Singhal et al. 2023 penalise length in PPO)."""
    x, y = np.asarray(words, dtype=np.float64), np.asarray(proxy, dtype=np.float64)
    x = x - x.mean()
    return float((x @ (y - y.mean())) / (x @ x)) if x @ x > 0 else 0.0


def length_penalized(proxy: npt.ArrayLike, words: npt.ArrayLike, weight: float) -> Floats:
    return np.asarray(proxy, dtype=np.float64) - weight * np.asarray(words, dtype=np.float64)


@dataclass(frozen=True)
class Mitigated:
    name: str
    gold_at_max_n: float
    drop: float
    """Gold's peak minus gold at the largest n, under this optimisation."""
    drop_cut: float
    """The share of the single proxy's drop that this removes (1: none left)."""


def compare_drops(baseline: Curve, others: Sequence[Curve], kl_budget: float) -> list[Mitigated]:
    """Each mitigation against the single proxy at the largest n: gold there and how much of the
    gold drop it cuts. The KL limit is the baseline stopped at ``kl_budget``; its drop is measured
    against the baseline's own peak."""
    base = baseline.gold_drop

    def cut(drop: float) -> float:
        return (base - drop) / base if base > 0 else float("nan")

    rows = [Mitigated(baseline.name, float(baseline.gold[-1]), base, 0.0)]
    for curve in others:
        rows.append(
            Mitigated(curve.name, float(curve.gold[-1]), curve.gold_drop, cut(curve.gold_drop))
        )
    limited = baseline.gold_within(kl_budget)
    drop = float(baseline.gold.max() - limited)
    rows.append(Mitigated(f"KL <= {kl_budget:g}", limited, drop, cut(drop)))
    return rows
