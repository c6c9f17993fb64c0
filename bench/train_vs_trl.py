"""rewardkit against TRL's RewardTrainer on the same pairs, model and hyper-parameters.

    python bench/train_vs_trl.py --data ../shared/data/hh_rlhf_harmless/pairs.jsonl.gz

Both train the same backbone (MiniLM by default) on the same prompt-disjoint 80/20 split, with
the same learning rate, warm-up, batch, epochs, max length, precision and seed; both leave out
pairs over the max length (TRL silently, rewardkit reports them). Prints held-out accuracy,
pairs/s and wall time of each, next to the "shorter wins" / "longer wins" heuristics. Needs the
bench extra: pip install -c constraints.txt -e ".[bench]".
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from rewardkit.data import is_eval, read_pairs, write_records
from rewardkit.models.backbones import resolve_backbone
from rewardkit.records import Pair, render_text
from rewardkit.training import TrainConfig
from rewardkit.training.loop import train
from rewardkit.training.setup import resolve_precision


def heuristics(pairs: list[Pair]) -> dict[str, float]:
    lengths = [(len(render_text(p.chosen)), len(render_text(p.rejected))) for p in pairs]
    return {
        "shorter wins": sum(c < r for c, r in lengths) / len(lengths),
        "longer wins": sum(c > r for c, r in lengths) / len(lengths),
    }


def run_rewardkit(
    train_file: Path, eval_file: Path, args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    cfg = TrainConfig(
        model=args.model,
        data=[str(train_file)],
        eval_data=[str(eval_file)],
        max_length=args.max_length,
        batch_size=args.batch_size,
        lr=args.lr,
        epochs=args.epochs,
        warmup_ratio=args.warmup_ratio,
        seed=args.seed,
        eval_every=0,
        save_every=0,
        output_dir=str(out),
        precision=args.precision,
    )
    start = time.perf_counter()
    result = train(cfg)
    seconds = time.perf_counter() - start
    trained = result.provenance["train_pairs"] - result.provenance["too_long"]["train"]
    return {
        "accuracy": result.eval.accuracy,
        "eval pairs": result.eval.pairs,
        "train pairs": trained,
        "seconds": seconds,
        "pairs/s": trained * args.epochs / seconds,
    }


def run_trl(
    train_pairs: list[Pair], eval_pairs: list[Pair], args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    import datasets
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer  # type: ignore[attr-defined]

    path = resolve_backbone(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)

    def table(pairs: list[Pair]) -> Any:
        return datasets.Dataset.from_list(
            [
                {
                    "prompt": render_text(p.prompt),
                    "chosen": render_text(p.chosen),
                    "rejected": render_text(p.rejected),
                }
                for p in pairs
            ]
        )

    bf16 = resolve_precision(args.precision) == "bf16"
    config = RewardConfig(
        output_dir=str(out),
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        num_train_epochs=args.epochs,
        learning_rate=args.lr,
        warmup_steps=args.warmup_ratio,
        max_length=args.max_length,
        seed=args.seed,
        bf16=bf16,
        report_to="none",
        save_strategy="no",
        logging_steps=10,
        eos_token=tokenizer.eos_token or tokenizer.sep_token,
        use_cpu=True,
    )
    trainer = RewardTrainer(
        model=model,
        args=config,
        train_dataset=table(train_pairs),
        eval_dataset=table(eval_pairs),
        processing_class=tokenizer,
    )
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    metrics = trainer.evaluate()
    trained = len(trainer.train_dataset)  # type: ignore[arg-type]
    return {
        "accuracy": metrics["eval_accuracy"],
        "eval pairs": len(trainer.eval_dataset),  # type: ignore[arg-type]
        "train pairs": trained,
        "seconds": seconds,
        "pairs/s": trained * args.epochs / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--data",
        default=str(
            Path(__file__).resolve().parents[2]
            / "shared"
            / "data"
            / "hh_rlhf_harmless"
            / "pairs.jsonl.gz"
        ),
    )
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["rewardkit", "trl"], default=None)
    args = parser.parse_args()

    pairs = read_pairs(args.data, on_error="skip")
    held = [p for p in pairs if is_eval(p, 0.2, args.seed)]
    kept = [p for p in pairs if not is_eval(p, 0.2, args.seed)]
    print(f"{len(pairs)} pairs: {len(kept)} train, {len(held)} eval (prompt-disjoint)")
    print("eval heuristics: " + ", ".join(f"{k} {v:.3f}" for k, v in heuristics(held).items()))
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_records(kept, root / "train.jsonl")
        write_records(held, root / "eval.jsonl")
        if args.only in (None, "rewardkit"):
            results["rewardkit"] = run_rewardkit(
                root / "train.jsonl", root / "eval.jsonl", args, root / "rk"
            )
        if args.only in (None, "trl"):
            results["trl"] = run_trl(kept, held, args, root / "trl")
    print(
        f"\n{'':<12}{'accuracy':>10}{'eval pairs':>12}{'train pairs':>13}{'pairs/s':>9}{'seconds':>9}"
    )
    for name, r in results.items():
        print(
            f"{name:<12}{r['accuracy']:>10.3f}{r['eval pairs']:>12}{r['train pairs']:>13}"
            f"{r['pairs/s']:>9.2f}{r['seconds']:>9.0f}"
        )
    if len(results) == 2:
        print(
            f"\naccuracy rewardkit - trl: {results['rewardkit']['accuracy'] - results['trl']['accuracy']:+.3f}"
            f"; speed ratio rewardkit / trl: {results['rewardkit']['pairs/s'] / results['trl']['pairs/s']:.2f}"
        )


if __name__ == "__main__":
    main()
