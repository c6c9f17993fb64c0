"""Tiny random models built in code (no downloads), with the real MiniLM WordPiece tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rewardkit.models.backbones import load_tokenizer
from rewardkit.models.reward_model import RewardModel
from rewardkit.training import TrainConfig

WIDTH = 16
ENCODERS = ("bert", "roberta")


def tokenizer(decoder: bool = False, pad_is_eos: bool = False) -> Any:
    tok = load_tokenizer("minilm")
    if decoder:
        tok.eos_token = "[SEP]"
        tok.padding_side = "right"
        if pad_is_eos:
            tok.pad_token = tok.eos_token
    return tok


def shape(vocab_size: int) -> dict[str, Any]:
    """The config every tiny network shares: 2 layers of width 16."""
    return {
        "vocab_size": vocab_size,
        "hidden_size": WIDTH,
        "num_labels": 1,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 2 * WIDTH,
        "max_position_embeddings": 512,
    }


def policy() -> tuple[Any, Any]:
    """A tiny random Llama language model and its left-padding tokenizer (a GRPO policy)."""
    import transformers

    tok = tokenizer(decoder=True, pad_is_eos=True)
    tok.padding_side = "left"
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        **shape(len(tok)),
        num_key_value_heads=1,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return transformers.LlamaForCausalLM(config), tok


def network(arch: str, vocab_size: int, seed: int = 0, labels: int = 1, token: bool = False) -> Any:
    """A tiny sequence-classification network (token classification with ``token``)."""
    import transformers

    torch.manual_seed(seed)
    common = {**shape(vocab_size), "num_labels": labels}
    configs = {
        "bert": lambda: transformers.BertConfig(**common, hidden_dropout_prob=0.1),
        "roberta": lambda: transformers.RobertaConfig(**common, hidden_dropout_prob=0.1),
        "llama": lambda: transformers.LlamaConfig(**common, num_key_value_heads=1),
        "qwen2": lambda: transformers.Qwen2Config(**common, num_key_value_heads=1),
    }
    if arch not in configs:
        raise ValueError(arch)
    auto = (
        transformers.AutoModelForTokenClassification
        if token
        else transformers.AutoModelForSequenceClassification
    )
    return auto.from_config(configs[arch]())  # type: ignore[no-untyped-call]


def reward_model(
    arch: str = "bert",
    pooling: Any = "auto",
    seed: int = 0,
    pad_is_eos: bool = False,
    max_length: int = 128,
    head: str = "scalar",
    objectives: list[str] | None = None,
    layout: Any = "auto",
) -> RewardModel:
    tok = tokenizer(decoder=arch not in ENCODERS, pad_is_eos=pad_is_eos)
    labels = len(objectives) if objectives else 1
    net = network(arch, len(tok), seed, labels, token=head == "steps")
    return RewardModel.from_network(
        net,
        tok,
        pooling,
        max_length,
        backbone=f"tiny-{arch}",
        head=head,
        objectives=objectives,
        layout=layout,
    )


def train_config(model_dir: Path, out: Path, **overrides: Any) -> TrainConfig:
    """A fast, deterministic run on synthetic pairs: fp32, one thread, small batches."""
    base: dict[str, Any] = {
        "model": str(model_dir),
        "synthetic_pairs": 240,
        "batch_size": 8,
        "lr": 3e-3,
        "precision": "fp32",
        "output_dir": str(out),
        "eval_every": 0,
        "save_every": 0,
        "threads": 1,
    }
    return TrainConfig(**{**base, **overrides})
