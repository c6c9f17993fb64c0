"""`rewardkit data aggregate`: fit a label model on the annotators' votes and write pairs whose
``soft_label`` is the aggregated P(chosen), with its confidence and the model's provenance.

    rewardkit data aggregate votes.jsonl --output labelled.jsonl --method dawid_skene

The work is the aggregation package's; this module reads the pairs, prints the agreement and
annotator tables, and writes the records and (``--report``) the same figures as JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rewardkit.aggregation import (
    VOTE_SOURCES,
    DropRules,
    agreement_statistics,
    annotator_reports,
    chosen_is_longer,
    fit_label_model,
    from_pairs,
    labelled_pairs,
)
from rewardkit.aggregation.table import Floats, VoteTable
from rewardkit.commands.data import InputConfig, open_stream, with_progress
from rewardkit.data.load import RecordStream
from rewardkit.data.writers import write_records
from rewardkit.records import Pair


@dataclass
class AggregateConfig(InputConfig):
    output: str = ""
    """Output file of pairs (any suffix `data convert` writes)."""
    method: str = "dawid_skene"
    """Label model: majority, dawid_skene (chosen/rejected/tie classes), dawid_skene_sided
    (the truth is always a side), mace, glad, glad_sided or bradley_terry (see
    docs/aggregation.md)."""
    symmetric: bool = True
    """Fit on every pair seen from both sides, so which side the data calls chosen is no evidence."""
    votes_from: Literal["votes", "oasst_counts"] = "votes"
    """votes: the pairs' own votes; oasst_counts: also votes derived from OpenAssistant ranks
    and +1/-1 reaction counts in the pairs' metadata."""
    confidence_weights: bool = False
    """Set each pair's weight to its label confidence (times any weight it had)."""
    drop_ties: bool = False
    """Leave out pairs whose aggregated label is most probably a tie (kept as P = 0.5 otherwise)."""
    min_confidence: float = 0.0
    """Leave out pairs whose label confidence is below this."""
    drop_unvoted: bool = False
    """Leave out pairs without votes (kept unchanged otherwise)."""
    report: str | None = None
    """Also write agreement, the annotator table and the label model's parameters as JSON."""
    resamples: int = 200
    """Bootstrap resamples for the intervals."""
    seed: int = 0
    """Seeds the bootstrap."""


def run(cfg: AggregateConfig) -> int:
    if not cfg.output:
        raise ValueError("--output is required")
    stream = open_stream(cfg)
    pairs, skipped = _read_pairs(stream, cfg.votes_from)
    table = from_pairs(pairs)
    if not table.task.size:
        raise ValueError(f"no votes in {', '.join(cfg.paths)}: nothing to aggregate")
    model = fit_label_model(cfg.method, table, cfg.symmetric)
    proba = model.predict_proba(table)
    drop = DropRules(cfg.drop_ties, cfg.min_confidence, cfg.drop_unvoted)
    out, dropped = labelled_pairs(pairs, proba, cfg.method, cfg.confidence_weights, drop)
    n = write_records(out, cfg.output)
    summary = _summary(cfg, model.parameters(), table, proba, pairs)
    print(format_summary(summary))
    print(
        f"wrote {n} pairs to {cfg.output}; dropped: {dict(dropped) or 'none'}; "
        f"not pairs, skipped: {dict(skipped) or 'none'}"
    )
    print(stream.report.summary())
    if cfg.report:
        summary["dropped"] = dict(dropped)
        Path(cfg.report).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.report).write_text(json.dumps(summary, indent=1))
    return 0


def _read_pairs(stream: RecordStream, votes_from: str) -> tuple[list[Pair], Counter[str]]:
    derive = VOTE_SOURCES.get(votes_from)
    pairs, skipped = [], Counter[str]()
    for record in with_progress(stream, "reading"):
        if isinstance(record, Pair):
            pairs.append(derive(record) if derive else record)
        else:
            skipped[type(record).__name__] += 1
    return pairs, skipped


def _summary(
    cfg: AggregateConfig,
    parameters: dict[str, object],
    table: VoteTable,
    proba: Floats,
    pairs: list[Pair],
) -> dict[str, Any]:
    agreement = agreement_statistics(table, cfg.resamples, cfg.seed)
    reports = annotator_reports(table, proba, chosen_is_longer(pairs), cfg.resamples, cfg.seed)
    return {
        "label_model": cfg.method,
        "pairs": len(pairs),
        "votes": int(table.task.size),
        "annotators": len(table.annotators),
        "agreement": {name: s.to_dict() for name, s in agreement.items()},
        "annotator_table": [r.to_dict() for r in reports],
        "parameters": parameters,
    }


def _interval(stat: dict[str, float | None]) -> str:
    def num(x: float | None) -> str:
        return "  n/a" if x is None else f"{x:.3f}"

    return f"{num(stat['value'])} [{num(stat['low'])}, {num(stat['high'])}]"


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"label model: {summary['label_model']}  pairs: {summary['pairs']}  "
        f"votes: {summary['votes']}  annotators: {summary['annotators']}",
        "agreement (95% bootstrap interval over pairs):",
    ]
    lines += [f"  {name:<30}{_interval(s)}" for name, s in summary["agreement"].items()]
    columns = ("reliability", "agrees_with_others", "prefers_longer", "prefers_first")
    lines.append(
        f"  {'annotator':<18}{'votes':>7}{'ties':>7}" + "".join(f"{c:>26}" for c in columns)
    )
    for row in summary["annotator_table"][:30]:
        lines.append(
            f"  {row['annotator'][:18]:<18}{row['votes']:>7}{row['tie_rate']:>7.2f}"
            + "".join(f"{_interval(row[c]):>26}" for c in columns)
        )
    return "\n".join(lines)
