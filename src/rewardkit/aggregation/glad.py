"""GLAD (Whitehill et al. 2009, "Whose Vote Should Count More: Optimal Integration of Labels from
Labelers of Unknown Expertise"): annotator j has an ability alpha_j (0: guesses, < 0: votes
against the truth), pair i an easiness e^beta_i > 0, and j gives the true label with probability

    a_ij = sigmoid(alpha_j e^beta_i),   each of the other K - 1 labels with (1 - a_ij) / (K - 1)

so on a hard pair (beta_i -> -inf) everyone tosses a coin and on an easy one the able give the
truth. The true label has a fixed uniform prior. EM: the E-step is the posterior over the true
label; the M-step raises the expected log-likelihood plus Gaussian priors alpha ~ N(1, 1) and
beta ~ N(1, 1) (crowd-kit's defaults) by one Newton step on each block (abilities, then
easinesses): a generalised EM, with the same fixed points as a full M-step.

Where this differs from crowd-kit's ``GLAD``:

- the labels are always chosen, rejected and tie (K = 3): crowd-kit infers them from the data,
  so on a batch without tie votes it fits K = 2 (a wrong vote has probability 1 - a, not
  (1 - a) / 2), which is another model; the two coincide when all three labels occur, and the
  tests compare them there;
- ``tie_class=False`` keeps the truth a side (a tie vote is one of the ways to be wrong, the
  class prior is 1/2, 1/2, 0), as ``dawid_skene_sided`` does;
- it is inductive: ``predict_proba`` on new pairs fits their easiness with the abilities held
  fixed (crowd-kit labels only the tasks it was fitted on);
- it runs to convergence (posteriors and parameters change by less than ``tol``); crowd-kit's
  M-step is at most 25 conjugate-gradient iterations and it stops when the change in its
  objective falls below 1e-5, which with its defaults can leave P off by more than 1e-3.
"""

from __future__ import annotations

import numpy as np

from rewardkit.aggregation.base import fitted_annotators, softmax_rows
from rewardkit.aggregation.pairwise_bt import sigmoid
from rewardkit.aggregation.table import Floats, Ints, K, VoteTable

MAX_STEP = 1.0
"""Largest Newton step on one parameter: far from the optimum the easiness's objective is not
concave (it is in e^beta, not beta), and an unclipped step can overshoot; at convergence the
steps are tiny, so the fixed point is unchanged."""


