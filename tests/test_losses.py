from __future__ import annotations

import math

import pytest
import torch

from rewardkit.losses import (
    LOSSES,
    Outputs,
    Targets,
    bradley_terry_loss,
    centering_penalty,
    objective,
)


def test_bradley_terry_hand_computed() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    expected = (math.log1p(math.exp(-1.0)) + math.log(2.0)) / 2
    assert float(bradley_terry_loss(chosen, rejected)) == pytest.approx(expected, rel=1e-6)
    margin = torch.tensor([1.0, 0.0])  # the first pair now has to win by 1: loss log 2
    assert float(bradley_terry_loss(chosen, rejected, margin=margin)) == pytest.approx(
        math.log(2.0), rel=1e-6
    )


def test_pair_weights_scale_each_pairs_term() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    weights = torch.tensor([3.0, 0.0])  # the tie-valued second pair is switched off
    expected = 3.0 * math.log1p(math.exp(-1.0)) / 2
    loss = bradley_terry_loss(chosen, rejected, weights=weights)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_soft_labels_match_hard_at_one_and_prefer_equal_rewards_at_a_tie() -> None:
    chosen, rejected = torch.tensor([1.5, -0.3]), torch.tensor([0.2, 0.4])
    hard = bradley_terry_loss(chosen, rejected)
    assert float(bradley_terry_loss(chosen, rejected, torch.ones(2))) == pytest.approx(float(hard))
    diff = torch.linspace(-2, 2, 41, requires_grad=True)
    tie_loss = bradley_terry_loss(diff, torch.zeros(41), torch.full((41,), 0.5))
    (grad,) = torch.autograd.grad(tie_loss * 41, diff)
    assert float(grad[20]) == pytest.approx(0.0, abs=1e-6)  # minimum at equal rewards
    assert bool((grad[:20] < 0).all() and (grad[21:] > 0).all())


def test_soft_bradley_terry_matches_binary_cross_entropy() -> None:
    torch.manual_seed(0)
    chosen, rejected, p = torch.randn(64), torch.randn(64), torch.rand(64)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(chosen - rejected, p)
    assert float(bradley_terry_loss(chosen, rejected, p)) == pytest.approx(
        float(reference), rel=1e-5
    )


def test_centering_and_combined_objective() -> None:
    chosen, rejected = torch.tensor([1.0, 3.0]), torch.tensor([1.0, -1.0])
    assert float(centering_penalty(chosen, rejected)) == pytest.approx((4 + 4) / 2)
    interleaved = torch.stack([chosen, rejected], dim=1).reshape(-1, 1)
    out = Outputs(interleaved, interleaved[:, 0], interleaved)
    targets = Targets(p_chosen=torch.ones(2), margin=torch.zeros(2))
    combined = objective("bradley_terry", center_weight=0.1)(out, targets)
    assert float(combined) == pytest.approx(
        float(bradley_terry_loss(chosen, rejected)) + 0.4, rel=1e-6
    )


def test_ensemble_members_each_learn_the_preference() -> None:
    # two pairs, two members: the loss is the mean of each member's own Bradley-Terry loss
    values = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    out = Outputs(values, values.mean(dim=1), values)
    targets = Targets(p_chosen=torch.ones(2), margin=torch.zeros(2))
    member0 = bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    member1 = bradley_terry_loss(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 3.0]))
    assert float(LOSSES["bradley_terry"](out, targets)) == pytest.approx(
        float(member0 + member1) / 2, rel=1e-6
    )


def test_regression_leaves_missing_ratings_out() -> None:
    values = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    ratings = torch.tensor([[2.0, float("nan")], [3.0, 2.0]])
    out = Outputs(values, values.mean(dim=1), values.mean(dim=1, keepdim=True))
    # errors 1, 0, 2 over the three known ratings
    assert float(LOSSES["regression"](out, Targets(ratings=ratings))) == pytest.approx(5 / 3)


def test_step_bce_keeps_soft_labels_and_skips_unlabelled_steps() -> None:
    scores = torch.tensor([0.0, 2.0, -1.0])
    labels = torch.tensor([0.37, float("nan"), 0.0])
    out = Outputs(scores.unsqueeze(1), scores, scores.unsqueeze(1))
    expected = (
        -(0.37 * math.log(0.5) + 0.63 * math.log(0.5)) - math.log(1 - 1 / (1 + math.exp(1.0)))
    ) / 2
    loss = LOSSES["step_bce"](out, Targets(step_labels=labels))
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_a_loss_missing_its_targets_says_so() -> None:
    out = Outputs(torch.zeros(2, 1), torch.zeros(2), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="'step_bce' loss needs step labels"):
        LOSSES["step_bce"](out, Targets(p_chosen=torch.ones(1)))
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        objective("nope")
