"""`accelerate launch --num_processes 2` on CPU (gloo) equals one process with the same global batch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import tiny
import yaml
from safetensors.torch import load_file

from rewardkit.training import TrainConfig


def _run(cfg: TrainConfig, path: Path, processes: int) -> dict[str, object]:
    path.write_text(yaml.safe_dump(asdict(cfg)))
    launch = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_machines",
        "1",
        "--num_processes",
        str(processes),
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "rewardkit.cli",
        "train",
        "--config",
        str(path),
    ]
    if processes == 1:
        launch = [sys.executable, "-m", "rewardkit.cli", "train", "--config", str(path)]
    done = subprocess.run(launch, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return load_file(Path(cfg.output_dir) / "model" / "model.safetensors")  # type: ignore[return-value]


def test_two_processes_match_one(tiny_llama_dir: Path, tmp_path: Path) -> None:
    def config(name: str) -> TrainConfig:
        return tiny.train_config(tiny_llama_dir, tmp_path / name, synthetic_pairs=200, grad_accum=2)

    one = _run(config("one"), tmp_path / "one.yaml", 1)
    two = _run(config("two"), tmp_path / "two.yaml", 2)
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["processes"] == 2
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)  # type: ignore[operator]
    print(f"two processes vs one: max abs weight difference {worst:.2e}")
    assert worst < 1e-5, worst
