"""Where training records come from: files in any known format, or the synthetic world; and the
prompt-disjoint held-out share when no eval files are given.

The kind of record a run trains on follows from its head and loss (``TrainConfig.record_kind``): pairs for
ranking losses, rated responses for ``regression``, worked solutions for per-step heads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rewardkit.data import is_eval, read_records
from rewardkit.data.hub import hub_revision, is_hub_dataset
from rewardkit.data.names import distinct_names, without_suffixes
from rewardkit.records import Pair, Rating, StepTrace
from rewardkit.synthetic import (
    generate_pairs,
    generate_ratings,
    generate_step_traces,
    label_accuracy,
)
from rewardkit.training.config import KIND_NAMES, Kind, TrainConfig
from rewardkit.training.examples import Record

RECORD_TYPES: dict[Kind, type] = {"pair": Pair, "rating": Rating, "steps": StepTrace}


@dataclass
class Sources:
    train: list[Record]
    eval: list[Record]
    provenance: dict[str, Any] = field(default_factory=dict)
    eval_parts: list[tuple[str, list[Record]]] = field(default_factory=list)
    """Each of several eval files' records under its short name (``hh/eval``): the held-out
    metrics are reported per part as well as over all of them."""


def _file_digest(path: Path) -> str:
    if is_hub_dataset(str(path)):  # a Hub dataset: the commit its rows came from
        return f"hub commit {hub_revision(str(path))}"
    if path.is_dir():
        return "directory"
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _read(paths: list[str], cfg: TrainConfig) -> tuple[list[Record], dict[str, Any]]:
    kind = cfg.record_kind
    stream = read_records(paths, to="pair" if kind == "pair" else None, on_error=cfg.on_error)
    records: list[Record] = []
    others: dict[str, int] = {}
    for record in stream:
        if isinstance(record, RECORD_TYPES[kind]):
            records.append(record)  # type: ignore[arg-type]
        else:
            others[type(record).__name__] = others.get(type(record).__name__, 0) + 1
    if others:  # never dropped silently: a run trains on one kind of record
        raise ValueError(f"{', '.join(paths)}: this run trains on {kind} records, got {others}")
    info = {
        "files": {p: _file_digest(Path(p)) for p in paths},
        "formats": stream.formats,
        "rows_read": stream.report.rows_read,
        "skipped": dict(stream.report.counts),
    }
    return records, info


def _weighted(records: list[Record], weight: float, path: str) -> list[Record]:
    if weight == 1.0:
        return records
    pairs = [r for r in records if isinstance(r, Pair)]
    if len(pairs) < len(records):
        raise ValueError(f"data_weights: {path} holds records other than pairs, which take none")
    return [replace(p, weight=weight * (1.0 if p.weight is None else p.weight)) for p in pairs]


def _read_weighted(cfg: TrainConfig) -> tuple[list[Record], dict[str, Any]]:
    """Each file of ``data`` read on its own, so its pairs take its weight."""
    if len(cfg.data_weights) != len(cfg.data):
        raise ValueError(
            f"data_weights: {len(cfg.data_weights)} weights for {len(cfg.data)} data files"
        )
    if any(not w >= 0 for w in cfg.data_weights):
        raise ValueError(f"data_weights: weights must be >= 0, got {cfg.data_weights}")
    records: list[Record] = []
    infos: dict[str, Any] = {}
    for path, weight in zip(cfg.data, cfg.data_weights, strict=True):
        part, infos[path] = _read([path], cfg)
        infos[path]["weight"] = weight
        records += _weighted(part, weight, path)
    return records, {"sources": infos}


def _read_parts(cfg: TrainConfig) -> tuple[list[tuple[str, list[Record]]], dict[str, Any]]:
    """Each eval file on its own (as weighted training files are read), under its short name."""
    stems = [without_suffixes(Path(path).name) for path in cfg.eval_data]
    parts: list[tuple[str, list[Record]]] = []
    infos: dict[str, Any] = {}
    for name, path in zip(distinct_names(stems, cfg.eval_data), cfg.eval_data, strict=True):
        records, infos[name] = _read([path], cfg)
        parts.append((name, records))
    return parts, {"parts": infos}


def _synthetic(cfg: TrainConfig) -> list[Record]:
    kind = cfg.record_kind
    n, seed = cfg.synthetic_pairs, cfg.seed
    if kind == "steps":
        return list(generate_step_traces(n, seed=seed))
    if kind == "rating":
        return list(generate_ratings(n, seed=seed))
    return list(generate_pairs(n, seed=seed))


def load_sources(cfg: TrainConfig) -> Sources:
    if cfg.data_weights:
        pairs, provenance = _read_weighted(cfg)
    elif cfg.data:
        pairs, provenance = _read(cfg.data, cfg)
    else:
        pairs = _synthetic(cfg)
        name = KIND_NAMES[cfg.record_kind]
        provenance = {"synthetic": {name: cfg.synthetic_pairs, "seed": cfg.seed}}
    parts: list[tuple[str, list[Record]]] = []
    if len(cfg.eval_data) > 1:
        parts, provenance["eval"] = _read_parts(cfg)
        held = [record for _, records in parts for record in records]
        train = pairs
    elif cfg.eval_data:
        held, provenance["eval"] = _read(cfg.eval_data, cfg)
        train = pairs
    else:
        held = [p for p in pairs if is_eval(p, cfg.eval_fraction, cfg.seed)]
        train = [p for p in pairs if not is_eval(p, cfg.eval_fraction, cfg.seed)]
        provenance["eval"] = {"prompt_disjoint_fraction": cfg.eval_fraction, "seed": cfg.seed}
    held_pairs = [p for p in held if isinstance(p, Pair)]
    if held_pairs and all("gold_prefers_chosen" in p.metadata for p in held_pairs):
        provenance["eval"]["label_accuracy_vs_gold"] = round(label_accuracy(held_pairs), 4)
    provenance["train_pairs"], provenance["eval_pairs"] = len(train), len(held)
    return Sources(train, held, provenance, parts)
