"""Train a Bradley-Terry reward model: one explicit loop on accelerate, read top to bottom.

    from rewardkit.training import TrainConfig, train
    result = train(TrainConfig(model="minilm", data=["pairs.jsonl"], output_dir="runs/rm"))

Runs the same under ``accelerate launch`` (DDP, FSDP, DeepSpeed configs): every process takes its
share of each global batch, so N processes reproduce one process with the same global batch.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from rewardkit.losses import pairwise_loss
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair
from rewardkit.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rewardkit.training.config import TrainConfig
from rewardkit.training.evaluate import PairMetrics, evaluate_pairs, reward_statistics
from rewardkit.training.pairs import (
    EncodedPair,
    collate_pairs,
    encode_pairs,
    epoch_batches,
    pack_pairs,
    shard,
)
from rewardkit.training.setup import (
    add_lora,
    disable_dropout,
    make_accelerator,
    make_optimizer,
    make_scheduler,
    model_card,
    trainable_weights,
)
from rewardkit.training.sources import load_sources


@dataclass
class TrainResult:
    model_dir: Path
    steps: int
    eval: PairMetrics
    provenance: dict[str, Any]
    eval_pairs: list[Pair]
    seconds: float
    """Wall time of the training steps alone (not loading, evaluation or checkpoints)."""


def train(cfg: TrainConfig, model: RewardModel | None = None) -> TrainResult:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    accelerator = make_accelerator(cfg)
    out = Path(cfg.output_dir)
    say = accelerator.print

    # Data: read (or generate), hold out prompts, encode; over-long pairs are counted, not cut.
    sources = load_sources(cfg)
    torch.manual_seed(cfg.seed)
    if model is None:
        model = RewardModel.from_backbone(cfg.model, cfg.pooling, cfg.max_length)
    model.info.max_length = cfg.max_length
    if cfg.disable_dropout:
        disable_dropout(model)
    add_lora(model, cfg.lora)
    train_set = encode_pairs(model, sources.train, cfg.max_length)
    eval_set = encode_pairs(model, sources.eval, cfg.max_length)
    sources.provenance["too_long"] = {"train": train_set.too_long, "eval": eval_set.too_long}
    say(
        f"pairs: {len(train_set.pairs)} train, {len(eval_set.pairs)} eval "
        f"(over {cfg.max_length} tokens and left out: {train_set.too_long} train, "
        f"{eval_set.too_long} eval)"
    )

    # Steps: full global batches only; each process takes batch_size / processes pairs of each.
    world, rank = accelerator.num_processes, accelerator.process_index
    if cfg.batch_size % (world * cfg.grad_accum):
        raise ValueError(
            f"batch_size {cfg.batch_size} must divide into {world} processes x "
            f"{cfg.grad_accum} accumulation steps"
        )
    steps_per_epoch = len(train_set.pairs) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(
            f"{len(train_set.pairs)} training pairs cannot fill a batch of {cfg.batch_size}"
        )
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)

    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, total_steps)
    network, optimizer = accelerator.prepare(model, optimizer)
    unwrapped: RewardModel = accelerator.unwrap_model(network)

    start = 0
    checkpoint = latest_checkpoint(out) if cfg.resume else None
    if checkpoint is not None:
        weights, state = load_checkpoint(checkpoint, optimizer.optimizer, scheduler)
        unexpected = unwrapped.load_state_dict(weights, strict=False).unexpected_keys
        if unexpected:  # only trainable weights are saved, so missing keys are expected
            raise ValueError(f"{checkpoint} does not fit this model: {unexpected[:5]}")
        start = state["step"]
        say(
            f"resumed from {checkpoint} at step {start} (epoch {state['epoch']}, "
            f"batch {state['batch_in_epoch']})"
        )
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(asdict(cfg), sort_keys=False))
        _trim_metrics(out / "metrics.jsonl", start)
    accelerator.init_trackers(
        "rewardkit",
        config={k: v for k, v in asdict(cfg).items() if isinstance(v, (int, float, str, bool))},
    )

    batcher = pack_pairs if cfg.packing and unwrapped.supports_packing else collate_pairs
    network.train()
    seconds = 0.0
    bar = tqdm(
        total=total_steps,
        initial=start,
        desc="training",
        unit=" steps",
        disable=not accelerator.is_main_process,
    )
    batches: list[list[int]] = []
    for step in range(start, total_steps):
        epoch, index = divmod(step, steps_per_epoch)
        if index == 0 or not batches:
            batches = epoch_batches(len(train_set.pairs), cfg.batch_size, cfg.seed, epoch)
        losses, correct, tokens, computed, slots = [], 0, 0, 0, 0
        step_started = time.perf_counter()
        for micro in shard(batches[index], rank, world, cfg.grad_accum):
            with accelerator.accumulate(network):
                chunk = [train_set.pairs[i] for i in micro]
                inputs, stats = batcher(unwrapped, chunk)
                rewards = network(
                    **{k: v.to(accelerator.device) for k, v in inputs.items()}
                ).float()
                chosen, rejected = rewards.chunk(2)
                loss = pairwise_loss(
                    chosen,
                    rejected,
                    margin=_column(chunk, "margin", chosen) if cfg.use_margin else None,
                    p_chosen=_column(chunk, "p_chosen", chosen) if cfg.labels == "soft" else None,
                    center_weight=cfg.center_weight,
                )
                accelerator.backward(loss)
                if accelerator.sync_gradients and cfg.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(network.parameters(), cfg.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad()
            losses.append(loss.item())
            correct += int((chosen > rejected).sum())
            tokens += stats.real_tokens
            computed += stats.computed_tokens
            slots += stats.slots
        scheduler.step()
        seconds += time.perf_counter() - step_started
        done = step + 1
        metrics = {
            "train/loss": sum(losses) / len(losses),
            "train/accuracy": correct / (cfg.batch_size // world),
            "lr": scheduler.get_last_lr()[0],
            "train/tokens": tokens,
            "train/padding": 1 - computed / slots if slots else 0.0,
            "epoch": epoch,
        }
        if done == total_steps or (cfg.eval_every and done % cfg.eval_every == 0):
            metrics.update(evaluate_pairs(unwrapped, eval_set.pairs).prefixed("eval/"))
        _log(accelerator, out, done, metrics)
        bar.update(1)
        bar.set_postfix(loss=f"{metrics['train/loss']:.3f}")
        if done == total_steps or (cfg.save_every and done % cfg.save_every == 0):
            if accelerator.is_main_process:
                save_checkpoint(
                    out,
                    done,
                    trainable_weights(unwrapped),
                    optimizer.optimizer,
                    scheduler,
                    {
                        "epoch": epoch,
                        "batch_in_epoch": index + 1,
                        "steps_per_epoch": steps_per_epoch,
                    },
                    cfg.keep_last,
                )
            accelerator.wait_for_everyone()
    bar.close()

    # The model directory: weights plain transformers loads, rewardkit.json, card, metrics.
    final = evaluate_pairs(unwrapped, eval_set.pairs)
    mean, std = reward_statistics(unwrapped, train_set.pairs)
    unwrapped.info.mean, unwrapped.info.std = mean, std
    unwrapped.info.data = sources.provenance
    unwrapped.info.metrics = {**final.as_dict(), "steps": total_steps, "processes": world}
    model_dir = out / "model"
    if accelerator.is_main_process:
        unwrapped.save(model_dir, card=model_card(unwrapped.info, cfg))
        (out / "metrics.json").write_text(json.dumps(unwrapped.info.metrics, indent=1))
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(model_dir, total_steps, final, sources.provenance, sources.eval, seconds)


def _column(pairs: list[EncodedPair], name: str, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor([getattr(p, name) for p in pairs], device=like.device)


def _log(accelerator: Any, out: Path, step: int, metrics: dict[str, float]) -> None:
    clean = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and math.isfinite(v)}
    accelerator.log(clean, step=step)
    if accelerator.is_main_process:
        with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **clean}) + "\n")


def _trim_metrics(path: Path, step: int) -> None:
    """After a resume, drop lines the killed run logged past its last checkpoint."""
    if not path.exists():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    path.write_text("".join(line + "\n" for line in keep))
