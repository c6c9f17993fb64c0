"""Reward models from human labels only, AI labels only, and both, on the same pairs with the same
settings, compared by `rewardkit eval` on held-out human pairs beside the length baselines.

    rewardkit data split ../shared/data/hh_rlhf_harmless/pairs.jsonl.gz --on_error skip \\
        --output_dir runs/feedback/split
    rewardkit label --constitution configs/constitutions/harmless.yaml --judge smollm2 \\
        --data runs/feedback/split/train.jsonl --sample 240 --output runs/feedback/hh-ai.jsonl
    python bench/ai_feedback_study.py --ai runs/feedback/hh-ai.jsonl \\
        --eval runs/feedback/split/eval.jsonl --out runs/feedback/study

1. The human file is the AI file's pairs with their human label back (kept as provenance in
   ``metadata.feedback.human_p_chosen``): the same pairs, in the same order.
2. Trains MiniLM three times with soft labels (`--labels soft`), the same settings, seed and
   number of steps: on the human file, on the AI file, and on both mixed with the AI labels
   weighted ``--ai-weight``: each pair once, with the label (human + w * AI) / (1 + w). For the
   soft Bradley-Terry loss, which is linear in the label, that is the same objective as both files
   with ``--data_weights 1 w`` (up to a constant factor) in half the steps. A model directory
   already there is kept (the study resumes).
3. `rewardkit eval` of the three models (and its longer/shorter/random baselines) on the held-out
   human pairs; prints accuracy with its 95% interval and the length-controlled accuracy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from rewardkit.data import read_pairs
from rewardkit.data.writers import write_records
from rewardkit.records import Pair


def human_twin(pair: Pair) -> Pair:
    feedback = dict(pair.metadata["feedback"])
    metadata = {k: v for k, v in pair.metadata.items() if k != "feedback"}
    return dataclasses.replace(
        pair,
        soft_label=feedback["human_p_chosen"],
        source=feedback.get("human_source") or "human",
        metadata=metadata,
    )


def mixed(human: Pair, ai: Pair, ai_weight: float) -> Pair:
    label = (human.p_chosen + ai_weight * ai.p_chosen) / (1 + ai_weight)
    return dataclasses.replace(ai, soft_label=label, source="mix:human+ai")


def rewardkit(*args: str) -> None:
    print("$ rewardkit", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "rewardkit.cli", *args], check=True)


def train(name: str, files: list[Path], weights: list[float], args: argparse.Namespace) -> Path:
    out: Path = args.out / name
    if (out / "model").exists():
        return out / "model"
    rewardkit(
        "train",
        "--model", "minilm",
        "--data", *map(str, files),
        "--data_weights", *map(str, weights),
        "--labels", "soft",
        "--eval_data", str(args.eval),
        "--epochs", str(args.epochs),
        "--batch_size", "16",
        "--lr", str(args.lr),
        "--max_length", "512",
        "--eval_every", "0",
        "--save_every", "0",
        "--threads", str(args.threads),
        "--seed", str(args.seed),
        "--output_dir", str(out),
    )  # fmt: skip
    return out / "model"


def summary(metrics: dict[str, Any], names: list[str]) -> list[str]:
    """One row per scorer; the models (named by their run, not their folder) come first."""
    lines = ["| scorer | accuracy (95% CI) | length-controlled |", "|---|---|---|"]
    for i, result in enumerate(metrics["results"]):
        acc = result["accuracy"]
        length = (result.get("length") or {}).get("split") or {}
        controlled = length.get("controlled")
        lines.append(
            f"| {names[i] if i < len(names) else result['scorer']} | {acc['value']:.3f} ({acc['low']:.3f}-{acc['high']:.3f}) | "
            + ("n/a" if controlled is None else f"{controlled:.3f}")
            + " |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ai", type=Path, required=True, help="`rewardkit label` output")
    parser.add_argument("--eval", type=Path, required=True, help="held-out human pairs")
    parser.add_argument("--out", type=Path, default=Path("runs/feedback/study"))
    parser.add_argument("--ai-weight", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    ai_pairs = read_pairs(args.ai)
    human_pairs = [human_twin(p) for p in ai_pairs]
    human, both = args.out / "human.jsonl", args.out / "both.jsonl"
    write_records(human_pairs, human)
    write_records(
        (mixed(h, a, args.ai_weight) for h, a in zip(human_pairs, ai_pairs, strict=True)), both
    )
    models = {
        "human": train("human", [human], [1.0], args),
        "ai": train("ai", [args.ai], [1.0], args),
        "both": train("both", [both], [1.0], args),
    }
    eval_dir = args.out / "eval"
    rewardkit(
        "eval", "--models", *map(str, models.values()),
        "--suites", str(args.eval), "--resamples", "1000", "--output", str(eval_dir),
    )  # fmt: skip
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    table = "\n".join(summary(metrics, list(models)))
    (args.out / "summary.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
