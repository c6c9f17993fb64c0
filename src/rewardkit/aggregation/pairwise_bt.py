"""A Bradley-Terry label model for pairwise votes, with annotator reliability and position bias
(in the spirit of Crowd-BT, Chen et al. 2013, and GLAD's task/annotator split, Whitehill et al.
2009). Pair i has a latent reward gap s_i = r(chosen) - r(rejected); annotator j votes

    P(j says chosen) = sigmoid(a_j * s_i + b_j * x)

with reliability a_j (1: an average annotator, 0: noise, < 0: votes against the truth), position
bias b_j (a pull toward the side shown first) and x = +1 / -1 / 0 when chosen was shown first /
second / unknown. A tie vote counts half for each side (as ``Pair.p_chosen`` counts it): this
model has no tie class, unlike crowd-kit's pairwise models, which refuse ties altogether.

The fit is MAP by block Newton steps (each block is a small logistic regression): Gaussian priors
s ~ N(0, prior_gap^2), a ~ N(1, prior_reliability^2), b ~ N(0, prior_position^2) keep a task
voted by one annotator finite and fix the sign (most annotators are honest); after the fit the
reliabilities are rescaled so that the average vote's annotator has a = 1. The label is P(that
average annotator, unbiased by position, prefers chosen) = sigmoid(s_i), widened by s_i's
Laplace variance v_i as sigmoid(s_i / sqrt(1 + pi v_i / 8)) (MacKay 1992).
"""

from __future__ import annotations

import numpy as np

from rewardkit.aggregation.base import fitted_annotators
from rewardkit.aggregation.table import CHOSEN, TIE, Floats, Ints, VoteTable


def sigmoid(x: Floats) -> Floats:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=float)


def vote_targets(label: Ints) -> Floats:
    """1 for chosen, 0 for rejected, 1/2 for a tie."""
    return np.where(label == CHOSEN, 1.0, np.where(label == TIE, 0.5, 0.0))


class AnnotatorBT:
    name = "bradley_terry"

    def __init__(
        self,
        n_iter: int = 200,
        tol: float = 1e-6,
        prior_gap: float = 2.0,
        prior_reliability: float = 1.0,
        prior_position: float = 0.5,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.prior_gap = prior_gap
        self.prior_reliability = prior_reliability
        self.prior_position = prior_position
        self.annotators: tuple[str, ...] = ()
        self.reliability_ = np.zeros(0)
        """a_j per annotator."""
        self.position_bias = np.zeros(0)
        """b_j per annotator."""
        self.iterations = 0

    def fit(self, table: VoteTable) -> AnnotatorBT:
        if not table.task.size:
            raise ValueError("no votes to fit a Bradley-Terry label model on")
        self.annotators = table.annotators
        n = len(table.annotators)
        self.reliability_, self.position_bias = np.ones(n), np.zeros(n)
        gap = np.zeros(table.n_tasks)
        for iteration in range(1, self.n_iter + 1):
            self.iterations = iteration
            new_gap, _ = self._gap_step(table, gap, table.annotator)
            step = self._annotator_step(table, new_gap)
            change = max(float(np.abs(new_gap - gap).max()), step)
            gap = new_gap
            if change < self.tol:
                break
        # The scale of a * s is shared between a and s; fix it so the votes' average annotator
        # has a = 1, and P(chosen) = sigmoid(s) is what that annotator would say.
        scale = float(np.mean(self.reliability_[table.annotator]))
        if scale <= 0:
            raise ValueError(
                "the votes' average annotator came out adversarial (mean reliability "
                f"{scale:.3f}): more votes go against the other votes than with them"
            )
        self.reliability_ = self.reliability_ / scale
        return self

    def _gap_step(self, table: VoteTable, gap: Floats, who: Ints) -> tuple[Floats, Floats]:
        """One Newton step on every s_i (annotators fixed); returns s and its Laplace variance."""
        a = self.reliability_[who]
        p = sigmoid(a * gap[table.task] + self.position_bias[who] * table.positions)
        y = vote_targets(table.label)
        grad = np.bincount(table.task, a * (y - p), table.n_tasks) - gap / self.prior_gap**2
        curvature = (
            np.bincount(table.task, a * a * p * (1 - p), table.n_tasks) + 1 / self.prior_gap**2
        )
        return gap + grad / curvature, np.asarray(1.0 / curvature, dtype=float)

    def _annotator_step(self, table: VoteTable, gap: Floats) -> float:
        """One Newton step on every (a_j, b_j) (gaps fixed); returns the largest change."""
        n = len(self.annotators)
        features = np.stack([gap[table.task], table.positions], axis=1)
        theta = np.stack([self.reliability_, self.position_bias], axis=1)
        p = sigmoid((features * theta[table.annotator]).sum(axis=1))
        residual = vote_targets(table.label) - p
        prior_mean = np.array([1.0, 0.0])
        prior_precision = np.array([1 / self.prior_reliability**2, 1 / self.prior_position**2])
        grad = np.zeros((n, 2))
        np.add.at(grad, table.annotator, features * residual[:, None])
        grad -= (theta - prior_mean) * prior_precision
        hessian = np.zeros((n, 2, 2))
        outer = features[:, :, None] * features[:, None, :] * (p * (1 - p))[:, None, None]
        np.add.at(hessian, table.annotator, outer)
        hessian += np.diag(prior_precision)
        step = np.linalg.solve(hessian, grad[:, :, None])[:, :, 0]
        self.reliability_, self.position_bias = (theta + step).T
        return float(np.abs(step).max())

    def gaps(self, table: VoteTable) -> tuple[Floats, Floats]:
        """s_i and its Laplace variance for the tasks of ``table``, annotators held fixed."""
        who = fitted_annotators(table, self.annotators)
        gap, variance = np.zeros(table.n_tasks), np.zeros(table.n_tasks)
        for _ in range(self.n_iter):
            new_gap, variance = self._gap_step(table, gap, who)
            change, gap = float(np.abs(new_gap - gap).max()), new_gap
            if change < self.tol:
                break
        return gap, variance

    def predict_proba(self, table: VoteTable) -> Floats:
        gap, variance = self.gaps(table)
        p = sigmoid(gap / np.sqrt(1 + np.pi * variance / 8))
        return np.stack([p, 1 - p, np.zeros_like(p)], axis=1)

    def reliability(self) -> Floats:
        return self.reliability_

    def parameters(self) -> dict[str, object]:
        return {
            "reliability": dict(
                zip(self.annotators, np.round(self.reliability_, 6).tolist(), strict=True)
            ),
            "position_bias": dict(
                zip(self.annotators, np.round(self.position_bias, 6).tolist(), strict=True)
            ),
            "iterations": self.iterations,
        }
