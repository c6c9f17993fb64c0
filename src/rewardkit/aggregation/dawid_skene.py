"""Dawid & Skene (1979), "Maximum Likelihood Estimation of Observer Error-Rates Using the EM
Algorithm": each annotator j has a 3x3 confusion matrix C_j[k, l] = P(j says l | true label k),
the classes have a prior pi, and EM alternates

    E: P(z_i = k) ∝ pi_k * prod over j's votes l on i of C_j[k, l]
    M: pi = mean posterior;  C_j[k, l] ∝ sum over j's votes l of P(z_i = k)

started, as crowd-kit starts it, from the vote shares. The classes are always chosen, rejected
and tie: a tie nobody voted keeps a prior of ~0 instead of dropping out of the model.
"""

from __future__ import annotations

import numpy as np

from rewardkit.aggregation.base import fitted_annotators, softmax_rows
from rewardkit.aggregation.majority import vote_shares
from rewardkit.aggregation.table import TIE, Floats, K, VoteTable

EPS = 1e-10
"""Floor of probabilities before a log (crowd-kit's value), so a never-seen cell is not -inf."""


class DawidSkene:
    name = "dawid_skene"

    def __init__(self, n_iter: int = 500, tol: float = 1e-7, tie_class: bool = True) -> None:
        self.n_iter = n_iter
        self.tie_class = tie_class
        """False: the truth is always a side (a tie vote is one of the ways an annotator errs);
        the confusion is then 2x3 in effect, the tie row unused."""
        self.tol = tol
        """Stop when the largest change of any task's posterior is below this."""
        self.annotators: tuple[str, ...] = ()
        self.priors = np.full(K, 1.0 / K)
        self.confusion = np.zeros((0, K, K))
        """(annotators, true label, given label)."""
        self.iterations = 0

    def fit(self, table: VoteTable) -> DawidSkene:
        if not table.task.size:
            raise ValueError("no votes to fit a Dawid-Skene model on")
        self.annotators = table.annotators
        proba = vote_shares(table)
        if not self.tie_class:
            proba = proba + proba[:, TIE, None] * np.array([0.5, 0.5, -1.0])
        for iteration in range(1, self.n_iter + 1):
            self.iterations = iteration
            self._m_step(table, proba)
            new = self.predict_proba(table)
            change = float(np.abs(new - proba).max())
            proba = new
            if change < self.tol:
                break
        # No M-step after the last E-step: the parameters kept are the ones that give the
        # posterior returned (what crowd-kit's ``probas_`` is too).
        return self

    def _m_step(self, table: VoteTable, proba: Floats) -> None:
        self.priors = proba.mean(axis=0)  # without a tie class, P(tie) stays 0 from the start
        counts = np.zeros((len(table.annotators), K, K))
        # counts[j, k, l] += P(z_i = k) for each vote l of annotator j on task i
        np.add.at(counts, (table.annotator, slice(None), table.label), proba[table.task])  # type: ignore[arg-type]
        # A label the annotator never gave has probability 0 (its maximum likelihood, and what
        # crowd-kit gets by leaving the row out); a label they gave is floored at EPS.
        given = np.zeros((len(table.annotators), K), dtype=bool)
        given[table.annotator, table.label] = True
        counts = np.where(given[:, None, :], np.clip(counts, EPS, None), 0.0)
        self.confusion = counts / counts.sum(axis=2, keepdims=True)

    def predict_proba(self, table: VoteTable) -> Floats:
        who = fitted_annotators(table, self.annotators)
        log_post = np.tile(np.log(np.clip(self.priors, EPS, None)), (table.n_tasks, 1))
        np.add.at(
            log_post, table.task, np.log(np.clip(self.confusion[who, :, table.label], EPS, None))
        )
        if not self.tie_class:
            log_post[:, TIE] = -np.inf
        return softmax_rows(log_post)

    def reliability(self) -> Floats:
        """P(an annotator's label is the true one) = sum_k pi_k C_j[k, k], per annotator."""
        diagonal = np.einsum("jkk->jk", self.confusion)
        return np.asarray(diagonal @ self.priors, dtype=float)

    def parameters(self) -> dict[str, object]:
        return {
            "priors": np.round(self.priors, 6).tolist(),
            "confusion": {
                name: np.round(c, 6).tolist()
                for name, c in zip(self.annotators, self.confusion, strict=True)
            },
            "iterations": self.iterations,
        }
