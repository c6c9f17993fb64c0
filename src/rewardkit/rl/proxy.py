"""Proxy reward models of the synthetic world: what RL optimises when no model is given.

    model_dir = train_world_proxy(Path("runs/rl/proxy"), ProxyConfig(labels="annotators"))

``labels="annotators"`` keeps each pair's label as the world's simulated annotators voted it (the
majority of 3 of 6, among them a lover of long answers, a flatterable one and a careless one), so
the proxy inherits their noise and biases; ``"gold"`` orients every pair by the gold reward. A
proxy is a small random BERT on MiniLM's tokenizer, trained by rewardkit's own loop, with an OOD
detector fitted on its training responses and saved beside it (so runs log an OOD score).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rewardkit.data.writers import write_records
from rewardkit.hacking.ood import fit_ood
from rewardkit.models.backbones import load_tokenizer
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair, render_text
from rewardkit.rl.policy import load_policy, sample_completions
from rewardkit.rl.rewards import gold_reward_of
from rewardkit.rl.settings import LABELS, Labels
from rewardkit.synthetic import generate_pairs
from rewardkit.synthetic.annotators import DEFAULT_ANNOTATORS
from rewardkit.synthetic.generate import vote_pair
from rewardkit.synthetic.world import gold_dimensions_of_text, make_prompt
from rewardkit.training import TrainConfig, train


@dataclass(frozen=True)
class ProxyConfig:
    labels: Labels = "annotators"
    pairs: int = 3000
    epochs: int = 2
    lr: float = 1e-3
    width: int = 64
    seed: int = 0
    data_seed: int = 0
    """The pairs' seed: ensemble members share the data and differ in ``seed`` (initialisation)."""
    policy_pairs: int = 0
    """More pairs made of the starting policy's own samples (two per prompt), labelled the same
    way: as RLHF labels its policy's outputs, so the proxy has seen the policy's slips."""
    threads: int = 1


def labelled(pair: Pair, labels: Labels) -> Pair:
    """The pair as the annotators' majority oriented it, or turned to the gold reward's side;
    without votes either way (the label is the side)."""
    if labels == "gold" and not pair.metadata["gold_prefers_chosen"]:
        pair = replace(pair, chosen=pair.rejected, rejected=pair.chosen)
    return replace(pair, votes=())


def world_pairs(n: int, labels: Labels, seed: int) -> list[Pair]:
    if labels not in LABELS:
        raise ValueError(f"unknown labels {labels!r}; known: {', '.join(LABELS)}")
    return [labelled(pair, labels) for pair in generate_pairs(n, seed=seed)]


def policy_samples(policy_dir: Path, n: int, seed: int) -> list[tuple[str, str, str]]:
    """``n`` (prompt, response, response) triples: two samples of the policy to one world prompt
    whose texts and gold rewards differ. Cached beside the policy, so proxies that differ only
    in their labels or their initialisation see the same responses."""
    cache = policy_dir / f"pair-samples-{seed}-{n}.json"
    if cache.exists():
        return [tuple(t) for t in json.loads(cache.read_text())]
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer, policy = load_policy(policy_dir)
    out: list[tuple[str, str, str]] = []
    with tqdm(total=n, desc="sampling the policy for proxy pairs", unit=" pairs") as progress:
        while len(out) < n:
            prompts = [make_prompt(rng).text for _ in range(32)]
            doubled = [p for p in prompts for _ in (0, 1)]
            texts = [text for text, _ in sample_completions(policy, tokenizer, doubled)]
            for k, prompt in enumerate(prompts):
                a, b = texts[2 * k], texts[2 * k + 1]
                if (
                    a != b
                    and len(out) < n
                    and gold_reward_of(prompt, a) != gold_reward_of(prompt, b)
                ):
                    out.append((prompt, a, b))
                    progress.update()
    cache.write_text(json.dumps(out))
    return out


def sampled_pairs(policy_dir: Path, n: int, labels: Labels, seed: int) -> list[Pair]:
    """``policy_samples`` labelled by three of the simulated annotators (``annotators``) or
    oriented by the gold reward (``gold``)."""
    rng = random.Random(seed + 1)
    out = []
    for k, (prompt, a, b) in enumerate(policy_samples(policy_dir, n, seed)):
        dims_a, dims_b = gold_dimensions_of_text(prompt, a), gold_dimensions_of_text(prompt, b)
        assert dims_a is not None and dims_b is not None  # world prompts, checked when sampled
        raters = rng.sample(list(DEFAULT_ANNOTATORS), 3)
        pair = vote_pair(prompt, (a, dims_a), (b, dims_b), raters, rng, f"policy-{seed}-{k}")
        out.append(labelled(pair, labels))
    return out


def tiny_backbone(path: Path, width: int, seed: int, max_length: int = 256) -> Path:
    """A random 2-layer BERT of ``width`` on MiniLM's tokenizer, saved as a rewardkit model."""
    import transformers

    tokenizer = load_tokenizer("minilm")
    torch.manual_seed(seed)
    config = transformers.BertConfig(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        hidden_size=width,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=2 * width,
        max_position_embeddings=max_length,
        num_labels=1,
    )
    network = transformers.AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
    model = RewardModel.from_network(
        network, tokenizer, max_length=max_length, backbone="tiny-bert"
    )
    model.save(path)
    return path


def tiny_train_config(
    backbone: Path,
    data: Path,
    output_dir: Path,
    epochs: int,
    lr: float,
    seed: int,
    **overrides: Any,
) -> TrainConfig:
    """How the studies train their small proxies: fp32, one thread, batches of 16, 256 tokens,
    a tenth held out, no checkpoints; ``overrides`` are other TrainConfig fields."""
    settings: dict[str, Any] = {
        "eval_fraction": 0.1,
        "max_length": 256,
        "batch_size": 16,
        "precision": "fp32",
        "eval_every": 0,
        "save_every": 0,
        "threads": 1,
        **overrides,
    }
    return TrainConfig(
        model=str(backbone),
        data=[str(data)],
        epochs=epochs,
        lr=lr,
        output_dir=str(output_dir),
        seed=seed,
        **settings,
    )


def train_world_proxy(directory: Path, cfg: ProxyConfig, policy_dir: Path | None = None) -> Path:
    """Trains the proxy into ``directory`` / model (reused when it is already there)."""
    model_dir = directory / "model"
    if (model_dir / "rewardkit.json").exists():
        return model_dir
    directory.mkdir(parents=True, exist_ok=True)
    pairs = world_pairs(cfg.pairs, cfg.labels, cfg.data_seed)
    if cfg.policy_pairs:
        if policy_dir is None:
            raise ValueError("policy_pairs needs the starting policy's directory")
        pairs += sampled_pairs(policy_dir, cfg.policy_pairs, cfg.labels, cfg.data_seed)
    data = directory / "pairs.jsonl"
    write_records(pairs, data)
    backbone = tiny_backbone(directory / "init", cfg.width, cfg.seed)
    result = train(
        tiny_train_config(
            backbone, data, directory / "train", cfg.epochs, cfg.lr, cfg.seed, threads=cfg.threads
        )
    )
    model = RewardModel.load(result.model_dir, precision="fp32")  # as the proxy trained
    items = [(render_text(p.prompt), render_text(r)) for p in pairs for r in (p.chosen, p.rejected)]
    random.Random(cfg.seed).shuffle(items)
    cut = min(len(items) // 2, 2000)
    fit_ood(model, items[:cut], items[cut : 2 * cut]).save(result.model_dir)
    Path(result.model_dir).rename(model_dir)
    return model_dir
