"""Step labels as the training loop sees them: a soft label is trained on as the same float it
was read as, and PRM800K's neutral becomes what ``neutral`` says."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import tiny
import torch

from rewardkit.data import read_records
from rewardkit.losses import LOSSES, Outputs, Targets, step_bce
from rewardkit.records import StepTrace
from rewardkit.training.examples import encode_examples, targets
from rewardkit.training.loop import train

TRL_ROWS = [
    {"prompt": "2 + 2?", "completions": ["2 + 2 = 4", "so 4"], "labels": [0.37, True]},
    {"prompt": "3 + 3?", "completions": ["3 + 3 = 7"], "labels": [0.0]},
]
PRM800K_ROWS = [
    {"problem": "P", "prior_steps": [], "step": "s1", "rating": 1},
    {"problem": "P", "prior_steps": ["s1"], "step": "s2", "rating": 0},
    {"problem": "P", "prior_steps": ["s1", "s2"], "step": "s3", "rating": -1},
]


class RecordingStepLoss:
    """step_bce that keeps every step target of the training steps it computes."""

    def __init__(self) -> None:
        self.targets: list[float] = []

    def __call__(self, out: Outputs, targets: Targets) -> torch.Tensor:
        if torch.is_grad_enabled():  # training steps, not the held-out evaluation
            assert targets.step_labels is not None
            self.targets += targets.step_labels.tolist()
        return step_bce(out, targets)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_soft_labels_and_neutral_reach_the_loss_as_configured(
    tiny_bert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [str(_write(tmp_path / "trl.jsonl", TRL_ROWS))]
    files.append(str(_write(tmp_path / "prm800k.jsonl", PRM800K_ROWS)))
    loss = RecordingStepLoss()
    monkeypatch.setitem(LOSSES, "recording_step_bce", loss)
    config = tiny.train_config(
        tiny_bert_dir,
        tmp_path / "run",
        head="steps",
        loss="recording_step_bce",
        neutral="negative",
        data=files,
        eval_data=files,
        batch_size=3,  # every trace in the one step
        max_steps=1,
    )
    train(config)
    # 0.37 in, 0.37 trained on (TRL casts soft labels to int); PRM800K's neutral s2 is 0 here
    assert sorted(loss.targets) == pytest.approx([0.0, 0.0, 0.0, 0.37, 1.0, 1.0], abs=1e-7)


@pytest.mark.parametrize(("neutral", "expected"), [("positive", 1.0), ("unlabelled", math.nan)])
def test_neutral_targets(tmp_path: Path, neutral: str, expected: float) -> None:
    model = tiny.reward_model("bert", head="steps", objectives=["step"])
    records = list(read_records(_write(tmp_path / "p.jsonl", PRM800K_ROWS)))
    assert all(isinstance(r, StepTrace) for r in records)
    encoded = encode_examples(model, records, 512, neutral=neutral)  # type: ignore[arg-type]
    labels = targets(encoded.examples).step_labels
    assert labels is not None
    assert labels.tolist() == pytest.approx([1.0, expected, 0.0], nan_ok=True)
