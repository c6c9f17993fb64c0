"""The config of `rewardkit train`: one dataclass for the CLI, YAML files and Python callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rewardkit.data.formats.steps import Neutral
from rewardkit.scoring import Overflow

Kind = Literal["pair", "rating", "steps"]
"""What a run trains on: preference pairs, rated responses, or step-labelled solutions."""
KIND_NAMES: dict[Kind, str] = {"pair": "pairs", "rating": "ratings", "steps": "step traces"}


@dataclass
class LoraConfig:
    r: int = 0
    """LoRA rank; 0 trains every weight."""
    alpha: int = 16
    """LoRA scaling numerator."""
    dropout: float = 0.0
    """Dropout on the LoRA path."""
    target_modules: list[str] | None = None
    """Module names to adapt; None lets peft pick the attention projections for the architecture."""


@dataclass
class TrainConfig:
    model: str = "minilm"
    """Backbone: a local directory, a Hub id OWNER/NAME[@REVISION] (fetched into the Hugging
    Face cache; read from it offline) or 'minilm' (offline package)."""
    pooling: Literal["auto", "last", "mean", "cls"] = "auto"
    """auto: last real token for decoders, the mean of the tokens for encoders (measured in
    docs/training.md; cls: the encoder's own first-token head, as plain transformers reads it)."""
    layout: Literal["auto", "text", "pair"] = "auto"  # models.inputs.Layout, torch-free here
    """Encoders' input: text (one segment, prompt + response, as plain transformers users and
    TRL's RewardTrainer feed it) or pair (sentence pair with segment ids); auto: the default
    docs/training.md measured. Decoders always read prompt then response."""
    data: list[str] = field(default_factory=list)
    """Training files (any format `rewardkit data formats` lists) or Hub datasets
    OWNER/NAME[:CONFIG][@SPLIT] (docs/hub.md); empty: the synthetic world."""
    data_weights: list[float] = field(default_factory=list)
    """Per file of ``data``, in order: how much its pairs count in the loss (multiplying each
    pair's own ``weight``), e.g. to mix human and AI labels; empty: every file counts 1."""
    eval_data: list[str] = field(default_factory=list)
    """Held-out files; empty: a prompt-disjoint share of the training data (eval_fraction)."""
    eval_fraction: float = 0.2
    """Share of prompts held out when no eval_data is given."""
    synthetic_pairs: int = 3000
    """Records drawn from the synthetic world when no data is given (pairs; rated responses for
    the regression loss; worked solutions for a per-step head)."""
    on_error: Literal["strict", "skip"] = "skip"
    """strict: stop on any bad row (all listed); skip: drop them and count them per reason."""
    max_length: int = 512
    """Longest prompt + response in tokens; what happens to longer records: ``overflow``."""
    overflow: Overflow = "flag"
    """Records over max_length: flag: counted and left out; truncate_prompt: kept with the
    prompt's oldest turns (chat) or tokens left out, each side of a pair fitted on its own, and
    counted (as `rewardkit score`, `eval` and the server do)."""
    head: str = "scalar"
    """Head kind: scalar, objectives (K named outputs), ensemble (M members), steps (a score
    per step); see docs/extending.md."""
    objectives: list[str] = field(default_factory=list)
    """Output names of an 'objectives' head (e.g. [helpfulness, safety]); empty: the kind's."""
    members: int = 3
    """Members of an 'ensemble' head (heads on one shared backbone)."""
    objective_weights: list[float] = field(default_factory=list)
    """Fixed weights mixing an 'objectives' head's outputs into the score, one per objective
    (e.g. [1, 0] for the 'odin' loss: quality counts, length does not); empty: their mean."""
    gate: bool = False
    """After training an 'objectives' head, fit a prompt-conditioned gate that mixes its
    outputs (ArmoRM's second stage: backbone and head frozen, Bradley-Terry on pairs)."""
    gate_data: list[str] = field(default_factory=list)
    """Preference pairs for the gate (any pair format); empty: synthetic world pairs."""
    gate_pairs: int = 2000
    """Synthetic pairs for the gate when no gate_data is given."""
    step_marker: str = "\n"
    """Per-step heads: the text that ends each step of a response."""
    neutral: Neutral = "positive"
    """Per-step heads: what a neutral step (PRM800K's rating 0) is trained as: positive (right,
    as Lightman et al. 2023 count it), negative (wrong, as TRL's PRM800K conversion does) or
    unlabelled (left out of the loss)."""
    loss: str = "bradley_terry"
    """The objective, by name in rewardkit.losses.LOSSES: bradley_terry (pairs), regression
    (ratings per objective), step_bce (step labels), or one you register."""
    labels: Literal["hard", "soft"] = "hard"
    """hard: Bradley-Terry on chosen > rejected; soft: P(chosen) from the soft label or the
    annotators' votes (ties count a half)."""
    label_smoothing: float = 0.0
    """Pull every pair's target P(chosen) toward 1/2: p (1 - e) + e / 2 (e in [0, 1]); with hard
    labels the target becomes 1 - e / 2, for labels known to be noisy."""
    use_margin: bool = False
    """Subtract each pair's margin inside the Bradley-Terry loss (Llama 2)."""
    center_weight: float = 0.0
    """Weight of the reward-centring penalty (r_c + r_r)^2 (Eisenstein et al. 2023)."""
    epochs: int = 1
    """Passes over the training pairs."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides epochs when smaller)."""
    batch_size: int = 16
    """Pairs per optimizer step, over all processes and accumulation steps together."""
    grad_accum: int = 1
    """Micro-batches per optimizer step."""
    lr: float = 5e-5
    """Peak learning rate (AdamW)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_ratio: float = 0.0
    """Share of steps with a linear warm-up (none by default, as in TRL: 10% cost 0.03 held-out
    accuracy on hh-rlhf with MiniLM, docs/training.md)."""
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    """Decay after warm-up."""
    max_grad_norm: float = 1.0
    """Gradient clipping; 0 turns it off."""
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """auto: bf16 where the hardware runs it fast (recent CPUs, Ampere+ GPUs), else fp32."""
    eval_every: int = 50
    """Evaluate every N steps (and at the end); 0: only at the end."""
    save_every: int = 50
    """Checkpoint every N steps (and at the end); 0: only at the end."""
    keep_last: int = 2
    """Checkpoints to keep."""
    resume: bool = False
    """Continue from the newest complete checkpoint in output_dir."""
    output_dir: str = "runs/reward-model"
    """Checkpoints, metrics.jsonl, the resolved config and the final model (output_dir/model)."""
    seed: int = 0
    """Seeds weights of the head, dropout and the data order."""
    log_with: list[str] = field(default_factory=list)
    """accelerate trackers to log to as well (tensorboard, wandb, ...)."""
    packing: bool = True
    """Padding-free batches (and, for decoders, each prompt encoded once for both responses);
    the same rewards and gradients as padded batches, with less compute."""
    disable_dropout: bool = True
    """Turn dropout off (as TRL does): it makes r_c - r_r noisy for no gain in reward models."""
    lora: LoraConfig = field(default_factory=LoraConfig)
    """Parameter-efficient fine-tuning; the head is always trained and saved."""
    threads: int | None = None
    """CPU threads for torch; None keeps torch's default."""
    push_to_hub: str | None = None
    """After training, push the model with its card to this Hub repo (OWNER/NAME), as
    `rewardkit push` does; checked before training starts."""
    hub_private: bool = False
    """Create the push_to_hub repo private."""

    @property
    def record_kind(self) -> Kind:
        """What the run trains on follows from its head and loss: step traces for a per-step
        head, rated responses for the regression loss, pairs for everything else."""
        if self.head == "steps":
            return "steps"
        return "rating" if self.loss == "regression" else "pair"
