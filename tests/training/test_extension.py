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
        self.weights: list[float] = []
        self.calls = 0

    def __call__(self, out: Outputs, targets: Targets) -> torch.Tensor:
        chosen, rejected = out.sides()
        assert targets.p_chosen is not None
        if torch.is_grad_enabled():  # training steps, not held-out evaluation
            self.calls += 1
            self.p_chosen += targets.p_chosen.tolist()
            n = len(targets.p_chosen)
            self.weights += [1.0] * n if targets.weights is None else targets.weights.tolist()
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


def test_each_file_weight_multiplies_its_pairs_own_weight(
    tiny_bert_dir: Path, tmp_path: Path, write_jsonl: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def rows(tag: str, weight: float | None) -> list[dict[str, object]]:
        extra = {} if weight is None else {"weight": weight}
        return [
            {"prompt": f"{tag} {i}?", "chosen": f"yes {i}", "rejected": f"no {i}", **extra}
            for i in range(16)
        ]

    human = write_jsonl(rows("human", None), "human.jsonl")  # type: ignore[operator]
    judged = write_jsonl(rows("judge", 0.5), "judged.jsonl")  # type: ignore[operator]
    loss = RecordingLoss()
    monkeypatch.setitem(LOSSES, "recording", loss)
    cfg = tiny.train_config(
        tiny_bert_dir,
        tmp_path / "run",
        data=[str(human), str(judged)],
        data_weights=[2.0, 0.4],
        eval_data=[str(human)],
        loss="recording",
    )
    result = train(cfg)
    assert {round(w, 6) for w in loss.weights} == {2.0, 0.2}
    assert result.provenance["sources"][str(judged)]["weight"] == 0.4


def test_data_weights_must_match_the_files(tiny_bert_dir: Path, tmp_path: Path) -> None:
    cfg = tiny.train_config(tiny_bert_dir, tmp_path, data=["a.jsonl"], data_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="2 weights for 1 data files"):
        train(cfg)
