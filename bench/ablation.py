"""Why rewardkit's reward model and TRL's differ in accuracy: one change at a time, several seeds.

    python bench/ablation.py                               # 800 hh pairs, 3 seeds, all variants
    python bench/ablation.py --limit 400 --seeds 0 --variants base text trl

Every run trains MiniLM for one epoch on the same prompt-disjoint 80/20 split of the shared
hh-rlhf harmless pairs (lr 1e-4, batch 8, bf16 where the CPU runs it fast: the settings TRL users
run) and is scored on two held-out sets: the hh pairs it did not see and OpenAssistant pairs (a
broader instruction-following set). Only pairs that fit 510 tokens in every layout are scored,
so each run answers the same questions. ``base`` is rewardkit as it was (sentence pair with
segment ids, the encoder's own pooler, transformers' head init, dropout off, 10% linear warm-up,
over-long pairs left out); each other variant changes one thing, ``defaults`` is rewardkit as it
ships now (the layout and pooling its ``auto`` settings pick), ``defaults, zero head`` the same
with the head's weights and bias initialised at zero, ``defaults, cls pooling`` with the
encoder's first-token pooler instead of the mean; ``trl`` is TRL's RewardTrainer
with the same settings (gradient checkpointing off, which changes the speed, not the numbers),
``trl, no warm-up`` the same without warm-up (TRL's own default, and rewardkit's: the fair
anchor for ``defaults``).
The loss' reduction is not a variant: both average the pairs of a full batch. Seeds run in the
outer loop, so a cut-short run still has every variant at its first seeds; run again, it skips
what ``--out`` already holds. Prints accuracy mean and spread (min to max) per variant, and
writes every run to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from train_vs_trl import fitting, trl_trainer

from rewardkit.data import is_eval, read_pairs, write_records
from rewardkit.models.backbones import resolve_backbone
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair, render_text
from rewardkit.training import TrainConfig
from rewardkit.training.loop import train

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

DEFAULTS: dict[str, Any] = {
    "layout": "auto",
    "pooling": "auto",
    "warmup_ratio": TrainConfig.warmup_ratio,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "text": {"layout": "text"},
    "mean pooling": {"pooling": "mean"},
    "zero head": {},
    "dropout on": {"disable_dropout": False},
    "no warm-up": {"warmup_ratio": 0.0},
    "cosine": {"schedule": "cosine"},
    "truncate": {"overflow": "truncate_prompt"},
    "defaults": DEFAULTS,
    "defaults, zero head": DEFAULTS,
    "defaults, cls pooling": {**DEFAULTS, "pooling": "cls"},
}
ZERO_HEAD = ("zero head", "defaults, zero head")


def accuracy(score: Callable[[list[str], list[str]], list[float]], pairs: list[Pair]) -> float:
    prompts = [render_text(p.prompt) for p in pairs]
    chosen = score(prompts, [render_text(p.chosen) for p in pairs])
    rejected = score(prompts, [render_text(p.rejected) for p in pairs])
    wins = [1.0 if c > r else 0.5 if c == r else 0.0 for c, r in zip(chosen, rejected, strict=True)]
    return sum(wins) / len(wins)


def rewardkit_run(base: TrainConfig, variant: str, work: Path) -> Callable[..., list[float]]:
    cfg = replace(base, output_dir=str(work / f"rk-{time.time_ns()}"), **VARIANTS[variant])
    model = None
    if variant in ZERO_HEAD:
        torch.manual_seed(cfg.seed)
        model = RewardModel.from_backbone(cfg.model, cfg.pooling, cfg.max_length, layout=cfg.layout)
        for weight in model.head().parameters():
            torch.nn.init.zeros_(weight)
    trained = RewardModel.load(train(cfg, model).model_dir)
    # every scored pair fits, so no score is None; NaN would count as a loss, never a win
    return lambda prompts, responses: [
        float("nan") if x is None else x for x in trained.score(prompts, responses).raw
    ]


TRL_VARIANTS: dict[str, dict[str, Any]] = {
    "trl": {},
    "trl, no warm-up": {"warmup_steps": 0},  # TRL's own default, as rewardkit's
}


def trl_run(base: TrainConfig, variant: str, work: Path) -> Callable[..., list[float]]:
    settings = argparse.Namespace(  # the precision rewardkit's runs resolve to, bf16 or fp32
        batch_size=base.batch_size,
        epochs=base.epochs,
        lr=base.lr,
        seed=base.seed,
        precision=base.precision,
    )
    # gradient checkpointing off: the same numbers, sooner
    trainer = trl_trainer(
        resolve_backbone(base.model),
        work,
        settings,
        {"gradient_checkpointing": False, **TRL_VARIANTS[variant]},
        False,
    )
    trainer.train()
    network = trainer.model.eval()
    tokenizer = trainer.processing_class

    def score(prompts: list[str], responses: list[str]) -> list[float]:
        # exactly TRL's input: prompt + response + its end-of-sequence text, tokenized
        texts = [p + r + tokenizer.sep_token for p, r in zip(prompts, responses, strict=True)]
        out: list[float] = []
        with torch.no_grad():
            for i in range(0, len(texts), 16):
                inputs = tokenizer(texts[i : i + 16], padding=True, return_tensors="pt")
                out += network(**inputs).logits[:, 0].float().tolist()
        return out

    return score


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default=str(SHARED / "hh_rlhf_harmless" / "pairs.jsonl.gz"))
    parser.add_argument("--broad", default=str(SHARED / "oasst_en100" / "pairs.jsonl"))
    parser.add_argument("--limit", type=int, default=800, help="train on the first N pairs")
    parser.add_argument("--broad-limit", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=[*VARIANTS, *TRL_VARIANTS],
        default=[*VARIANTS, *TRL_VARIANTS],
    )
    parser.add_argument("--out", default="runs/ablation.jsonl")
    args = parser.parse_args()

    pairs = read_pairs(args.data, on_error="skip")
    kept = [p for p in pairs if not is_eval(p, 0.2, 0)][: args.limit]
    held = fitting([p for p in pairs if is_eval(p, 0.2, 0)])
    broad = fitting(read_pairs(args.broad, on_error="skip"))[: args.broad_limit]
    print(f"{len(kept)} train pairs; scored: {len(held)} hh held-out, {len(broad)} OpenAssistant")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # runs already in --out are kept and not run again: a cut-short ablation continues
    runs = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
    done = {(r["variant"], r["seed"]) for r in runs}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_records(kept, work / "train.jsonl")
        write_records(held[:16], work / "eval.jsonl")  # the loop's own check; scored below
        for seed in args.seeds:
            base = TrainConfig(
                model="minilm",
                data=[str(work / "train.jsonl")],
                eval_data=[str(work / "eval.jsonl")],
                layout="pair",
                pooling="cls",
                warmup_ratio=0.1,
                batch_size=8,
                lr=1e-4,
                epochs=1,
                seed=seed,
                eval_every=0,
                save_every=0,
            )
            for variant in (v for v in args.variants if (v, seed) not in done):
                started = time.perf_counter()
                score = (
                    trl_run(base, variant, work)
                    if variant in TRL_VARIANTS
                    else rewardkit_run(base, variant, work)
                )
                run = {
                    "variant": variant,
                    "seed": seed,
                    "hh": accuracy(score, held),
                    "oasst": accuracy(score, broad),
                    "seconds": time.perf_counter() - started,
                }
                runs.append(run)
                with out.open("a") as f:
                    f.write(json.dumps(run) + "\n")
                print(json.dumps(run), flush=True)
    report(runs)


def report(runs: list[dict[str, Any]]) -> None:
    print("\n| variant | hh held-out | OpenAssistant | seeds |\n|---|---|---|---|")
    for variant in dict.fromkeys(r["variant"] for r in runs):
        mine = [r for r in runs if r["variant"] == variant]
        cells = [_mean_and_range([r[key] for r in mine]) for key in ("hh", "oasst")]
        print(f"| {variant} | {cells[0]} | {cells[1]} | {len(mine)} |")


def _mean_and_range(values: list[float]) -> str:
    return f"{statistics.mean(values):.3f} ({min(values):.3f} to {max(values):.3f})"


if __name__ == "__main__":
    main()
