from __future__ import annotations

import math

import pytest
import torch

from rewardkit.losses import bradley_terry, centering_penalty, pairwise_loss, soft_bradley_terry


def test_bradley_terry_hand_computed() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    expected = (math.log1p(math.exp(-1.0)) + math.log(2.0)) / 2
    assert float(bradley_terry(chosen, rejected)) == pytest.approx(expected, rel=1e-6)
    margin = torch.tensor([1.0, 0.0])  # the first pair now has to win by 1: loss log 2
    assert float(bradley_terry(chosen, rejected, margin)) == pytest.approx(math.log(2.0), rel=1e-6)


def test_soft_labels_match_hard_at_one_and_prefer_equal_rewards_at_a_tie() -> None:
    chosen, rejected = torch.tensor([1.5, -0.3]), torch.tensor([0.2, 0.4])
    hard = bradley_terry(chosen, rejected)
    assert float(soft_bradley_terry(chosen, rejected, torch.ones(2))) == pytest.approx(float(hard))
    diff = torch.linspace(-2, 2, 41, requires_grad=True)
    tie_loss = soft_bradley_terry(diff, torch.zeros(41), torch.full((41,), 0.5))
    (grad,) = torch.autograd.grad(tie_loss * 41, diff)
    assert float(grad[20]) == pytest.approx(0.0, abs=1e-6)  # minimum at equal rewards
    assert bool((grad[:20] < 0).all() and (grad[21:] > 0).all())


def test_soft_bradley_terry_matches_binary_cross_entropy() -> None:
    torch.manual_seed(0)
    chosen, rejected, p = torch.randn(64), torch.randn(64), torch.rand(64)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(chosen - rejected, p)
    assert float(soft_bradley_terry(chosen, rejected, p)) == pytest.approx(
        float(reference), rel=1e-5
    )


def test_centering_and_combined_objective() -> None:
    chosen, rejected = torch.tensor([1.0, 3.0]), torch.tensor([1.0, -1.0])
    assert float(centering_penalty(chosen, rejected)) == pytest.approx((4 + 4) / 2)
    combined = pairwise_loss(chosen, rejected, center_weight=0.1)
    assert float(combined) == pytest.approx(float(bradley_terry(chosen, rejected)) + 0.4, rel=1e-6)
