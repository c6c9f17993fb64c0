"""rewardkit against TRL's RewardTrainer: same pairs, model, precision, batch, optimizer and lr.

    python bench/train_vs_trl.py                       # MiniLM and a random 13M Llama, 3 seeds
    python bench/train_vs_trl.py --backbones minilm --seeds 0 --limit 400

For each backbone and seed, runs alternate (rewardkit, TRL as an expert tunes it, TRL's defaults),
each in a fresh process (so peak RSS is its own), on the same prompt-disjoint 80/20 split of the
shared hh-rlhf harmless pairs, with the same learning rate (1e-4), warm-up, batch (8), epochs,
max length (512), precision and seed. "Tuned" TRL turns gradient checkpointing off (TRL's
default is on) and groups batches by length; the defaults keep both as TRL ships them. All leave
out training pairs over the max length (TRL silently, rewardkit reports them); the held-out pairs
are those that fit in every layout, so each trainer is scored on the same pairs. Prints per
backbone: medians of pairs/s, real tokens/s, padding fraction (TRL's counted from its own
batches), peak RSS and MFU (6 x non-embedding parameters x real tokens/s over a bf16/fp32 matmul
peak measured in the same process); held-out accuracy as the mean over seeds and each seed; then
rewardkit's ratios to each TRL. Needs the bench extra: pip install -c constraints.txt -e ".[bench]".
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rewardkit.data import is_eval, read_pairs, write_records
from rewardkit.models.backbones import load_tokenizer, resolve_backbone
from rewardkit.records import Pair, render_text
from rewardkit.training import TrainConfig
from rewardkit.training.loop import train
from rewardkit.training.setup import resolve_precision

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def random_llama(path: Path) -> str:
    """A random ~13M-parameter Llama with the MiniLM WordPiece vocabulary, saved as a checkpoint."""
    import transformers

    tokenizer = load_tokenizer("minilm")
    tokenizer.eos_token = "[SEP]"
    config = transformers.LlamaConfig(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        hidden_size=256,
        num_hidden_layers=6,
        num_attention_heads=4,
        num_key_value_heads=4,
        intermediate_size=768,
        max_position_embeddings=1024,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    network = transformers.LlamaForSequenceClassification(config)  # type: ignore[no-untyped-call]
    network.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def matmul_peak(bf16: bool, seconds: float = 1.5) -> float:
    dtype = torch.bfloat16 if bf16 else torch.float32
    a, b = torch.randn(2048, 2048, dtype=dtype), torch.randn(2048, 2048, dtype=dtype)
    a @ b
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        n += 1
    return 2 * 2048**3 * n / (time.perf_counter() - start)


def non_embedding_params(model: Any) -> int:
    return sum(p.numel() for n, p in model.named_parameters() if "embed" not in n)


def non_embedding_params_on_disk(path: Path) -> int:
    """Counted from the file's header, so measuring adds nothing to the peak memory."""
    from safetensors import safe_open

    total = 0
    with safe_open(str(path), "pt") as f:
        for name in f.keys():  # noqa: SIM118
            if "embed" not in name:
                shape = f.get_slice(name).get_shape()
                total += int(torch.Size(shape).numel())
    return total


def _trl_batches(trainer: Any) -> tuple[int, int]:
    """Real and padded token counts of one pass over TRL's own training batches (its sampler and
    collator, so group_by_length shows), which it does not log."""
    real = slots = 0
    for batch in trainer.get_train_dataloader():
        real += int(batch["attention_mask"].sum())
        slots += batch["attention_mask"].numel()
    return real, slots


