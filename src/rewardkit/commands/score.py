"""`rewardkit score`: score every response in a file with a trained model, written as JSONL.

Pairs give ``chosen`` and ``rejected`` scores, rankings one score per response, ratings and
step traces one for the response. Each score comes raw and normalised (with the mean/std saved
at training time), with the head's own fields where it has them (``objectives``, ``steps``,
``spread``); an input over the model's length limit gets ``null`` and ``too_long: true``
(``--overflow flag``), or a score of the input with its oldest prompt turns or tokens left out and
their count in ``truncated_tokens`` (``--overflow truncate_prompt``): never a silent cut.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.data.load import ReadOptions, RecordStream
from rewardkit.data.writers import atomic_path
from rewardkit.records import Pair, Ranking, Rating, Record, StepTrace, Text
from rewardkit.scoring import BATCH_TOKENS, Overflow, Precision

# The model (torch) is imported inside run only. Not even under TYPE_CHECKING: jsonargparse runs
# the TYPE_CHECKING block of a config's module to resolve annotations, so `--help` would load it.

Slot = tuple[int, str, Text, Text]
"""(record index, output field, prompt, response): one response to score."""


@dataclass
class ScoreConfig(ReadOptions):
    model: str = ""
    """A model directory written by `rewardkit train`, or its Hub id OWNER/NAME[@REVISION]."""
    data: list[str] = field(default_factory=list)
    """Files to score (any format `rewardkit data formats` lists), or Hub datasets."""
    output: str = "scores.jsonl"
    """Where the scores go (JSONL, one row per input record, in input order)."""
    batch_tokens: int = BATCH_TOKENS
    """Padded tokens per forward pass; batches are formed in length order."""
    overflow: Overflow = "flag"
    """Inputs over the model's max_length: flag (no score, too_long) or truncate_prompt (the
    oldest prompt turns or tokens left out, counted in truncated_tokens)."""
    precision: Precision = "auto"
    """Weights in bf16 where the hardware runs it fast (auto), or always (bf16), or fp32."""


def run(cfg: ScoreConfig) -> int:
    if not cfg.model:
        raise ValueError("--model is required")
    if not cfg.data:
        raise ValueError("--data is required")
    from rewardkit.models.reward_model import RewardModel

    records = list(RecordStream(cfg.data, cfg.read_options()))  # bad data fails before loading
    model = RewardModel.load(cfg.model, precision=cfg.precision)
    marker = model.info.step_marker
    slots = [slot for i, record in enumerate(records) for slot in record_slots(i, record, marker)]
    result = model.score(
        [s[2] for s in slots], [s[3] for s in slots], cfg.batch_tokens, True, cfg.overflow
    )
    rows: list[dict[str, Any]] = [{"id": getattr(r, "id", None)} for r in records]
    for k, (i, name, _, _) in enumerate(slots):
        rows[i][name] = result.item(k)
    _write(rows, Path(cfg.output))
    notes = []
    if any(result.too_long):
        notes.append(f"{sum(result.too_long)} over {model.info.max_length} tokens")
    if result.unscorable:
        notes.append(f"{len(result.unscorable)} the head cannot read (see each row's error)")
    shown = f" (not scored, flagged: {'; '.join(notes)})" if notes else ""
    cut = sum(n > 0 for n in result.truncated)
    shown += f" ({cut} scored with a shortened prompt: truncated_tokens)" if cut else ""
    print(f"scored {len(slots)} responses in {len(records)} records -> {cfg.output}{shown}")
    return 0


def record_slots(index: int, record: Record, step_marker: str) -> list[Slot]:
    if isinstance(record, Pair):
        items = [("chosen", record.chosen), ("rejected", record.rejected)]
    elif isinstance(record, Ranking):
        items = [(f"response_{i}", r) for i, r in enumerate(record.responses)]
    elif isinstance(record, Rating):
        items = [("response", record.response)]
    elif isinstance(record, StepTrace):
        items = [("response", step_marker.join(record.steps))]
    else:
        raise ValueError(
            f"cannot score a {type(record).__name__}; give pairs, rankings, ratings or step traces"
        )
    return [(index, name, record.prompt, text) for name, text in items]


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    # Written to a temporary file and renamed, so a failed run leaves no half file behind.
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
