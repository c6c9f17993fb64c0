"""The model card a reward model goes to the Hub with: the trainer's card (``README.md`` beside the
weights), Hub metadata, held-out accuracy with its interval, the ``rewardkit eval`` results with
their bootstrap intervals next to the length baselines, and how to load it in rewardkit, plain
transformers, TRL and vLLM.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rewardkit.models.backbones import is_hub_model
from rewardkit.models.heads import head_kind

BASELINE_NAMES = {
    "baseline:longer": "length baseline: the longer response wins",
    "baseline:shorter": "length baseline: the shorter response wins",
    "baseline:random": "random baseline",
}


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a share measured on ``n`` items."""
    if n <= 0:
        return (math.nan, math.nan)
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def _front_matter(info: dict[str, Any]) -> str:
    lines = ["---", "library_name: transformers", "pipeline_tag: text-classification"]
    lines += ["tags:", "- reward-model", "- rewardkit"]
    if is_hub_model(str(info.get("backbone", "")).split("@")[0]):
        lines.append(f"base_model: {info['backbone'].split('@')[0]}")
    return "\n".join([*lines, "---", ""])


def _accuracy(metrics: dict[str, Any]) -> str:
    accuracy, n = metrics.get("accuracy"), metrics.get("examples")
    if not isinstance(accuracy, (int, float)) or not isinstance(n, int) or math.isnan(accuracy):
        return ""
    low, high = wilson_interval(float(accuracy), n)
    return f"{accuracy:.3f} on {n} held-out examples (95% Wilson interval {low:.3f} to {high:.3f})"


def _held_out(metrics: dict[str, Any]) -> str:
    overall = _accuracy(metrics)
    if not overall:
        return ""
    parts = [
        f"- {name}: {line}"
        for name, part in metrics.get("parts", {}).items()
        if (line := _accuracy(part))
    ]
    return "\n## Held-out accuracy\n\n" + "\n".join([overall + ".", *parts]) + "\n"


def _evaluation(eval_dir: Path) -> str:
    """The table of a ``rewardkit eval --output`` directory: every scorer, baselines included."""
    path = eval_dir / "metrics.json"
    if not path.exists():
        raise FileNotFoundError(f"{eval_dir}: no metrics.json (the --output of `rewardkit eval`)")
    results = json.loads(path.read_text())["results"]
    rows = ["| suite | scorer | accuracy | 95% interval | items |", "|---|---|---|---|---|"]
    for r in results:
        acc = r["accuracy"]
        name = BASELINE_NAMES.get(r["scorer"], r["scorer"])
        rows.append(
            f"| {r['suite']} | {name} | {acc['value']:.3f} | {acc['low']:.3f} to "
            f"{acc['high']:.3f} | {r['items']} |"
        )
    return (
        "\n## Evaluation\n\nFrom `rewardkit eval` (bootstrap intervals). A reward model that does "
        "not clearly beat the length baselines has learned length, not preference.\n\n"
        + "\n".join(rows)
        + "\n"
    )


def _usage(repo: str, info: dict[str, Any]) -> str:
    style = info.get("input_style")
    decoder = style == "concat"
    inputs = {  # exactly what rewardkit feeds it for plain-text prompts and responses
        "concat": 'ids = tokenizer(prompt)["input_ids"] + tokenizer(response, '
        'add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]\n'
        "    logits = model(input_ids=torch.tensor([ids])).logits",
        "pair": 'logits = model(**tokenizer(prompt, response, return_tensors="pt")).logits',
        "text": 'logits = model(**tokenizer(prompt + response, return_tensors="pt")).logits',
    }[str(style)]
    if info.get("pooling") == "mean":  # the head reads the mean of the real tokens
        batch = {
            "concat": 'ids = tokenizer(prompt)["input_ids"] + tokenizer(response, '
            'add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]\n'
            '    batch = {"input_ids": torch.tensor([ids]), "attention_mask": '
            "torch.ones(1, len(ids), dtype=torch.long)}",
            "pair": 'batch = tokenizer(prompt, response, return_tensors="pt")',
            "text": 'batch = tokenizer(prompt + response, return_tensors="pt")',
        }[str(style)]
        inputs = (
            f"{batch}\n"
            "    hidden = model.base_model(**batch).last_hidden_state\n"
            '    mask = batch["attention_mask"].unsqueeze(-1)\n'
            f"    logits = model.{'score' if decoder else 'classifier'}"
            "((hidden * mask).sum(1) / mask.sum(1))"
        )
    kind = head_kind(str(info.get("head", "scalar")))
    outputs = (
        "raw = logits[0, 0].item()"
        if kind.auto_class == "AutoModelForSequenceClassification"
        and len(info.get("objectives", [])) == 1
        else f"raw = logits  # a {info.get('head')} head: outputs {info.get('objectives')}, "
        "combined as rewardkit.json says"
    )
    mean, std = float(info.get("mean", 0.0)), float(info.get("std", 1.0))
    # TRL's GRPO tokenizes prompt + completion with add_special_tokens=False: no [CLS]/[SEP] for
    # an encoder, no end-of-sequence token for a decoder, where this model reads its reward
    trl_plain = (
        f' (TRL\'s own loader, `reward_funcs="{repo}"`, leaves out the special tokens this model '
        "reads its reward at, so its scores differ):"
    )
    vllm = (
        f"""
vLLM (decoder backbones), as a pooling model:

```python
from vllm import LLM
llm = LLM(model="{repo}", runner="pooling")
outputs = llm.classify([prompt + response])   # the classifier's activation of the raw score
```
"""
        if decoder
        else "\nvLLM serves decoder reward models; this one has an encoder backbone.\n"
    )
    return f"""
## Load it

rewardkit (scores, normalised scores, every head kind):

```bash
rewardkit score --model {repo} --data pairs.jsonl
rewardkit serve --model {repo}
```

Plain transformers:

```python
import torch
from transformers import {kind.auto_class}, AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained("{repo}")
model = {kind.auto_class}.from_pretrained("{repo}")
with torch.no_grad():
    {inputs}
{outputs}
normalised = (raw - {mean:.4f}) / {std:.4f}
```

TRL, as the reward of GRPO: rewardkit's reward function reads prompts and completions (plain
or chat) exactly as in training and returns normalised scores{trl_plain}

```python
from trl import GRPOTrainer
from rewardkit.serving.trl_reward import grpo_reward
trainer = GRPOTrainer(model=policy, reward_funcs=[grpo_reward("{repo}")], train_dataset=prompts)
```
{vllm}"""


def hub_card(model_dir: Path, repo: str, eval_dir: Path | None = None) -> str:
    """The card for ``repo``: the trainer's card (or a title) with the sections above."""
    info = json.loads((model_dir / "rewardkit.json").read_text())
    trainer_card = model_dir / "README.md"
    body = (
        trainer_card.read_text()
        if trainer_card.exists()
        else f"# Reward model `{repo}`\n\nBackbone `{info.get('backbone')}`.\n"
    )
    evaluation = _evaluation(eval_dir) if eval_dir is not None else ""
    held_out = _held_out(info.get("metrics", {}))
    return _front_matter(info) + body + held_out + evaluation + _usage(repo, info)
