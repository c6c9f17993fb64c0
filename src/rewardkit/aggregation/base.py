"""What every label model shares: the ``fit`` / ``predict_proba`` protocol and annotator lookup.

A label model is fitted on a vote table and then gives, for the tasks of any table whose
annotators it has seen (the training table or new tasks: unlike crowd-kit's transductive
``fit_predict_proba``), a (tasks, 3) matrix of P(chosen), P(rejected), P(tie).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from rewardkit.aggregation.table import Floats, Ints, VoteTable


class LabelModel(Protocol):
    name: str
    annotators: tuple[str, ...]
    """The annotators seen by ``fit``, in the order of the model's per-annotator parameters."""

    def fit(self, table: VoteTable) -> LabelModel: ...

    def predict_proba(self, table: VoteTable) -> Floats: ...

    def parameters(self) -> dict[str, object]:
        """The fitted parameters as JSON-ready values (provenance written beside the labels)."""
        ...


def fitted_annotators(table: VoteTable, annotators: tuple[str, ...]) -> Ints:
    """Each row's annotator as an index into a fitted model's ``annotators``; an annotator the
    model never saw is an error, since it has no parameters to judge the vote by."""
    if table.annotators == annotators:
        return table.annotator
    index = {name: i for i, name in enumerate(annotators)}
    used = {table.annotators[i] for i in np.unique(table.annotator)}
    unseen = sorted(used - index.keys())
    if unseen:
        raise ValueError(f"annotators not seen when the label model was fitted: {unseen}")
    lookup = np.array([index.get(name, -1) for name in table.annotators], dtype=np.intp)
    return lookup[table.annotator]


def normalize_rows(x: Floats) -> Floats:
    return np.asarray(x / x.sum(axis=1, keepdims=True), dtype=float)


def softmax_rows(log_x: Floats) -> Floats:
    """Rows of exp(log_x) normalised, computed stably (the max of each row taken out first)."""
    return normalize_rows(np.exp(log_x - log_x.max(axis=1, keepdims=True)))
