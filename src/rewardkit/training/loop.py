"""Train a reward model: one explicit loop on accelerate, read top to bottom.

    from rewardkit.training import TrainConfig, train
    result = train(TrainConfig(model="minilm", data=["pairs.jsonl"], output_dir="runs/rm"))

Runs the same under ``accelerate launch`` (DDP, FSDP, DeepSpeed configs): every process takes its
share of each global batch, so N processes reproduce one process with the same global batch.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from tqdm import tqdm

from rewardkit.losses import Loss, Outputs, objective
from rewardkit.models.heads import default_objectives
from rewardkit.models.reward_model import RewardModel
from rewardkit.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rewardkit.training.config import Kind, TrainConfig
from rewardkit.training.evaluate import HeldOut, evaluate, reward_statistics
from rewardkit.training.examples import (
    EncodedExamples,
    Example,
    Record,
    encode_examples,
    epoch_batches,
    shard,
    targets,
)
from rewardkit.training.objectives import (
    fit_run_gate,
    fixed_weights,
    in_rating_spreads,
    start_at_mean_ratings,
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
    eval: HeldOut
    provenance: dict[str, Any]
    eval_records: list[Record]
    kind: Kind
    """What the run trained on: pairs, rated responses or step traces."""
    seconds: float
    """Wall time of the training steps alone (not loading, evaluation or checkpoints)."""


@dataclass
class Run:
    """What the steps share: the prepared model and optimizer, the data and the step plan."""

    cfg: TrainConfig
    accelerator: Any
    network: Any
    model: RewardModel
    optimizer: Any
    scheduler: Any
    loss: Loss
    train: EncodedExamples
    eval: EncodedExamples
    steps_per_epoch: int
    total_steps: int
    held_out: HeldOut | None = None
    """The held-out metrics of the last step, once it has run (the final ones)."""


def train(cfg: TrainConfig, model: RewardModel | None = None) -> TrainResult:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    accelerator = make_accelerator(cfg)
    sources = load_sources(cfg)
    torch.manual_seed(cfg.seed)
    fresh = model is None
    model = _prepare_model(cfg, model)

    # Over-long examples are counted: left out, or (truncate_prompt) kept with a shorter prompt.
    def encode(records: list[Record]) -> EncodedExamples:
        return encode_examples(
            model,
            records,
            cfg.max_length,
            cfg.labels == "soft",
            cfg.use_margin,
            cfg.neutral,
            cfg.overflow,
            cfg.label_smoothing,
        )

    train_set = encode(sources.train)
    if sources.eval_parts:
        eval_set = EncodedExamples.joined([(n, encode(part)) for n, part in sources.eval_parts])
    else:
        eval_set = encode(sources.eval)
    sources.provenance["too_long"] = {"train": train_set.too_long, "eval": eval_set.too_long}
    sources.provenance["truncated"] = {"train": train_set.truncated, "eval": eval_set.truncated}
    accelerator.print(
        f"examples: {len(train_set.examples)} train, {len(eval_set.examples)} eval "
        f"(over {cfg.max_length} tokens and left out: {train_set.too_long} train, "
        f"{eval_set.too_long} eval; prompt shortened: {train_set.truncated} train, "
        f"{eval_set.truncated} eval)"
    )
    if train_set.unscorable or eval_set.unscorable:
        unreadable = {"train": train_set.unscorable, "eval": eval_set.unscorable}
        sources.provenance["unscorable"] = unreadable
        accelerator.print(f"left out, not readable by a {cfg.head} head: {unreadable}")
    if fresh and cfg.record_kind == "rating" and train_set.examples:
        start_at_mean_ratings(model, train_set.examples)
    run = _plan(cfg, accelerator, model, train_set, eval_set)
    start = _resume(run)
    _start_logs(run, start)
    seconds = sum(_step(run, step) for step in _progress(run, start))

    # The model directory: weights plain transformers loads, rewardkit.json, card, metrics.
    final = run.held_out or evaluate(run.model, eval_set.examples, run.loss, eval_set.parts)
    info = run.model.info
    info.mean, info.std = reward_statistics(run.model, train_set.examples)
    if cfg.gate:  # stage 2 on the frozen model; its mean and std replace the ones above
        sources.provenance["gate"] = fit_run_gate(cfg, run.model)
    info.data = sources.provenance
    info.metrics = {
        **final.as_dict(),
        "steps": run.total_steps,
        "processes": accelerator.num_processes,
    }
    model_dir = Path(cfg.output_dir) / "model"
    if accelerator.is_main_process:
        run.model.save(model_dir, card=model_card(info, cfg))
        (Path(cfg.output_dir) / "metrics.json").write_text(json.dumps(info.metrics, indent=1))
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(
        model_dir, run.total_steps, final, sources.provenance, sources.eval, cfg.record_kind,
        seconds,
    )  # fmt: skip


def _prepare_model(cfg: TrainConfig, model: RewardModel | None) -> RewardModel:
    if model is None:
        names = cfg.objectives or default_objectives(cfg.head, cfg.members)
        model = RewardModel.from_backbone(
            cfg.model,
            cfg.pooling,
            cfg.max_length,
            head=cfg.head,
            objectives=names,
            layout=cfg.layout,
        )
    if model.weight_dtype != torch.float32:  # a model loaded for scoring: fp32 to train it
        model.network.float()
    model.info.max_length = cfg.max_length
    model.info.step_marker = cfg.step_marker
    model.info.weights = fixed_weights(cfg.objective_weights, model.info) or model.info.weights
    if cfg.disable_dropout:
        disable_dropout(model)
    add_lora(model, cfg.lora)
    return model


def _plan(
    cfg: TrainConfig,
    accelerator: Any,
    model: RewardModel,
    train_set: EncodedExamples,
    eval_set: EncodedExamples,
) -> Run:
    """Full global batches only; each process takes batch_size / processes examples of each."""
    world = accelerator.num_processes
    if cfg.batch_size % (world * cfg.grad_accum):
        raise ValueError(
            f"batch_size {cfg.batch_size} must divide into {world} processes x "
            f"{cfg.grad_accum} accumulation steps"
        )
    steps_per_epoch = len(train_set.examples) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(
            f"{len(train_set.examples)} training examples cannot fill a batch of {cfg.batch_size}"
        )
    total_steps = steps_per_epoch * cfg.epochs
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    loss = in_rating_spreads(objective(cfg.loss, cfg.center_weight), train_set.examples)
    optimizer = make_optimizer(model, cfg)
    scheduler = make_scheduler(optimizer, cfg, total_steps)
    network, optimizer = accelerator.prepare(model, optimizer)
    unwrapped: RewardModel = accelerator.unwrap_model(network)
    return Run(
        cfg, accelerator, network, unwrapped, optimizer, scheduler, loss,
        train_set, eval_set, steps_per_epoch, total_steps,
    )  # fmt: skip


def _resume(run: Run) -> int:
    """The step to start from: 0, or the newest complete checkpoint's when resuming."""
    checkpoint = latest_checkpoint(Path(run.cfg.output_dir)) if run.cfg.resume else None
    if checkpoint is None:
        return 0
    weights, state = load_checkpoint(checkpoint, run.optimizer.optimizer, run.scheduler)
    unexpected = run.model.load_state_dict(weights, strict=False).unexpected_keys
    if unexpected:  # only trainable weights are saved, so missing keys are expected
        raise ValueError(f"{checkpoint} does not fit this model: {unexpected[:5]}")
    run.accelerator.print(
        f"resumed from {checkpoint} at step {state['step']} (epoch {state['epoch']}, "
        f"batch {state['batch_in_epoch']})"
    )
    return int(state["step"])


