from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tiny
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

from rewardkit.cli import main
from rewardkit.models import RewardModel
from rewardkit.models.card import hub_card
from rewardkit.models.inputs import ENCODER_LAYOUT
from rewardkit.training import LoraConfig, TrainConfig, loop
from rewardkit.training.checkpoint import save_checkpoint
from rewardkit.training.loop import train


def config(model_dir: Path, out: Path, **overrides: Any) -> TrainConfig:
    return tiny.train_config(
        model_dir, out, **{"eval_every": 10, "save_every": 5, "keep_last": 2, **overrides}
    )


def final_weights(out: Path) -> dict[str, torch.Tensor]:
    return load_file(out / "model" / "model.safetensors")


def test_training_learns_and_leaves_a_complete_run(tiny_bert_dir: Path, tmp_path: Path) -> None:
    cfg = config(tiny_bert_dir, tmp_path / "run", epochs=3)
    result = train(cfg)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == list(range(1, result.steps + 1))
    first = sum(x["train/loss"] for x in lines[:10]) / 10
    last = sum(x["train/loss"] for x in lines[-10:]) / 10
    assert last < first - 0.05  # it learns
    assert "eval/accuracy" in lines[9] and "eval/gold_accuracy" in lines[-1]
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert result.steps % 5 != 0  # the last step saves too, beside the multiples of save_every
    assert checkpoints == [f"step-{result.steps // 5 * 5:08d}", f"step-{result.steps:08d}"]
    info = json.loads((result.model_dir / "rewardkit.json").read_text())
    assert info["std"] > 0 and info["data"]["synthetic"]["pairs"] == 240
    assert (
        info["input_style"] == ENCODER_LAYOUT
        and "as one text" in (result.model_dir / "README.md").read_text()
    )
    assert (result.model_dir / "README.md").read_text().startswith("# Reward model")
    assert (tmp_path / "run" / "config.yaml").exists()
    assert AutoModelForSequenceClassification.from_pretrained(result.model_dir).num_labels == 1


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_resume_gives_the_uninterrupted_weights(
    arch: str,
    tiny_bert_dir: Path,
    tiny_llama_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model_dir = tiny_bert_dir if arch == "bert" else tiny_llama_dir  # BERT has dropout: RNG matters
    train(config(model_dir, tmp_path / "whole", epochs=2, save_every=0, disable_dropout=False))

    def crash_after_step_15(*args: Any, **kwargs: Any) -> Path:
        path = save_checkpoint(*args, **kwargs)
        if path.name == f"step-{15:08d}":
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(loop, "save_checkpoint", crash_after_step_15)
    with pytest.raises(KeyboardInterrupt):  # mid-epoch (24 steps per epoch)
        train(config(model_dir, tmp_path / "part", epochs=2, disable_dropout=False))
    monkeypatch.undo()
    train(config(model_dir, tmp_path / "part", epochs=2, resume=True, disable_dropout=False))
    a, b = final_weights(tmp_path / "whole"), final_weights(tmp_path / "part")
    assert a.keys() == b.keys()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) == 0.0


def test_lora_trains_and_saves_the_head(tiny_llama_dir: Path, tmp_path: Path) -> None:
    cfg = config(tiny_llama_dir, tmp_path / "lora", lora=LoraConfig(r=4, alpha=8), max_steps=10)
    result = train(cfg)
    initial = RewardModel.from_backbone(str(tiny_llama_dir))
    trained = RewardModel.load(result.model_dir)
    head_before = initial.network.score.weight
    head_after = trained.network.score.weight
    assert not torch.allclose(head_before, head_after)  # the head was trained and saved
    body_changed = [
        k
        for k, v in trained.network.state_dict().items()
        if "layers" in k and not torch.equal(v, initial.network.state_dict()[k])
    ]
    assert body_changed  # LoRA deltas were merged into the saved weights
    assert not any("lora" in k for k in trained.network.state_dict())


