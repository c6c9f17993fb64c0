"""The pieces a run is assembled from: accelerator, precision, LoRA, optimizer, schedule, card."""

from __future__ import annotations

import json
from typing import Any, cast

import torch

from rewardkit.models.heads import head_kind
from rewardkit.models.precision import runs_bf16
from rewardkit.models.reward_model import ModelInfo, RewardModel
from rewardkit.scoring import Precision
from rewardkit.training.config import LoraConfig, TrainConfig


def resolve_precision(precision: str) -> str:
    """accelerate's mixed_precision value: 'no', 'bf16' or 'fp16' (bf16 by the one rule
    scoring uses too: asked for, or under ``auto`` where it runs fast)."""
    if precision == "fp16":
        return "fp16"
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return "bf16" if runs_bf16(device, cast(Precision, precision)) else "no"


def make_accelerator(cfg: TrainConfig) -> Any:
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    # accelerate keeps its settings in process-wide singletons; a second run in one process (a
    # sweep, a notebook) with another precision would be refused. The distributed part stays.
    AcceleratorState._reset_state()
    GradientState._reset_state()

    return Accelerator(
        cpu=not torch.cuda.is_available(),  # lets `accelerate launch` start DDP over gloo on CPUs
        mixed_precision=resolve_precision(cfg.precision),
        gradient_accumulation_steps=cfg.grad_accum,
        log_with=cfg.log_with or None,
        project_dir=cfg.output_dir,
    )


def add_lora(model: RewardModel, lora: LoraConfig) -> None:
    """Wraps the network in LoRA adapters; the scalar head is fully trained and saved with them
    (``modules_to_save``), which a plain LoRA setup silently leaves at its random init."""
    if lora.r <= 0:
        return
    from peft import LoraConfig as PeftLoraConfig
    from peft import get_peft_model

    head_name = "score" if hasattr(model.network, "score") else "classifier"
    extra = ["pooler"] if model.info.pooling == "cls" and hasattr(model.body(), "pooler") else []
    config = PeftLoraConfig(
        task_type="SEQ_CLS",
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        modules_to_save=[head_name, *extra],
    )
    model.network = get_peft_model(model.network, config)


def disable_dropout(model: RewardModel) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def trainable_weights(model: RewardModel) -> dict[str, torch.Tensor]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def make_optimizer(model: RewardModel, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    # The fused kernel runs the update in one pass (5x faster on CPU here); same arithmetic.
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> Any:
    from transformers import get_scheduler

    name = {"linear": "linear", "cosine": "cosine", "constant": "constant_with_warmup"}[
        cfg.schedule
    ]
    return get_scheduler(
        name,
        optimizer,
        num_warmup_steps=int(cfg.warmup_ratio * total_steps),
        num_training_steps=total_steps,
    )


LAYOUT_WORDS = {
    "concat": "prompt + response + end of sequence",
    "pair": "sentence-pair encoding of prompt and response",
    "text": "prompt + response as one text",
}


def _metric_rows(metrics: dict[str, Any], prefix: str = "") -> list[str]:
    """One row per metric; each eval file's (``parts``) under its name: ``hh/eval accuracy``."""
    rows: list[str] = []
    for key, value in metrics.items():
        if key == "parts":
            for name, part in value.items():
                rows += _metric_rows(part, f"{name} ")
        elif value is not None:
            shown = f"{value:.4f}" if isinstance(value, float) else value
            rows.append(f"| {prefix}{key} | {shown} |")
    return rows


def model_card(info: ModelInfo, cfg: TrainConfig) -> str:
    metrics = "\n".join(_metric_rows(info.metrics))
    return f"""# Reward model trained with rewardkit

A reward model with a `{info.head}` head (outputs: {", ".join(info.objectives)}): backbone
`{info.backbone}`, pooling `{info.pooling}`, inputs up to
{info.max_length} tokens ({LAYOUT_WORDS[info.input_style]}).

## Use

```python
from rewardkit.models import RewardModel
model = RewardModel.load("path/to/this/directory")
model.score(["What is 2 + 2?"], ["4"]).normalized
```

Plain transformers loads it too: `{head_kind(info.head).auto_class}.from_pretrained(path)`.
Normalised score = (raw - {info.mean:.4f}) / {info.std:.4f}, measured on the training data.

## Training

loss: `{cfg.loss}` ({cfg.labels} labels{", margins" if cfg.use_margin else ""}), lr {cfg.lr},
batch {cfg.batch_size} examples, {cfg.epochs} epoch(s), seed {cfg.seed}, LoRA rank {cfg.lora.r}.

Data:

```json
{json.dumps(info.data, indent=1)}
```

## Held-out metrics

| metric | value |
|---|---|
{metrics}
"""