def worker_rewardkit(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    cfg = TrainConfig(
        model=args.model_path,
        data=[str(work / "train.jsonl")],
        eval_data=[str(work / "eval.jsonl")],
        max_length=512,
        batch_size=args.batch_size,
        lr=args.lr,
        epochs=args.epochs,
        warmup_ratio=0.1,
        seed=args.seed,
        eval_every=0,
        save_every=0,
        output_dir=str(work / f"rk-{time.time_ns()}"),
        precision=args.precision,
    )
    result = train(cfg)
    lines = [
        json.loads(x) for x in (Path(cfg.output_dir) / "metrics.jsonl").read_text().splitlines()
    ]
    real = sum(x["train/tokens"] for x in lines)
    padding = statistics.mean(x["train/padding"] for x in lines)
    params = non_embedding_params_on_disk(result.model_dir / "model.safetensors")
    return {
        "pairs": result.steps * args.batch_size,
        "seconds": result.seconds,
        "real_tokens": real * args.epochs,
        "padding": padding,
        "accuracy": result.eval.accuracy,
        "eval_pairs": result.eval.examples,
        "params": params,
    }


TUNED = {"gradient_checkpointing": False, "train_sampling_strategy": "group_by_length"}
"""What an expert changes: TRL turns gradient checkpointing on by default (memory for time)."""


def trl_trainer(
    model_path: str, work: Path, args: argparse.Namespace, extra: dict[str, Any], evaluate: bool
) -> Any:
    """TRL's RewardTrainer on ``work``/train.jsonl (and eval.jsonl) with this bench's settings
    (lr, batch, epochs, seed, precision from ``args``; 10% warm-up; max length 512), each of
    which ``extra`` may override."""
    import datasets
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed

    # importlib: trl is a bench-only dependency, and its lazy module hides names from mypy
    trl = importlib.import_module("trl")

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    # the trainer seeds only once built: without this the new head's init was unseeded, and
    # TRL's runs gave other accuracies each invocation, seed for seed
    set_seed(args.seed)
    model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1)

    def table(name: str) -> Any:
        rows = [json.loads(x) for x in (work / name).read_text().splitlines()]
        return datasets.Dataset.from_list(
            [{k: render_text(r[k]) for k in ("prompt", "chosen", "rejected")} for r in rows]
        )

    settings: dict[str, Any] = {
        "output_dir": str(work / f"trl-{time.time_ns()}"),
        "per_device_train_batch_size": args.batch_size,
        "per_device_eval_batch_size": args.batch_size,
        "num_train_epochs": args.epochs,
        "learning_rate": args.lr,
        "warmup_steps": 0.1,
        "max_length": 512,
        "seed": args.seed,
        "bf16": resolve_precision(args.precision) == "bf16",
        "report_to": "none",
        "save_strategy": "no",
        "logging_steps": 50,
        "eos_token": tokenizer.eos_token or tokenizer.sep_token,
        "use_cpu": True,
        "dataloader_drop_last": True,
    }
    config = trl.RewardConfig(**(settings | extra))
    return trl.RewardTrainer(
        model=model,
        args=config,
        train_dataset=table("train.jsonl"),
        eval_dataset=table("eval.jsonl") if evaluate else None,
        processing_class=tokenizer,
    )


