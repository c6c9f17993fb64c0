"""The reward an RL run optimises, and what it logs beside it: the gold reward, the KL to the
starting policy, length, and the proxy's ensemble spread and OOD score.

``WorldReward`` is a TRL reward function (``prompts, completions, ...`` in, one float per
completion out). It scores every completion with the proxy members (each member's normalised
score, so independently trained members share a scale) and applies the mitigation:

- ``aggregate``: how members combine (``mean``; ``min``; ``uncertainty`` = mean - lambda * var,
  Coste et al. 2023);
- ``length_penalty``: subtracted per word of the response (Singhal et al. 2023's length
  exploitation);

and every ``log_every`` steps its ``Probe`` samples the current policy on fixed prompts; each
sample's values go to ``samples.jsonl`` and their means to one row of ``log.jsonl``. A
``StopRule`` ends the run when the ensemble's spread or the OOD score climbs above a multiple of
its starting level.

GRPO already subtracts each prompt's group mean from the rewards, so reward centring (a constant
baseline) is built in rather than an option here.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from rewardkit.hacking.ensemble import aggregate, member_scores
from rewardkit.models.ood import MahalanobisOod, pooled_features
from rewardkit.models.reward_model import RewardModel
from rewardkit.rl.policy import policy_prompt, sample_completions
from rewardkit.rl.settings import Mitigation, StopMetric
from rewardkit.scoring import Scorer
from rewardkit.synthetic.world import (
    CATEGORIES,
    gold_dimensions_of_text,
    gold_reward_of_dimensions,
    make_prompt,
)


@dataclass
class StopRule:
    """Stop when the mean of ``metric`` over the last ``window`` logged rows exceeds ``ratio``
    times its mean over the first ``window`` rows (the starting policy's level)."""

    metric: StopMetric = "none"
    ratio: float = 1.5
    window: int = 3
    seen: list[float] = field(default_factory=list)

    def update(self, row: dict[str, Any]) -> bool:
        value = row.get(self.metric)
        if self.metric == "none" or value is None:
            return False
        self.seen.append(float(value))
        if len(self.seen) < 2 * self.window:
            return False
        start = float(np.mean(self.seen[: self.window]))
        return float(np.mean(self.seen[-self.window :])) > self.ratio * start


def gold_reward_of(prompt: str, response: str) -> float:
    dimensions = gold_dimensions_of_text(prompt, response)
    if dimensions is None:
        raise ValueError(f"not a prompt of the synthetic world: {prompt!r}")
    return gold_reward_of_dimensions(dimensions)


def balanced_prompts(per_category: int, seed: int) -> list[str]:
    """``per_category`` distinct world prompts of each category (fewer where the world has fewer)."""
    rng = random.Random(seed)
    chosen: list[str] = []
    for category in CATEGORIES:
        seen: dict[str, None] = {}
        for _ in range(per_category * 50):
            if len(seen) == per_category:
                break
            seen.setdefault(make_prompt(rng, category).text, None)
        chosen += list(seen)
    return chosen


class Probe:
    """What a log measures: fresh samples of the current policy on fixed prompts, balanced over
    the world's categories (so the gold curve moves with the policy, not with the prompt mix),
    and per sample log pi(y|x) - log pi_ref(y|x) summed over its tokens, whose mean estimates
    KL(pi || pi_ref) without bias since y is sampled from pi at temperature 1."""

    def __init__(
        self,
        policy: Any,
        reference: Any,
        tokenizer: Any,
        prompts: Sequence[str],
        samples: int = 4,
        max_new_tokens: int = 128,
    ) -> None:
        self.policy, self.reference, self.tokenizer = policy, reference, tokenizer
        self.prompts = [p for p in prompts for _ in range(samples)]
        self.max_new_tokens = max_new_tokens

    def sample(self) -> tuple[list[str], list[str], list[list[int]]]:
        """(prompts, responses, response token ids)."""
        drawn = sample_completions(self.policy, self.tokenizer, self.prompts, self.max_new_tokens)
        return list(self.prompts), [text for text, _ in drawn], [ids for _, ids in drawn]

    def kl(self, prompts: Sequence[str], completions: Sequence[Sequence[int]]) -> list[float]:
        prompt_ids = self.tokenizer([policy_prompt(p) for p in prompts])["input_ids"]
        rows = [list(p) + list(c) for p, c in zip(prompt_ids, completions, strict=True)]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        scored = torch.zeros((len(rows), width - 1), dtype=torch.bool)
        for i, (row, prompt) in enumerate(zip(rows, prompt_ids, strict=True)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
            scored[i, len(prompt) - 1 : len(row) - 1] = True  # positions that predict the response
        with torch.no_grad():
            gap = self._logps(self.policy, ids, mask) - self._logps(self.reference, ids, mask)
        return (gap * scored).sum(dim=1).tolist()

    @staticmethod
    def _logps(model: Any, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        device = next(model.parameters()).device
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logps = torch.log_softmax(logits[:, :-1], dim=-1)
        return logps.gather(-1, ids[:, 1:, None].to(device)).squeeze(-1).cpu()


@dataclass
class ProxyValues:
    """Per completion: the members' mean (the proxy reward), their spread, the reward trained on."""

    proxy: npt.NDArray[np.float64]
    spread: npt.NDArray[np.float64] | None
    reward: npt.NDArray[np.float64]


Member = RewardModel | Scorer
"""A model scored in process, or any scorer returning normalised scores (e.g. a ``RemoteScorer``
of a running `rewardkit serve`)."""


def proxy_values(
    members: Sequence[Member],
    prompts: Sequence[str],
    responses: Sequence[str],
    mitigation: Mitigation,
) -> ProxyValues:
    columns = [
        member_scores([m], prompts, responses)
        if isinstance(m, RewardModel)
        else np.asarray(m(prompts, responses), dtype=np.float64)[:, None]
        for m in members
    ]
    scores = np.concatenate(columns, axis=1)
    # an item the proxy cannot read (over its length limit) is worth the batch's worst, not 0
    worst = np.nanmin(scores) if np.isfinite(scores).any() else 0.0
    scores = np.where(np.isfinite(scores), scores, worst)
    words = np.array([len(r.split()) for r in responses], dtype=np.float64)
    how = mitigation.aggregate if scores.shape[1] > 1 else "mean"
    reward = aggregate(scores, how, mitigation.lam) - mitigation.length_penalty * words
    spread = scores.std(axis=1, ddof=1) if scores.shape[1] > 1 else None
    return ProxyValues(scores.mean(axis=1), spread, reward)


class WorldReward:
    """The reward function handed to ``GRPOTrainer`` (see the module docstring)."""

    __name__ = "world_reward"  # TRL names a callable's metrics after it

    def __init__(
        self,
        members: Sequence[Member],
        mitigation: Mitigation,
        output_dir: Path,
        log_every: int,
        ood: MahalanobisOod | None = None,
        stop: StopRule | None = None,
    ) -> None:
        if not members:
            raise ValueError("at least one proxy reward model is needed")
        self.members, self.mitigation, self.ood = list(members), mitigation, ood
        self.log_every, self.stop = max(1, log_every), stop or StopRule()
        self.probe: Probe | None = None
        # under `accelerate launch` every process computes rewards; one of them writes the logs
        self.is_main_process = int(os.environ.get("RANK", "0")) == 0
        self.rows: list[dict[str, Any]] = []
        self.stopped_at: int | None = None
        self.log_path, self.samples_path = output_dir / "log.jsonl", output_dir / "samples.jsonl"
        if self.is_main_process:
            output_dir.mkdir(parents=True, exist_ok=True)
            for path in (self.log_path, self.samples_path):
                path.write_text("")

    def __call__(
        self, prompts: list[str], completions: list[str], trainer_state: Any = None, **_: Any
    ) -> list[float | None]:
        step = int(trainer_state.global_step) if trainer_state is not None else 0
        if step % self.log_every == 0 and self.is_main_process:
            self.log(step)
        values = proxy_values(self.members, prompts, completions, self.mitigation)
        return [float(v) for v in values.reward]

    def log(self, step: int) -> None:
        """Samples the probe's prompts with the current policy; writes each sample's values to
        samples.jsonl and their means to log.jsonl."""
        if self.probe is None:
            raise RuntimeError("attach a Probe (reward.probe) before the run starts")
        prompts, completions, ids = self.probe.sample()
        values = proxy_values(self.members, prompts, completions, self.mitigation)
        gold = [gold_reward_of(p, c) for p, c in zip(prompts, completions, strict=True)]
        kl = self.probe.kl(prompts, ids)
        ood = self._ood(prompts, completions)
        samples: list[dict[str, Any]] = [
            {
                "step": step,
                "prompt": prompt,
                "response": completion,
                "proxy": float(values.proxy[i]),
                "reward": float(values.reward[i]),
                "gold": gold[i],
                "kl": kl[i],
                "words": len(completion.split()),
                "spread": None if values.spread is None else float(values.spread[i]),
                "ood": None if ood is None or not math.isfinite(ood[i]) else float(ood[i]),
            }
            for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True))
        ]
        row: dict[str, Any] = {"step": step, "n": len(samples)}
        for key in ("proxy", "reward", "gold", "kl", "words", "spread", "ood"):
            known = [s[key] for s in samples if s[key] is not None]
            row[key] = float(np.mean(known)) if known else None
        row["gold_sem"] = (
            float(np.std(gold, ddof=1) / math.sqrt(len(gold))) if len(gold) > 1 else 0.0
        )
        row["sqrt_kl"] = math.sqrt(max(row["kl"] or 0.0, 0.0))  # estimates can dip below 0
        with self.samples_path.open("a") as out:
            out.writelines(json.dumps(s) + "\n" for s in samples)
        with self.log_path.open("a") as out:
            out.write(json.dumps(row) + "\n")
        self.rows.append(row)
        if self.stopped_at is None and self.stop.update(row):
            self.stopped_at = step

    def _ood(self, prompts: list[str], completions: list[str]) -> list[float] | None:
        if self.ood is None or not isinstance(self.members[0], RewardModel):
            return None
        features = pooled_features(self.members[0], prompts, completions)
        return self.ood.score(features).tolist()
