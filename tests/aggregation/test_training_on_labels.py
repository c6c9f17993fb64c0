"""Training reads what aggregation writes: soft labels, confidence weights, label smoothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny

from rewardkit.cli import main
from rewardkit.records import Pair, Vote
from rewardkit.training import train
from rewardkit.training.examples import encode_examples, smoothed


def test_label_smoothing_pulls_targets_toward_a_tie() -> None:
    assert smoothed(1.0, 0.2) == pytest.approx(0.9)
    assert smoothed(0.5, 0.2) == 0.5  # a tie stays a tie
    model = tiny.reward_model()
    voted = Pair("p", "a", "b", votes=(Vote("x", "chosen"), Vote("y", "tie")))  # P = 3/4
    hard = encode_examples(model, [voted], 64, soft_labels=False, label_smoothing=0.2)
    soft = encode_examples(model, [voted], 64, soft_labels=True, label_smoothing=0.2)
    assert hard.examples[0].p_chosen == pytest.approx(0.9)
    assert soft.examples[0].p_chosen == pytest.approx(0.75 * 0.8 + 0.1)
    with pytest.raises(ValueError, match="label_smoothing"):
        encode_examples(model, [voted], 64, label_smoothing=1.5)


def test_votes_in_model_out(tmp_path: Path) -> None:
    votes, labelled = tmp_path / "votes.jsonl", tmp_path / "labelled.jsonl"
    assert (
        main(["data", "synth", "--n", "80", "--votes_per_pair", "5", "--output", str(votes)]) == 0
    )
    args = ["--method", "dawid_skene_sided", "--confidence_weights", "true", "--resamples", "10"]
    assert main(["data", "aggregate", str(votes), "--output", str(labelled), *args]) == 0
    model_dir = tmp_path / "tiny"
    tiny.reward_model().save(model_dir)
    cfg = tiny.train_config(
        model_dir, tmp_path / "run", data=[str(labelled)], labels="soft", label_smoothing=0.05
    )
    result = train(cfg)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert result.steps > 0 and metrics["gold_accuracy"] is not None