def worker_trl(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    tuned = args.worker == "trl-tuned"
    trainer = trl_trainer(args.model_path, work, args, TUNED if tuned else {}, evaluate=True)
    if tuned:
        # group_by_length reads a length column, which TRL's tokenized pairs lack and its
        # column filter would drop
        def with_length(table: Any) -> Any:
            return table.map(lambda r: {"length": len(r["chosen_ids"]) + len(r["rejected_ids"])})

        trainer.train_dataset = with_length(trainer.train_dataset)
        trainer.eval_dataset = with_length(trainer.eval_dataset)
        trainer._signature_columns = ["chosen_ids", "rejected_ids", "margin", "length"]
    started = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - started
    metrics = trainer.evaluate()
    real, slots = _trl_batches(trainer)
    return {
        "pairs": output.global_step * args.batch_size,
        "seconds": seconds,
        "real_tokens": real * args.epochs,
        "padding": 1 - real / slots,
        "accuracy": metrics["eval_accuracy"],
        "eval_pairs": len(trainer.eval_dataset),
        "params": non_embedding_params(trainer.model),
    }


def run_worker(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    result = (worker_rewardkit if args.worker == "rewardkit" else worker_trl)(args, work)
    bf16 = resolve_precision(args.precision) == "bf16"
    result["peak_flops"] = matmul_peak(bf16)
    result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (work / f"{args.worker}-{time.time_ns()}.json").write_text(json.dumps(result))


TRAINERS = ("rewardkit", "trl-tuned", "trl")


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(f: Any) -> float:
        return float(statistics.median(f(r) for r in runs))

    return {
        "pairs/s": med(lambda r: r["pairs"] / r["seconds"]),
        "tokens/s": med(lambda r: r["real_tokens"] / r["seconds"]),
        "padding": med(lambda r: r["padding"]),
        "rss_mib": med(lambda r: r["rss_mib"]),
        "accuracy": statistics.mean(r["accuracy"] for r in runs),
        "accuracies": [r["accuracy"] for r in runs],
        "mfu": med(lambda r: 6 * r["params"] * r["real_tokens"] / r["seconds"] / r["peak_flops"]),
    }


def fitting(pairs: list[Pair], limit: int = 510) -> list[Pair]:
    """The pairs every trainer scores in every layout (TRL leaves longer ones out of its eval)."""
    tokenizer = load_tokenizer("minilm")

    def fits(p: Pair) -> bool:
        prompt = render_text(p.prompt)
        return all(
            len(tokenizer(prompt + render_text(r))["input_ids"]) <= limit
            and len(tokenizer(prompt, render_text(r))["input_ids"]) <= limit
            for r in (p.chosen, p.rejected)
        )

    return [p for p in pairs if fits(p)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=str(SHARED / "hh_rlhf_harmless" / "pairs.jsonl.gz"))
    parser.add_argument("--backbones", default="minilm,llama-13m")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trainers", default=",".join(TRAINERS))
    parser.add_argument("--limit", type=int, default=None, help="train on the first N pairs only")
    parser.add_argument("--eval-limit", type=int, default=None, help="score the first N held out")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=TRAINERS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return

    pairs = read_pairs(args.data, on_error="skip")
    held = fitting([p for p in pairs if is_eval(p, 0.2, 0)])[: args.eval_limit]
    kept: list[Pair] = [p for p in pairs if not is_eval(p, 0.2, 0)][: args.limit]
    trainers = args.trainers.split(",")
    precision = "bf16" if resolve_precision(args.precision) == "bf16" else "fp32"
    print(
        f"{len(kept)} train pairs, {len(held)} eval pairs (prompt-disjoint 80/20, those that fit "
        f"510 tokens), batch {args.batch_size}, lr {args.lr}, {args.epochs} epoch(s), precision "
        f"{precision}, torch threads {torch.get_num_threads()}, seeds "
        f"{args.seeds}; runs alternate {' / '.join(trainers)}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_records(kept, work / "train.jsonl")
        write_records(held, work / "eval.jsonl")
        for backbone in args.backbones.split(","):
            path = (
                random_llama(work / backbone)
                if backbone.startswith("llama")
                else (resolve_backbone(backbone))
            )
            for seed in args.seeds:
                for trainer in trainers:
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            trainer,
                            "--workdir",
                            str(work),
                            "--model-path",
                            path,
                            "--lr",
                            str(args.lr),
                            "--batch-size",
                            str(args.batch_size),
                            "--epochs",
                            str(args.epochs),
                            "--precision",
                            args.precision,
                            "--seed",
                            str(seed),
                        ],
                        check=True,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
            results = {
                # file names end in the time they were written: sorted, they are in seed order
                t: summary(
                    [json.loads(f.read_text()) for f in sorted(work.glob(f"{t}-[0-9]*.json"))]
                )
                for t in trainers
            }
            for f in work.glob("*-[0-9]*.json"):
                f.unlink()
            report(backbone, results)


def report(backbone: str, results: dict[str, dict[str, Any]]) -> None:
    print(f"\n{backbone} (speed, RSS, MFU: medians; accuracy: mean over seeds, then each seed)")
    print(
        f"  {'':<10}{'pairs/s':>9}{'tokens/s':>10}{'padding':>9}{'RSS MiB':>9}{'MFU':>7}"
        f"{'accuracy':>10}  seeds"
    )
    for name, r in results.items():
        seeds = " ".join(f"{a:.3f}" for a in r["accuracies"])
        print(
            f"  {name:<10}{r['pairs/s']:>9.2f}{r['tokens/s']:>10.0f}{r['padding']:>9.2f}"
            f"{r['rss_mib']:>9.0f}{r['mfu']:>7.3f}{r['accuracy']:>10.3f}  {seeds}"
        )
    ours = results.get("rewardkit")
    for name, r in results.items():
        if ours is not None and name != "rewardkit":
            print(
                f"  rewardkit / {name}: speed {ours['pairs/s'] / r['pairs/s']:.2f}x, peak RSS "
                f"{ours['rss_mib'] / r['rss_mib']:.2f}x, accuracy {ours['accuracy'] - r['accuracy']:+.3f}"
            )


if __name__ == "__main__":
    main()
