"""Where training pairs come from: files in any known format, or the synthetic world; and the
prompt-disjoint held-out share when no eval files are given."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardkit.data import is_eval, read_records
from rewardkit.records import Pair
from rewardkit.synthetic import generate_pairs, label_accuracy
from rewardkit.training.config import TrainConfig


@dataclass
class PairSources:
    train: list[Pair]
    eval: list[Pair]
    provenance: dict[str, Any] = field(default_factory=dict)


def _file_digest(path: Path) -> str:
    if path.is_dir():
        return "directory"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _read(paths: list[str], cfg: TrainConfig) -> tuple[list[Pair], dict[str, Any]]:
    stream = read_records(paths, to="pair", on_error=cfg.on_error)
    pairs = [r for r in stream if isinstance(r, Pair)]
    info = {
        "files": {p: _file_digest(Path(p)) for p in paths},
        "formats": stream.formats,
        "rows_read": stream.report.rows_read,
        "skipped": dict(stream.report.counts),
    }
    return pairs, info


def load_sources(cfg: TrainConfig) -> PairSources:
    if cfg.data:
        pairs, provenance = _read(cfg.data, cfg)
    else:
        pairs = list(generate_pairs(cfg.synthetic_pairs, seed=cfg.seed))
        provenance = {"synthetic": {"pairs": cfg.synthetic_pairs, "seed": cfg.seed}}
    if cfg.eval_data:
        held, eval_info = _read(cfg.eval_data, cfg)
        provenance["eval"] = eval_info
        train = pairs
    else:
        held = [p for p in pairs if is_eval(p, cfg.eval_fraction, cfg.seed)]
        train = [p for p in pairs if not is_eval(p, cfg.eval_fraction, cfg.seed)]
        provenance["eval"] = {"prompt_disjoint_fraction": cfg.eval_fraction, "seed": cfg.seed}
    if all("gold_prefers_chosen" in p.metadata for p in held) and held:
        provenance["eval"]["label_accuracy_vs_gold"] = round(label_accuracy(held), 4)
    provenance["train_pairs"], provenance["eval_pairs"] = len(train), len(held)
    return PairSources(train, held, provenance)
