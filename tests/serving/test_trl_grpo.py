"""A real TRL GRPOTrainer step on a tiny policy takes its rewards from our server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tiny
from live_server import serving

from rewardkit.serving.app import create_app
from rewardkit.serving.backend import ModelBackend, Reading
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.trl_reward import grpo_reward


# TRL 1.16 sets transformers' deprecated gradient_checkpointing flag itself: not ours to fix
@pytest.mark.filterwarnings("ignore:.*gradient_checkpointing.*:FutureWarning")
def test_grpo_trainer_step_scores_with_the_server(tmp_path: Path) -> None:
    trl = pytest.importorskip("trl")
    import datasets

    reward_model = tiny.reward_model("llama", max_length=64)
    backend = ModelBackend(reward_model)
    seen: list[int] = []
    run = backend.run

    def counting_run(items: Any) -> list[Reading]:
        seen.append(len(items))
        return run(items)

    backend.run = counting_run  # type: ignore[method-assign]
    policy, tokenizer = tiny.policy()
    prompts = ["Tell me about the sea.", "Why is the sky blue?", "Name a color.", "Say hello."]
    with serving(create_app(backend, ServeConfig(warmup=False))) as url:
        reward = grpo_reward(url, normalized=False)
        args = trl.GRPOConfig(
            output_dir=str(tmp_path),
            per_device_train_batch_size=4,
            num_generations=2,
            max_completion_length=6,
            max_steps=1,
            report_to=[],
            use_cpu=True,
            logging_steps=1,
            save_strategy="no",
            bf16=False,
        )
        trainer = trl.GRPOTrainer(
            model=policy,
            reward_funcs=[reward],
            args=args,
            train_dataset=datasets.Dataset.from_dict({"prompt": prompts}),
            processing_class=tokenizer,
        )
        trainer.train()
    assert sum(seen) >= 4  # every completion of the step went through the server
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    assert logged and logged[0]["reward"] == logged[0]["reward"]  # a real number, not NaN
