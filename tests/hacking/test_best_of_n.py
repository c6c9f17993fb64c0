"""Best-of-n arithmetic against hand-worked values and brute force over every n-subset."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rewardkit.evaluation.metrics.selection import expected_best_of_n, subset_weights
from rewardkit.hacking.best_of_n import best_of_n_kl, fit_gao


def test_kl_of_best_of_n() -> None:
    assert best_of_n_kl([1, 2, 1024]) == pytest.approx(
        [0.0, math.log(2) - 0.5, math.log(1024) - 1023 / 1024]
    )
    with pytest.raises(ValueError, match="at least 1"):
        best_of_n_kl(0)


def test_estimator_by_hand() -> None:
    proxy, gold = [1.0, 2.0, 3.0], [10.0, 20.0, 30.0]
    # n=2: subsets {1,2} -> 20, {1,3} -> 30, {2,3} -> 30
    assert expected_best_of_n(proxy, gold, [1, 2, 3]) == pytest.approx([20.0, 80 / 3, 30.0])
    # a tie at the top: either member may be picked
    assert expected_best_of_n([1.0, 1.0], [0.0, 2.0], [2]) == pytest.approx([1.0])


def test_estimator_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    proxy, gold = rng.normal(size=8), rng.normal(size=8)
    for n in (1, 3, 5, 8):
        picks = [max(s, key=lambda i: proxy[i]) for s in itertools.combinations(range(8), n)]
        brute = float(np.mean(gold[picks]))
        assert expected_best_of_n(proxy, gold, [n])[0] == pytest.approx(brute)
    assert subset_weights(1000, 700).sum() == pytest.approx(1.0)  # no overflow at large N


def test_estimator_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        expected_best_of_n([1.0, math.nan], [0.0, 1.0], [1])
    with pytest.raises(ValueError, match=r"n must be in \[1, 2\]"):
        expected_best_of_n([1.0, 2.0], [0.0, 1.0], [3])


def test_gao_fit_recovers_the_form() -> None:
    kl = best_of_n_kl([1, 2, 4, 8, 16, 64, 256, 1024])
    d = np.sqrt(kl)
    fit = fit_gao(kl, d * (1.5 - 0.4 * d))
    assert (fit.alpha, fit.beta, fit.r2) == pytest.approx((1.5, 0.4, 1.0))
    assert fit.peak_kl == pytest.approx((1.5 / 0.8) ** 2)
    noisy = fit_gao(kl, d * (1.5 - 0.4 * d) + np.array([0.1, -0.1] * 4))
    assert 0.5 < noisy.r2 < 1.0
