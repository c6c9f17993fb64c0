"""Multi-objective scorers: how each objective ranks the pairs, and how the objectives move
together (and with response length): a head whose objectives all correlate at 0.99 has learned
one thing under K names; one that correlates with length has learned verbosity."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rewardkit.evaluation.metrics.accuracy import pairwise_correct
from rewardkit.evaluation.metrics.arrays import Floats
from rewardkit.evaluation.metrics.length import pearson


def objective_accuracy(
    chosen: Mapping[str, Floats], rejected: Mapping[str, Floats]
) -> dict[str, float]:
    """Per objective, the share of pairs whose chosen response scores strictly higher (an
    unscored side counts wrong, as for the score)."""
    return {name: float(pairwise_correct(chosen[name], rejected[name]).mean()) for name in chosen}


def correlation_matrix(columns: Mapping[str, Floats]) -> dict[str, dict[str, float]]:
    """Pearson's r between every two columns over the rows where both are finite (NaN where a
    column is constant or fewer than two rows remain)."""
    out: dict[str, dict[str, float]] = {}
    for a, x in columns.items():
        out[a] = {}
        for b, y in columns.items():
            ok = np.isfinite(x) & np.isfinite(y)
            out[a][b] = pearson(x[ok], y[ok])
    return out