def _start_logs(run: Run, start: int) -> None:
    out = Path(run.cfg.output_dir)
    if run.accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(yaml.safe_dump(asdict(run.cfg), sort_keys=False))
        _trim_metrics(out / "metrics.jsonl", start)
    run.accelerator.init_trackers(
        "rewardkit",
        config={k: v for k, v in asdict(run.cfg).items() if isinstance(v, (int, float, str, bool))},
    )
    run.network.train()


def _progress(run: Run, start: int) -> Iterator[int]:
    bar = tqdm(
        range(start, run.total_steps),
        initial=start,
        total=run.total_steps,
        desc="training",
        unit=" steps",
        disable=not run.accelerator.is_main_process,
    )
    yield from bar
    bar.close()


def _step(run: Run, step: int) -> float:
    """One optimizer step over this process's share of the global batch (its micro-batches),
    then metrics, evaluation and checkpoints as due; returns the step's own seconds."""
    cfg, accelerator = run.cfg, run.accelerator
    world, rank = accelerator.num_processes, accelerator.process_index
    epoch, index = divmod(step, run.steps_per_epoch)
    batch = epoch_batches(len(run.train.examples), cfg.batch_size, cfg.seed, epoch)[index]
    packed = cfg.packing and run.model.supports_packing
    losses, correct, tokens, computed, slots = [], 0, 0, 0, 0
    started = time.perf_counter()
    for micro in shard(batch, rank, world, cfg.grad_accum):
        with accelerator.accumulate(run.network):
            chunk = [run.train.examples[i] for i in micro]
            inputs, stats = run.model.batch([e.unit for e in chunk], packed)
            values = run.network(**{k: v.to(accelerator.device) for k, v in inputs.items()})
            out = run.model.views(values.float())
            loss = run.loss(out, targets(chunk, accelerator.device))
            accelerator.backward(loss)
            if accelerator.sync_gradients and cfg.max_grad_norm > 0:
                accelerator.clip_grad_norm_(run.network.parameters(), cfg.max_grad_norm)
            run.optimizer.step()
            run.optimizer.zero_grad()
        losses.append(loss.item())
        correct += _correct(out, chunk)
        tokens, computed, slots = (
            tokens + stats.real_tokens, computed + stats.computed_tokens, slots + stats.slots
        )  # fmt: skip
    run.scheduler.step()
    seconds = time.perf_counter() - started
    done = step + 1
    metrics = {
        "train/loss": sum(losses) / len(losses),
        "train/accuracy": correct / (cfg.batch_size // world),
        "lr": run.scheduler.get_last_lr()[0],
        "train/tokens": tokens,
        "train/padding": 1 - computed / slots if slots else 0.0,
        "epoch": epoch,
    }
    last = done == run.total_steps
    if last or (cfg.eval_every and done % cfg.eval_every == 0):
        held_out = evaluate(run.model, run.eval.examples, run.loss, run.eval.parts)
        metrics.update(held_out.prefixed("eval/"))
        if last:
            run.held_out = held_out
    _log(accelerator, Path(cfg.output_dir), done, metrics)
    if last or (cfg.save_every and done % cfg.save_every == 0):
        _checkpoint(run, done, epoch, index)
    return seconds


def _correct(out: Outputs, chunk: list[Example]) -> int:
    """Pairs ranked right in a micro-batch (0 for other kinds of example)."""
    if chunk[0].kind != "pair":
        return 0
    return int((out.scores[0::2] > out.scores[1::2]).sum())


def _checkpoint(run: Run, done: int, epoch: int, index: int) -> None:
    if run.accelerator.is_main_process:
        save_checkpoint(
            Path(run.cfg.output_dir),
            done,
            trainable_weights(run.model),
            run.optimizer.optimizer,
            run.scheduler,
            {"epoch": epoch, "batch_in_epoch": index + 1, "steps_per_epoch": run.steps_per_epoch},
            run.cfg.keep_last,
        )
    run.accelerator.wait_for_everyone()


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
