"""MACE (Hovy et al. 2013, "Learning Whom to Trust with MACE"): annotator j either knows the
true label (probability 1 - s_j) and gives it, or spams (s_j) and draws a label from their own
strategy theta_j, whatever the truth:

    P(j says l | true k) = (1 - s_j) [l == k] + s_j theta_j[l]

fitted by variational Bayes as crowd-kit does (Beta(0.5, 0.5) prior on knowing, Dirichlet(10)
on strategies, a uniform prior over true labels). It suits annotators who are either careful or
careless, not biased ones: a length-lover is neither (Dawid-Skene's full confusion fits them).
"""

from __future__ import annotations

import numpy as np

from rewardkit.aggregation.base import fitted_annotators, normalize_rows, softmax_rows
from rewardkit.aggregation.table import Floats, K, VoteTable


def digamma(x: Floats) -> Floats:
    """psi(x) for x > 0 without scipy: the recurrence psi(x) = psi(x + 1) - 1/x lifts x to at
    least 6, where the asymptotic series is good to ~1e-12."""
    x = np.asarray(x, dtype=float).copy()
    shift = np.zeros_like(x)
    while (small := x < 6.0).any():
        shift[small] -= 1.0 / x[small]
        x[small] += 1.0
    inv2 = 1.0 / (x * x)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return np.asarray(shift + np.log(x) - 0.5 / x - series, dtype=float)


def variational_normalize(counts: Floats, prior: Floats) -> Floats:
    """exp(digamma(count + prior)) / exp(digamma(row total)): the VB update of a Dirichlet."""
    posterior = counts + prior
    return np.asarray(
        np.exp(digamma(posterior)) / np.exp(digamma(posterior.sum(axis=1, keepdims=True))),
        dtype=float,
    )


class MACE:
    name = "mace"

    def __init__(
        self,
        n_iter: int = 200,
        tol: float = 1e-8,
        knowing_prior: tuple[float, float] = (0.5, 0.5),
        strategy_prior: float = 10.0,
        seed: int = 0,
    ) -> None:
        self.seed = seed
        self.n_iter = n_iter
        self.tol = tol
        self.knowing_prior = np.array(knowing_prior)
        """Beta prior on (spamming, knowing)."""
        self.strategy_prior = strategy_prior
        self.annotators: tuple[str, ...] = ()
        self.spamming = np.zeros((0, 2))
        """Per annotator: (P(spamming), P(knowing))."""
        self.strategy = np.zeros((0, K))
        self.iterations = 0

    def fit(self, table: VoteTable) -> MACE:
        if not table.task.size:
            raise ValueError("no votes to fit MACE on")
        self.annotators = table.annotators
        n = len(table.annotators)
        # A random start, as crowd-kit's (the same draws): the symmetric one (half knowing,
        # uniform strategies) is a saddle that EM can settle on with everyone a spammer.
        self.spamming = normalize_rows(self._draws((n, 2)))
        self.strategy = normalize_rows(self._draws((n, K)))
        previous = self.predict_proba(table)
        for iteration in range(1, self.n_iter + 1):
            self.iterations = iteration
            knowing, strategy = self._expected_counts(table, previous)
            self.spamming = variational_normalize(knowing, np.tile(self.knowing_prior, (n, 1)))
            self.strategy = variational_normalize(strategy, np.full((n, K), self.strategy_prior))
            proba = self.predict_proba(table)
            change, previous = float(np.abs(proba - previous).max()), proba
            if change < self.tol:
                break
        return self

    def _draws(self, shape: tuple[int, int]) -> Floats:
        """Uniform on [1, 2.5), from a fresh generator per array."""
        return np.asarray(1.0 + 1.5 * np.random.RandomState(self.seed).uniform(size=shape))

    def _vote_given_truth(self, who: np.ndarray, label: np.ndarray) -> Floats:
        """(votes, K): P(vote | true label k) for every k."""
        spam = self.spamming[who, 0, None] * self.strategy[who, label][:, None]
        return np.asarray(spam + self.spamming[who, 1, None] * (label[:, None] == np.arange(K)))

    def _expected_counts(self, table: VoteTable, proba: Floats) -> tuple[Floats, Floats]:
        """Per annotator: expected (spamming, knowing) votes and expected strategy draws, given
        the current posterior ``proba`` over each task's true label."""
        likelihood = self._vote_given_truth(table.annotator, table.label)
        # P(spamming | vote, true k) = s theta[l] / P(vote | k), averaged over P(true k)
        spam_share = (
            self.spamming[table.annotator, 0] * self.strategy[table.annotator, table.label]
        )[:, None] / likelihood
        p_spam = (proba[table.task] * spam_share).sum(axis=1)
        n = len(table.annotators)
        knowing = np.zeros((n, 2))
        np.add.at(knowing, table.annotator, np.stack([p_spam, 1.0 - p_spam], axis=1))
        strategy = np.zeros((n, K))
        np.add.at(strategy, (table.annotator, table.label), p_spam)
        return knowing, strategy

    def predict_proba(self, table: VoteTable) -> Floats:
        who = fitted_annotators(table, self.annotators)
        log_post = np.zeros((table.n_tasks, K))
        np.add.at(log_post, table.task, np.log(self._vote_given_truth(who, table.label)))
        return softmax_rows(log_post)

    def reliability(self) -> Floats:
        """P(a label is right) with a uniform truth: knowing, plus spamming that hits it."""
        return np.asarray(self.spamming[:, 1] + self.spamming[:, 0] / K, dtype=float)

    def parameters(self) -> dict[str, object]:
        return {
            "knowing": dict(
                zip(self.annotators, np.round(self.spamming[:, 1], 6).tolist(), strict=True)
            ),
            "strategy": dict(
                zip(self.annotators, np.round(self.strategy, 6).tolist(), strict=True)
            ),
            "iterations": self.iterations,
        }
