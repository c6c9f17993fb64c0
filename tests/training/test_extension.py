"""Plug-ins from outside the package: a loss and a data format registered by user code train
through the one loop; and soft labels on voted pairs are the vote share the loop trains on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny
import torch
from toy_plugins import TOY_FORMAT_NAME, register_toy_format, write_toy_rows

from rewardkit.losses import LOSSES, Outputs, Targets
from rewardkit.training.loop import train


class RecordingLoss:
    """A hinge loss on the score gap that also records the targets the loop hands it."""

    def __init__(self) -> None:
        self.p_chosen: list[float] = []
        self.calls = 0

    def __call__(self, out: Outputs, targets: Targets) -> torch.Tensor:
        chosen, rejected = out.sides()
        assert targets.p_chosen is not None
        if torch.is_grad_enabled():  # training steps, not held-out evaluation
            self.calls += 1
            self.p_chosen += targets.p_chosen.tolist()
        return torch.relu(1.0 - (chosen - rejected)).mean()


def test_a_toy_loss_and_a_toy_format_from_outside_train(
    tiny_bert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_toy_format(monkeypatch)
    loss = RecordingLoss()
    monkeypatch.setitem(LOSSES, "toy_hinge", loss)
    data = write_toy_rows(tmp_path / "toy.jsonl", 48)
    cfg = tiny.train_config(
        tiny_bert_dir, tmp_path / "run", data=[str(data)], loss="toy_hinge", epochs=2
    )
    result = train(cfg)
    assert result.provenance["formats"] == {str(data): TOY_FORMAT_NAME}
    assert loss.calls == result.steps > 0
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["eval/loss"] == pytest.approx(result.eval.loss)  # evaluated with the toy loss
    assert lines[-1]["train/loss"] < lines[0]["train/loss"]


VOTES = {  # verdicts from the chosen side's point of view -> the vote share, ties a half
    ("chosen", "chosen", "rejected"): 2 / 3,
    ("chosen", "tie"): 0.75,
    ("chosen", "chosen", "chosen", "chosen"): 1.0,
    ("tie", "tie"): 0.5,
}


@pytest.mark.parametrize(("labels", "expected"), [("soft", set(VOTES.values())), ("hard", {1.0})])
def test_soft_labels_on_voted_pairs_train_on_the_vote_share(
    tiny_bert_dir: Path,
    tmp_path: Path,
    write_jsonl: object,
    monkeypatch: pytest.MonkeyPatch,
    labels: str,
    expected: set[float],
) -> None:
    rows = []
    for i in range(32):
        verdicts = list(VOTES)[i % len(VOTES)]
        rows.append(
            {
                "prompt": f"Question {i}: what is {i} + {i}?",
                "chosen": f"It is {2 * i}.",
                "rejected": f"Maybe {2 * i + 1}, who knows.",
                "votes": [{"annotator": f"a{k}", "verdict": v} for k, v in enumerate(verdicts)],
            }
        )
    data = write_jsonl(rows)  # type: ignore[operator]
    loss = RecordingLoss()
    monkeypatch.setitem(LOSSES, "recording", loss)
    cfg = tiny.train_config(
        tiny_bert_dir,
        tmp_path / "run",
        data=[str(data)],
        eval_data=[str(data)],
        loss="recording",
        labels=labels,
    )
    train(cfg)
    assert {round(p, 6) for p in loss.p_chosen} == {round(p, 6) for p in expected}