def test_train_and_score_from_the_command_line(
    tiny_bert_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli"
    assert (
        main(
            [
                "train",
                "--model",
                str(tiny_bert_dir),
                "--synthetic_pairs",
                "120",
                "--batch_size",
                "8",
                "--output_dir",
                str(out),
                "--precision",
                "fp32",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "accuracy against the gold reward" in printed and "sample scores" in printed
    data = tmp_path / "pairs.jsonl"
    assert main(["data", "synth", "--n", "20", "--output", str(data)]) == 0
    assert (
        main(
            [
                "score",
                "--data",
                str(data),
                "--model",
                str(out / "model"),
                "--output",
                str(tmp_path / "scores.jsonl"),
            ]
        )
        == 0
    )
    rows = [json.loads(x) for x in (tmp_path / "scores.jsonl").read_text().splitlines()]
    assert len(rows) == 20 and rows[0]["id"] == "synth-0-0"
    assert isinstance(rows[0]["chosen"]["raw"], float) and rows[0]["chosen"]["too_long"] is False


def test_a_model_loaded_for_scoring_in_bf16_trains_in_fp32(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    RewardModel.from_backbone(str(tiny_bert_dir)).save(tmp_path / "start")
    scoring = RewardModel.load(tmp_path / "start", precision="bf16")
    assert scoring.weight_dtype == torch.bfloat16
    start = {k: v.float().clone() for k, v in scoring.network.state_dict().items()}  # copies
    train(config(tiny_bert_dir, tmp_path / "run", epochs=1, save_every=0), scoring)
    trained = final_weights(tmp_path / "run")
    assert {w.dtype for w in trained.values()} == {torch.float32}
    assert not torch.equal(trained["classifier.weight"], start["classifier.weight"])


def test_each_eval_file_is_reported_on_its_own(
    tiny_bert_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two eval files both called eval.jsonl, the second the first with its sides swapped: the
    parts take their directories' names, and their accuracies and margins mirror each other."""
    rows = [
        {"prompt": f"question {i}?", "chosen": f"a careful answer, number {i}", "rejected": "no"}
        for i in range(12)
    ]
    swapped = [{**row, "chosen": row["rejected"], "rejected": row["chosen"]} for row in rows]
    for name, part in (("hh", rows), ("oasst", swapped)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    out = tmp_path / "run"
    argv = ["train", "--model", str(tiny_bert_dir), "--synthetic_pairs", "48", "--batch_size", "8"]
    argv += [
        "--eval_data",
        str(tmp_path / "hh" / "eval.jsonl"),
        str(tmp_path / "oasst" / "eval.jsonl"),
    ]
    argv += ["--eval_every", "3", "--output_dir", str(out), "--precision", "fp32", "--threads", "1"]
    assert main(argv) == 0

    logged = json.loads((out / "metrics.jsonl").read_text().splitlines()[2])
    assert logged["eval/examples"] == 24 and logged["eval/hh/eval/examples"] == 12
    hh, oasst = (
        {k.split("/")[-1]: v for k, v in logged.items() if k.startswith(f"eval/{n}/eval/")}
        for n in ("hh", "oasst")
    )
    assert hh["accuracy"] + oasst["accuracy"] == pytest.approx(1.0)
    assert hh["margin"] == pytest.approx(-oasst["margin"], abs=1e-5) and hh["margin"] != 0
    assert logged["eval/accuracy"] == pytest.approx(0.5)
    final = json.loads((out / "metrics.json").read_text())
    assert final["parts"]["oasst/eval"]["examples"] == 12
    info = json.loads((out / "model" / "rewardkit.json").read_text())
    assert info["data"]["eval"]["parts"]["hh/eval"]["rows_read"] == 12
    printed = capsys.readouterr().out
    assert "\n  hh/eval: 12  accuracy: " in printed and "\n  oasst/eval: 12  accuracy: " in printed
    card = (out / "model" / "README.md").read_text()
    assert "| hh/eval accuracy | " in card and "| oasst/eval examples | 12 |" in card
    assert "parts" not in card.split("## Held-out metrics")[1]
    published = hub_card(out / "model", "me/rm")
    assert "\n- hh/eval: " in published and " on 12 held-out examples (95% Wilson" in published
