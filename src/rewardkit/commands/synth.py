"""`rewardkit data synth`: write data from the synthetic preference world (it has a gold reward)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rewardkit.data.writers import write_records
from rewardkit.records import Record
from rewardkit.synthetic.generate import generate_pairs, generate_ratings, generate_step_traces


@dataclass
class SynthConfig:
    output: str = "synthetic/pairs.jsonl"
    """Output file; the suffix picks the format (.jsonl, .jsonl.gz, .parquet, ...)."""
    kind: Literal["pairs", "ratings", "step_traces"] = "pairs"
    """What to generate: voted preference pairs, attribute ratings or labelled step traces."""
    n: int = 1000
    """How many items."""
    seed: int = 0
    """The same seed gives the same data."""
    votes_per_pair: int = 3
    """Simulated annotators voting on each pair."""


def run(cfg: SynthConfig) -> int:
    n = write_records(_generate(cfg), cfg.output)
    print(f"wrote {n} {cfg.kind} to {cfg.output}")
    return 0


def _generate(cfg: SynthConfig) -> Iterator[Record]:
    if cfg.kind == "pairs":
        return generate_pairs(cfg.n, cfg.seed, cfg.votes_per_pair)
    if cfg.kind == "ratings":
        return generate_ratings(cfg.n, cfg.seed)
    return generate_step_traces(cfg.n, cfg.seed)
