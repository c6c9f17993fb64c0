"""One RL run: TRL's ``GRPOTrainer`` optimises the world policy against a proxy reward model.

    result = run_rl(RLSettings(steps=200), policy_dir, [proxy], ood=None, output_dir=out)
    result.rows            # what log.jsonl holds: proxy, gold, KL, length, spread, OOD per log

Prompts are the synthetic world's (each category alike), written to the policy as
``policy.policy_prompt`` does. Sampling is at temperature 1 with no top-k or top-p, so the logged
responses are samples of the policy and their log-ratio estimates the KL without bias. The KL
coefficient ``beta`` is GRPO's own (a penalty in the loss against a frozen copy of the start).
The same run scales out with ``accelerate launch``: TRL's trainer does the distribution.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rewardkit.hacking.sampler import sample_prompts
from rewardkit.models.ood import MahalanobisOod
from rewardkit.rl.policy import load_policy, policy_prompt
from rewardkit.rl.rewards import Member, Probe, StopRule, WorldReward, balanced_prompts
from rewardkit.rl.settings import RLSettings


@dataclass(frozen=True)
class RLResult:
    rows: list[dict[str, Any]]
    output_dir: Path
    stopped_at: int | None
    """The step a stop rule ended the run at, if one did."""


def prompt_dataset(count: int, seed: int) -> Any:
    from datasets import Dataset

    prompts = [policy_prompt(p.text) for p in sample_prompts(count, seed)]
    random.Random(seed).shuffle(prompts)
    return Dataset.from_dict({"prompt": prompts})


def stop_when_told(reward: WorldReward) -> Any:
    """A TrainerCallback that ends training once the reward's stop rule has fired (built here
    because transformers is imported only when a run starts)."""
    from transformers import TrainerCallback

    class StopWhenTold(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> Any:
            if reward.stopped_at is not None:
                control.should_training_stop = True
            return control

    return StopWhenTold()


def run_rl(
    settings: RLSettings,
    policy_dir: Path,
    members: Sequence[Member],
    output_dir: Path,
    ood: MahalanobisOod | None = None,
) -> RLResult:
    try:
        from trl.trainer.grpo_config import GRPOConfig
        from trl.trainer.grpo_trainer import GRPOTrainer
    except ImportError as error:
        raise ValueError("RL runs need TRL: pip install 'rewardkit[rl]'") from error

    torch.manual_seed(settings.seed)
    tokenizer, policy = load_policy(policy_dir)
    reference = copy.deepcopy(policy)  # the frozen start the KL is measured against
    stop = StopRule(settings.stop, settings.stop_ratio)
    reward = WorldReward(members, settings.mitigation, output_dir, settings.log_every, ood, stop)
    reward.probe = Probe(
        policy,
        reference,
        tokenizer,
        balanced_prompts(settings.probe_prompts, settings.seed + 1),
        settings.probe_samples,
        settings.max_completion_length,
    )
    batch = settings.prompts_per_step * settings.generations
    args = GRPOConfig(
        output_dir=str(output_dir / "trainer"),
        max_steps=settings.steps,
        learning_rate=settings.lr,
        lr_scheduler_type="constant",  # the same pressure to the end: where a proxy breaks shows
        per_device_train_batch_size=batch,
        num_generations=settings.generations,
        max_completion_length=settings.max_completion_length,
        temperature=1.0,
        top_k=0,
        top_p=1.0,
        beta=settings.beta,
        activation_checkpointing=False,  # TRL turns it on: memory a tiny model does not need, 5x time
        seed=settings.seed,
        logging_steps=settings.log_every,
        save_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        bf16=torch.cuda.is_available(),
        disable_tqdm=False,
    )
    trainer = GRPOTrainer(
        model=policy,
        reward_funcs=reward,
        args=args,
        train_dataset=prompt_dataset(settings.prompts, settings.seed),
        processing_class=tokenizer,
        callbacks=[stop_when_told(reward)],
    )
    trainer.train()
    if reward.rows and reward.rows[-1]["step"] < trainer.state.global_step:
        reward.log(trainer.state.global_step)  # where the run ended, too
    return RLResult(reward.rows, output_dir, reward.stopped_at)
