"""Ensemble aggregates by hand, and member scores read from a real ensemble head."""

from __future__ import annotations

import numpy as np
import pytest
import tiny

from rewardkit.hacking.ensemble import aggregate, member_scores


def test_aggregates_by_hand() -> None:
    members = [[1.0, 3.0], [2.0, 2.0]]
    assert aggregate(members, "mean") == pytest.approx([2.0, 2.0])
    assert aggregate(members, "min") == pytest.approx([1.0, 2.0])
    # var([1, 3], ddof=1) = 2: 2 - 0.5 * 2 = 1
    assert aggregate(members, "uncertainty") == pytest.approx([1.0, 2.0])
    assert aggregate(members, "uncertainty", lam=2.0) == pytest.approx([-2.0, 2.0])
    with pytest.raises(ValueError, match="at least 2 members"):
        aggregate([[1.0]], "uncertainty")
    with pytest.raises(ValueError, match="unknown aggregate 'max'"):
        aggregate(members, "max")  # type: ignore[arg-type]


def test_member_scores_of_an_ensemble_head_and_of_scalar_models() -> None:
    ensemble = tiny.reward_model("bert", head="ensemble", objectives=["a", "b", "c"]).eval()
    scalar = tiny.reward_model("bert", seed=1).eval()
    prompts, responses = ["What is 2 plus 2?"] * 2, ["2 plus 2 is 4.", "It is five, obviously."]
    scores = member_scores([ensemble, scalar], prompts, responses)
    assert scores.shape == (2, 4)
    result = ensemble.score(prompts, responses)
    spreads = [s for s in result.spread or [] if s is not None]
    # the uncertainty aggregate's variance is the square of the spread the server returns
    assert np.var(scores[:, :3], axis=1, ddof=1) == pytest.approx([s**2 for s in spreads], rel=1e-5)
    assert scores[:, 3] == pytest.approx(scalar.score(prompts, responses).normalized)
