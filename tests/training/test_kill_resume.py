"""SIGKILL at random moments (checkpoint writes included), resume each time: the final weights and
the data order are those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import tiny
import torch
import yaml
from safetensors.torch import load_file

from rewardkit.training import TrainConfig
from rewardkit.training.checkpoint import TMP_PREFIX, latest_checkpoint
from rewardkit.training.loop import train

KILLS = int(os.environ.get("REWARDKIT_KILLS", "20"))


def _config(model_dir: Path, out: Path) -> TrainConfig:
    # dropout on: the RNG states must be restored too
    return tiny.train_config(
        model_dir,
        out,
        synthetic_pairs=400,
        epochs=2,
        save_every=1,
        keep_last=2,
        resume=True,
        disable_dropout=False,
    )


def _steps_logged(out: Path) -> list[int]:
    path = out / "metrics.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip()]


def test_random_sigkills_then_resume_match_an_uninterrupted_run(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    reference = _config(tiny_bert_dir, tmp_path / "reference")
    train(reference)

    out = tmp_path / "killed"
    cfg_file = tmp_path / "killed.yaml"
    cfg_file.write_text(yaml.safe_dump(asdict(_config(tiny_bert_dir, out))))
    command = [sys.executable, "-m", "rewardkit.cli", "train", "--config", str(cfg_file)]
    rng = random.Random(0)
    kills, mid_write = 0, 0
    while kills < KILLS:
        before = len(_steps_logged(out))
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(_steps_logged(out)) <= before and child.poll() is None:
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.12))
        if child.poll() is not None:
            break  # finished before we could kill it
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        mid_write += any((out / "checkpoints").glob(f"{TMP_PREFIX}*"))
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    assert kills == KILLS, f"the run finished after {kills} kills; give it more steps"
    print(f"{kills} kills, {mid_write} of them during a checkpoint write")
    expected = load_file(tmp_path / "reference" / "model" / "model.safetensors")
    actual = load_file(out / "model" / "model.safetensors")
    assert max(float((expected[k] - actual[k]).abs().max()) for k in expected) == 0.0
    assert _steps_logged(out) == _steps_logged(tmp_path / "reference")  # no step lost or repeated
    last, reference_last = latest_checkpoint(out), latest_checkpoint(tmp_path / "reference")
    assert last is not None and reference_last is not None
    assert torch.equal(
        load_file(last / "rng.safetensors")["torch"],
        load_file(reference_last / "rng.safetensors")["torch"],
    )


def test_a_half_written_checkpoint_is_ignored_and_cleaned(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    cfg = _config(tiny_llama_dir, tmp_path / "run")
    cfg.max_steps, cfg.save_every = 6, 3
    train(cfg)
    partial = tmp_path / "run" / "checkpoints" / f"{TMP_PREFIX}00000009-123"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"\x00" * 10)  # what a kill mid-write leaves
    assert latest_checkpoint(tmp_path / "run").name == "step-00000006"  # type: ignore[union-attr]
    cfg.max_steps = 9
    train(cfg)
    assert not partial.exists()
    assert latest_checkpoint(tmp_path / "run").name == "step-00000009"  # type: ignore[union-attr]