class GLAD:
    name = "glad"

    def __init__(
        self,
        n_iter: int = 1000,
        tol: float = 1e-7,
        tie_class: bool = True,
        ability_prior: float = 1.0,
        easiness_prior: float = 1.0,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        """Stop when no posterior probability and no parameter changes by this much."""
        self.tie_class = tie_class
        """False: the truth is always a side."""
        self.ability_prior = ability_prior
        """Prior mean of alpha (unit variance)."""
        self.easiness_prior = easiness_prior
        """Prior mean of beta, the log easiness (unit variance)."""
        self.annotators: tuple[str, ...] = ()
        self.ability = np.zeros(0)
        """alpha_j per annotator."""
        self.reliability_ = np.zeros(0)
        """Per annotator: the mean of a_ij over their votes in the fitted table."""
        self.iterations = 0

    def fit(self, table: VoteTable) -> GLAD:
        if not table.task.size:
            raise ValueError("no votes to fit GLAD on")
        self.annotators = table.annotators
        self.ability = np.full(len(table.annotators), self.ability_prior)
        easiness = np.full(table.n_tasks, self.easiness_prior)
        proba = self.posterior(table, table.annotator, easiness)
        for iteration in range(1, self.n_iter + 1):
            self.iterations = iteration
            step = self._ability_step(table, easiness, proba)
            easiness, proba, change = self._easiness_round(table, table.annotator, easiness, proba)
            if max(step, change) < self.tol:
                break
        right = sigmoid(self.ability[table.annotator] * np.exp(easiness[table.task]))
        votes = np.bincount(table.annotator, minlength=len(table.annotators))
        hits = np.bincount(table.annotator, right, len(table.annotators))
        self.reliability_ = np.where(votes > 0, hits / np.maximum(votes, 1), np.nan)
        return self

    def posterior(self, table: VoteTable, who: Ints, easiness: Floats) -> Floats:
        """(tasks, 3): P(true label | votes) for log easinesses ``easiness`` (one per task) and
        ``who``, each row's annotator as an index into ``self.ability``."""
        x = self.ability[who] * np.exp(easiness[table.task])
        log_right = -np.logaddexp(0.0, -x)  # log sigmoid(x)
        log_wrong = -np.logaddexp(0.0, x) - np.log(K - 1)  # log((1 - sigmoid(x)) / (K - 1))
        log_post = (
            self._log_priors()[None, :] + np.bincount(table.task, log_wrong, table.n_tasks)[:, None]
        )
        np.add.at(log_post, (table.task, table.label), log_right - log_wrong)
        return softmax_rows(log_post)

    def _log_priors(self) -> Floats:
        if self.tie_class:
            return np.full(K, -np.log(K))
        return np.array([-np.log(2), -np.log(2), -np.inf])

    def _ability_step(self, table: VoteTable, easiness: Floats, proba: Floats) -> float:
        """One Newton step on every alpha_j (easinesses fixed; concave in alpha)."""
        n = len(self.annotators)
        g = np.exp(easiness[table.task])
        s = sigmoid(self.ability[table.annotator] * g)
        right = proba[table.task, table.label]  # P(this vote is the true label)
        grad = np.bincount(table.annotator, (right - s) * g, n) - (
            self.ability - self.ability_prior
        )
        curvature = np.bincount(table.annotator, s * (1 - s) * g * g, n) + 1.0
        step = np.clip(grad / curvature, -MAX_STEP, MAX_STEP)
        self.ability = self.ability + step
        return float(np.abs(step).max())

    def _easiness_step(
        self, table: VoteTable, who: Ints, easiness: Floats, proba: Floats
    ) -> Floats:
        """One Newton step on every beta_i (abilities fixed). Where the objective is not concave
        the step uses its Fisher curvature instead (always positive), so it still climbs."""
        x = self.ability[who] * np.exp(easiness[table.task])
        s = sigmoid(x)
        residual = (proba[table.task, table.label] - s) * x
        grad = np.bincount(table.task, residual, table.n_tasks) - (easiness - self.easiness_prior)
        fisher = np.bincount(table.task, s * (1 - s) * x * x, table.n_tasks) + 1.0
        curvature = np.maximum(fisher - np.bincount(table.task, residual, table.n_tasks), fisher)
        return np.asarray(easiness + np.clip(grad / curvature, -MAX_STEP, MAX_STEP), dtype=float)

    def easiness(self, table: VoteTable) -> tuple[Floats, Floats]:
        """The log easiness of each task of ``table`` and its posterior, abilities held fixed:
        each task's own EM (E-step, then a Newton step on its beta) run to convergence."""
        who = fitted_annotators(table, self.annotators)
        easiness = np.full(table.n_tasks, self.easiness_prior)
        proba = self.posterior(table, who, easiness)
        for _ in range(self.n_iter):
            easiness, proba, change = self._easiness_round(table, who, easiness, proba)
            if change < self.tol:
                break
        return easiness, proba

    def _easiness_round(
        self, table: VoteTable, who: Ints, easiness: Floats, proba: Floats
    ) -> tuple[Floats, Floats, float]:
        """A Newton step on every beta_i, then the E-step; both, and the largest change."""
        new_easiness = self._easiness_step(table, who, easiness, proba)
        new = self.posterior(table, who, new_easiness)
        change = max(float(np.abs(new_easiness - easiness).max()), float(np.abs(new - proba).max()))
        return new_easiness, new, change

    def predict_proba(self, table: VoteTable) -> Floats:
        return self.easiness(table)[1]

    def reliability(self) -> Floats:
        """P(an annotator's label is the true one), averaged over the pairs they labelled."""
        return self.reliability_

    def parameters(self) -> dict[str, object]:
        return {
            "ability": dict(zip(self.annotators, np.round(self.ability, 6).tolist(), strict=True)),
            "reliability": dict(
                zip(self.annotators, np.round(self.reliability_, 6).tolist(), strict=True)
            ),
            "iterations": self.iterations,
        }
