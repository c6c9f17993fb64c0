"""The starting policy of RL runs: a tiny causal LM fitted on the synthetic world's responses.

    directory = fit_world_policy(Path("runs/rl/policy"), PolicyConfig())   # cached by config
    tokenizer, model = load_policy(directory)

The responses come from the over-optimisation lab's sampler, whose quality dimensions are coin
flips and whose padding is uniform over 0..5 sentences, so the fitted policy writes answers of
every quality and length: RL has something to select from, good and bad. The tokenizer is a
byte-level BPE learned on the same text, so decoding gives back the exact characters (spaces,
newlines, capitals) that the gold reward reads.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from rewardkit.hacking.sampler import Policy, sample_responses
from rewardkit.synthetic.world import make_prompt

PAD, EOS = "<pad>", "<eos>"
PROMPT_END = "\n"
"""Ends every prompt the policy sees, so that it knows where its answer starts."""
CONFIG_FILE = "policy.json"


@dataclass(frozen=True)
class PolicyConfig:
    width: int = 128
    layers: int = 2
    heads: int = 4
    vocab_size: int = 600
    examples: int = 4000
    """(prompt, response) examples drawn from the world's sampler."""
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0


def policy_prompt(prompt: str) -> str:
    return prompt.strip() + PROMPT_END


def world_corpus(examples: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    sampler = Policy()
    corpus = []
    for _ in range(examples):
        prompt = make_prompt(rng)
        corpus.append(
            (policy_prompt(prompt.text), sample_responses(prompt, 1, rng, sampler)[0].text)
        )
    return corpus


def build_tokenizer(texts: list[str], vocab_size: int) -> Any:
    """A byte-level BPE tokenizer learned on ``texts``: lossless, with pad and eos tokens and no
    token added around an encoding (so TRL's prompt ids are the ones this module computes)."""
    import transformers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return transformers.PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer, eos_token=EOS, pad_token=PAD
    )


def _tiny_llama(tokenizer: Any, cfg: PolicyConfig) -> Any:
    import transformers

    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.width,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads,
        intermediate_size=2 * cfg.width,
        max_position_embeddings=512,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(cfg.seed)
    return transformers.LlamaForCausalLM(config)


def _batch(examples: list[tuple[list[int], list[int]]], pad: int) -> dict[str, torch.Tensor]:
    """Right-padded ids with the loss on the response tokens (and the eos after them) only."""
    width = max(len(p) + len(r) for p, r in examples)
    ids = torch.full((len(examples), width), pad)
    labels = torch.full((len(examples), width), -100)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (prompt, response) in enumerate(examples):
        end = len(prompt) + len(response)
        ids[row, :end] = torch.tensor(prompt + response)
        labels[row, len(prompt) : end] = torch.tensor(response)
        mask[row, :end] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def fit_world_policy(directory: Path, cfg: PolicyConfig) -> Path:
    """Fits (or reuses, when ``directory`` holds one fitted with the same config) the policy."""
    saved = directory / CONFIG_FILE
    if saved.exists() and json.loads(saved.read_text()) == asdict(cfg):
        return directory
    corpus = world_corpus(cfg.examples, cfg.seed)
    tokenizer = build_tokenizer([p + r for p, r in corpus], cfg.vocab_size)
    model = _tiny_llama(tokenizer, cfg)
    examples = [
        (tokenizer(p)["input_ids"], tokenizer(r)["input_ids"] + [tokenizer.eos_token_id])
        for p, r in corpus
    ]
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    warmup = max(1, cfg.steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1 - s / cfg.steps)
    )
    rng = random.Random(cfg.seed)
    model.train()
    progress = tqdm(range(cfg.steps), desc="fitting the policy", unit=" steps")
    for _ in progress:
        loss = model(**_batch(rng.sample(examples, cfg.batch_size), tokenizer.pad_token_id)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        progress.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    saved.write_text(json.dumps(asdict(cfg), indent=2))  # last: a half-written policy is refitted
    return directory


def load_policy(directory: str | Path) -> tuple[Any, Any]:
    """(tokenizer, model) of a policy directory, the model in eval mode."""
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(str(directory))
    model = transformers.AutoModelForCausalLM.from_pretrained(str(directory))
    return tokenizer, model.eval()  # type: ignore[no-untyped-call]


def sample_completions(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int = 128
) -> list[tuple[str, list[int]]]:
    """One sample (temperature 1, no top-k or top-p) per world prompt: its text and its token
    ids up to and with the eos (the policy chose to stop: that choice has a probability too)."""
    encoded = tokenizer(
        [policy_prompt(p) for p in prompts], return_tensors="pt", padding=True, padding_side="left"
    ).to(next(model.parameters()).device)
    with torch.no_grad():
        output = model.generate(
            **encoded,
            do_sample=True,
            temperature=1.0,
            top_k=0,
            top_p=1.0,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
        )
    samples = []
    for row in output[:, encoded["input_ids"].shape[1] :].tolist():
        ids = row[: row.index(tokenizer.eos_token_id) + 1] if tokenizer.eos_token_id in row else row
        samples.append((tokenizer.decode(ids, skip_special_tokens=True), ids))
    return samples
