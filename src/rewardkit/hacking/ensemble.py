"""Conservative aggregation of an ensemble's members (Coste et al. 2023, "Reward Model Ensembles
Help Mitigate Overoptimization").

Members are the M outputs of an ``ensemble`` head (several heads on one backbone) or M
independently trained models scored side by side; either way an (N, M) array:

- ``mean``: the plain average (what an ``ensemble`` head's score is);
- ``min``: worst-case optimisation, the most pessimistic member;
- ``uncertainty``: uncertainty-weighted optimisation, mean - lambda * variance across members
  (Coste et al. use lambda = 0.5 for best-of-n).

The variance uses ddof=1, so ``sqrt`` of it is the ``spread`` the scorer and the server return.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from rewardkit.records import Text
from rewardkit.scoring import BATCH_TOKENS

if TYPE_CHECKING:  # the aggregates are plain numpy: importing them loads no torch
    from rewardkit.models.reward_model import RewardModel

Aggregate = Literal["mean", "min", "uncertainty"]
AGGREGATES: tuple[Aggregate, ...] = ("mean", "min", "uncertainty")
COSTE_LAMBDA = 0.5
"""Coste et al.'s uncertainty weight for best-of-n."""


def aggregate(
    members: npt.ArrayLike, how: Aggregate = "mean", lam: float = COSTE_LAMBDA
) -> npt.NDArray[np.float64]:
    """(N,) scores from (N, M) member scores."""
    values = np.asarray(members, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] < 1:
        raise ValueError(f"members must be (N, M) with M >= 1, got shape {values.shape}")
    if how == "mean":
        return np.asarray(values.mean(axis=1), dtype=np.float64)
    if how == "min":
        return np.asarray(values.min(axis=1), dtype=np.float64)
    if how == "uncertainty":
        if values.shape[1] < 2:
            raise ValueError("the uncertainty-weighted aggregate needs at least 2 members")
        return np.asarray(values.mean(axis=1) - lam * values.var(axis=1, ddof=1), dtype=np.float64)
    raise ValueError(f"unknown aggregate {how!r}; known: {', '.join(AGGREGATES)}")


def member_scores(
    models: Sequence[RewardModel],
    prompts: Sequence[Text],
    responses: Sequence[Text],
    batch_tokens: int = BATCH_TOKENS,
    progress: bool = False,
) -> npt.NDArray[np.float64]:
    """(N, M) member scores: each ensemble head's members, or one column per scalar model (its
    normalised score, so independently trained members share a scale). NaN where an item has
    no score (over the length limit)."""
    columns: list[npt.NDArray[np.float64]] = []
    for model in models:
        result = model.score(prompts, responses, batch_tokens, progress)
        if model.info.head == "ensemble" and result.objectives is not None:
            names = model.info.objectives
            rows = [
                [math.nan] * len(names) if o is None else [o[n] for n in names]
                for o in result.objectives
            ]
            columns.append((np.asarray(rows, dtype=np.float64) - model.info.mean) / model.info.std)
        else:
            values = [math.nan if s is None else s for s in result.normalized]
            columns.append(np.asarray(values, dtype=np.float64)[:, None])
    return np.concatenate(columns, axis=1)
