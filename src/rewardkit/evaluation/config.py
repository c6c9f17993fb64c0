"""`rewardkit eval`'s config, apart from the command so `--help` loads no model code."""

from __future__ import annotations

from dataclasses import dataclass, field

from rewardkit.data.load import ReadOptions
from rewardkit.scoring import BATCH_TOKENS, Overflow


@dataclass
class EvalConfig(ReadOptions):
    models: list[str] = field(default_factory=list)
    """Scorers: model directories (rewardkit or plain transformers) or their Hub ids, reward
    server URLs (OpenRLHF /get_reward), module:function, or baseline:longer|shorter|random."""
    suites: list[str] = field(default_factory=list)
    """Suite YAML files (files + sections) or data files or Hub datasets (their subsets become
    sections)."""
    output: str = "runs/eval"
    """Directory for metrics.json, scores.jsonl, report.md, report.html and plots/."""
    batch_tokens: int = BATCH_TOKENS
    """Padded tokens per forward pass for local models."""
    max_length: int = 512
    """Token limit for plain transformers directories (rewardkit models carry their own)."""
    overflow: Overflow = "flag"
    """Local models' inputs over their limit: flag (no score: the pair counts wrong) or
    truncate_prompt (the oldest prompt turns or tokens left out); both counted in the report."""
    resamples: int = 1000
    """Bootstrap resamples for every 95% interval."""
    seed: int = 0
    limit: int | None = None
    """Evaluate only the first N pairs and N best-of-K prompts of each suite."""
    subset_field: str = "subset"
    """The row field that names an item's subset (a suite file may name its own)."""
