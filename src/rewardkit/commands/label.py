"""`rewardkit label`: AI soft labels for pairs from a judge and a written constitution, with the
agreement report against the pairs' human labels.

Every pair is judged in both orders (and by the principles and samples asked for); each call is
appended to the call cache as soon as it returns, so a killed run restarted with the same command
pays for no call twice. The output holds the pairs with their AI soft label and provenance
(``source: ai:JUDGE``, ``metadata.feedback``); ``--report`` gets ``agreement.json``,
``report.md``, ``agreement.png`` and the per-principle ``judgments.jsonl``.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.data.load import ReadOptions, RecordStream
from rewardkit.data.writers import write_records
from rewardkit.feedback.judges import JudgeOptions
from rewardkit.feedback.labeling import Spend
from rewardkit.records import Pair

CHARS_PER_TOKEN = 4
"""For the cost estimate before a run (the real token counts come back with the answers)."""


@dataclass
class LabelConfig(ReadOptions):
    constitution: str = ""
    """The constitution YAML (principles and their comparison questions)."""
    judge: str = "smollm2"
    """openai:MODEL (an OpenAI-compatible endpoint), local:PATH (a causal LM), or smollm2."""
    data: list[str] = field(default_factory=list)
    """Pair files to label (any format `rewardkit data formats` lists)."""
    output: str = "ai-pairs.jsonl"
    """The AI-labelled pairs (rewardkit records)."""
    report: str | None = None
    """Folder for the agreement report; default: beside the output, named OUTPUT-report."""
    cache: str | None = None
    """The call cache (JSONL, append-only); default: OUTPUT.calls.jsonl. Reuse it to resume."""
    sample: int | None = None
    """Label a random subset of this many pairs (seeded) instead of all of them."""
    principles_per_pair: int = 1
    """Principles drawn per pair (as Constitutional AI does); 0: every principle, averaged."""
    samples: int = 1
    """Calls per order and principle, averaged (self-consistency; set a temperature above 0)."""
    seed: int = 0
    price_input: float = 0.0
    """Price per million input tokens, for the cost estimate (0: free, e.g. a local judge)."""
    price_output: float = 0.0
    """Price per million output tokens."""
    threads: int | None = None
    """Torch CPU threads for a local judge."""
    judge_options: JudgeOptions = field(default_factory=JudgeOptions)


def run(cfg: LabelConfig) -> int:
    if not cfg.constitution:
        raise ValueError("--constitution is required")
    if not cfg.data:
        raise ValueError("--data is required")
    from tqdm import tqdm

    from rewardkit.feedback import (
        CallCache,
        Labeller,
        LabelSettings,
        agreement_report,
        ai_pair,
        load_constitution,
    )
    from rewardkit.feedback.judges import LazyJudge
    from rewardkit.feedback.report import write_report

    constitution = load_constitution(cfg.constitution)
    pairs = _pairs(cfg)
    output = Path(cfg.output)
    cache = CallCache(cfg.cache or f"{output}.calls.jsonl")
    _set_threads(cfg)
    judge = LazyJudge(cfg.judge, cfg.judge_options)
    settings = LabelSettings(cfg.principles_per_pair, cfg.samples, cfg.seed)
    labeller = Labeller(judge, constitution, cache, settings)
    to_pay, cached, chars = labeller.pending(pairs)
    tokens = chars // CHARS_PER_TOKEN
    print(
        f"{len(pairs)} pairs: {to_pay} calls to make, {cached} already in {cache.path}; "
        f"about {tokens:,} input tokens, ${_cost(cfg, tokens, 0):.2f} before output tokens"
    )
    start = time.perf_counter()
    labels = []
    bar = tqdm(pairs, desc="judging", unit=" pairs")
    try:
        for pair in bar:
            labels.append(labeller.label(pair))
            spend = labeller.spend
            bar.set_postfix(
                calls=spend.calls, cached=spend.cached, cost=_cost(cfg, *_tokens(spend))
            )
    finally:
        judge.close()
    seconds = time.perf_counter() - start
    write_records((ai_pair(lab, judge.name, constitution.name) for lab in labels), output)
    report = agreement_report(labels)
    folder = Path(cfg.report or output.with_name(output.name.split(".")[0] + "-report"))
    write_records((j for lab in labels for j in lab.judgments), folder / "judgments.jsonl")
    spend = labeller.spend
    run_info: dict[str, Any] = {
        "judge": judge.name,
        "constitution": constitution.name,
        **asdict(spend),
        "retried": getattr(judge.built, "retried", 0),
        "seconds": round(seconds, 1),
        "judge_seconds_per_pair": round(spend.seconds / len(pairs), 3),
        "cost": round(_cost(cfg, *_tokens(spend)), 4),
    }
    write_report(folder, report, labels, run_info)
    print(
        f"wrote {len(labels)} AI-labelled pairs to {output}; report in {folder}\n"
        f"accuracy vs humans {_pct(report.accuracy)}, kappa {report.kappa:.3f}, "
        f"position-consistent {_pct(report.position_consistency)}; "
        f"{spend.calls} calls paid, {spend.cached} from the cache, {seconds:.1f} s"
    )
    return 0


def _pairs(cfg: LabelConfig) -> list[Pair]:
    stream = RecordStream(cfg.data, cfg.read_options())
    pairs = [r for r in stream if isinstance(r, Pair)]
    if stream.report.rows_skipped:
        print(stream.report.summary())
    if not pairs:
        raise ValueError(f"no pairs in {cfg.data}")
    if cfg.sample is not None and cfg.sample < len(pairs):
        pairs = random.Random(cfg.seed).sample(pairs, cfg.sample)
    return pairs


def _set_threads(cfg: LabelConfig) -> None:
    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)


def _tokens(spend: Spend) -> tuple[int, int]:
    return spend.tokens_in, spend.tokens_out


def _cost(cfg: LabelConfig, tokens_in: int, tokens_out: int) -> float:
    return (tokens_in * cfg.price_input + tokens_out * cfg.price_output) / 1e6


def _pct(value: float) -> str:
    return f"{value:.1%}"
