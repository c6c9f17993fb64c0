"""Evaluation suites: items to score, the subset each belongs to, and the sections over subsets.

A suite is a YAML file (``files``, ``sections``, optional ``leaderboard`` weighting) or just a
data file, whose subsets then stand as their own sections. Pairs (RewardBench v1's
prompt/chosen/rejected/subset rows, or any pair format), best-of-K prompts (RewardBench 2's
lists, or responses/correct) and step-labelled solutions (ProcessBench rows, or any step format:
see ``process``) may sit in one suite. A row's subset is its ``subset`` field, else
its ``source``, else its file's name as the suite lists it (``hh/eval`` for ``hh/eval.jsonl``); a suite file
may name another subset field (``subset_field``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from rewardkit.aggregation.panel import VotedPanel, voted_panel
from rewardkit.data.formats.steps import first_error
from rewardkit.data.hub import is_hub_dataset
from rewardkit.data.load import ReadOptions, RecordStream
from rewardkit.data.names import distinct_names, without_suffixes
from rewardkit.evaluation.metrics import Weighting
from rewardkit.records import Pair, Ranking, StepTrace, Text, Vote, render_text

REWARDBENCH_SECTIONS: dict[str, list[str]] = {
    "Chat": [
        "alpacaeval-easy",
        "alpacaeval-length",
        "alpacaeval-hard",
        "mt-bench-easy",
        "mt-bench-med",
    ],
    "Chat Hard": [
        "mt-bench-hard",
        "llmbar-natural",
        "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst",
        "llmbar-adver-GPTOut",
        "llmbar-adver-manual",
    ],
    "Safety": [
        "refusals-dangerous",
        "refusals-offensive",
        "xstest-should-refuse",
        "xstest-should-respond",
        "donotanswer",
    ],
    "Reasoning": ["math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"],
    "Prior Sets": ["anthropic_helpful", "anthropic_hhh", "shp", "summarize"],
}
REWARDBENCH_LEADERBOARD = Weighting(
    subset_counts={"math-prm": 984},  # 447 real examples, counted as many as the six code subsets
    section_weights={"Prior Sets": 0.5},
    unweighted_sections=frozenset({"Prior Sets"}),
)
SECTION_MAPS: dict[str, tuple[dict[str, list[str]], Weighting]] = {
    "rewardbench": (REWARDBENCH_SECTIONS, REWARDBENCH_LEADERBOARD),
}
"""Built-in section maps a suite file may name instead of listing its sections."""


@dataclass(frozen=True)
class PairItem:
    prompt: Text
    chosen: Text
    rejected: Text
    subset: str
    outcome: float
    """P(chosen preferred) according to the labels: ``Pair.p_chosen``."""
    votes: tuple[int, int, int]
    """Votes for chosen, for rejected, and ties."""
    annotator_votes: tuple[Vote, ...] = ()
    """The votes themselves, with their annotators (the report's annotator panel)."""


@dataclass(frozen=True)
class BestOfKItem:
    prompt: Text
    responses: tuple[Text, ...]
    correct: tuple[bool, ...]
    subset: str


@dataclass(frozen=True)
class ProcessItem:
    """A solution cut into steps, judged by where its earliest wrong step is (ProcessBench)."""

    prompt: Text
    steps: tuple[str, ...]
    first_error: int
    """The index of the earliest wrong step, -1 when every step is right."""
    subset: str


@dataclass
class Suite:
    name: str
    pairs: list[PairItem] = field(default_factory=list)
    best_of_k: list[BestOfKItem] = field(default_factory=list)
    processes: list[ProcessItem] = field(default_factory=list)
    threshold_subset: str | None = None
    """Where a step scorer's earliest-error threshold is chosen (None: the first process
    subset), then reused on the others."""
    sections: dict[str, list[str]] = field(default_factory=dict)
    leaderboard: Weighting | None = None
    """The suite's own weighting (RewardBench's prior-sets rule), reported beside the plain one."""

    @property
    def subsets(self) -> list[str]:
        seen = [p.subset for p in self.pairs] + [b.subset for b in self.best_of_k]
        return list(dict.fromkeys(seen + [p.subset for p in self.processes]))

    @cached_property
    def pair_lengths(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Characters of each pair's chosen and rejected response: the same for every scorer,
        so measured once per suite."""
        chosen = np.array([text_length(p.chosen) for p in self.pairs], dtype=np.float64)
        rejected = np.array([text_length(p.rejected) for p in self.pairs], dtype=np.float64)
        return chosen, rejected

    @cached_property
    def voted_panel(self) -> VotedPanel | None:
        """The annotator panel of the pairs with votes, where those votes name their
        annotators: the label model and the agreement statistics, fitted once per suite."""
        voted = [p for p in self.pairs if sum(p.votes)]
        if not voted or not all(item.annotator_votes for item in voted):
            return None
        return voted_panel(
            [Pair(i.prompt, i.chosen, i.rejected, votes=i.annotator_votes) for i in voted]
        )

    def section_map(self) -> dict[str, list[str]]:
        """The sections, plus one section per subset that none lists (none is lost)."""
        listed = {s for subsets in self.sections.values() for s in subsets}
        extra = {s: [s] for s in self.subsets if s not in listed}
        return {**self.sections, **extra}


def _subset(record: Pair | Ranking | StepTrace, subset_field: str, fallback: str) -> str:
    subset = record.metadata.get(subset_field)
    return str(subset) if subset not in (None, "") else (record.source or fallback)


def read_items(
    path: Path, options: ReadOptions, subset_field: str = "subset", fallback: str | None = None
) -> tuple[list[PairItem], list[BestOfKItem], list[ProcessItem]]:
    """The items of one file; rows without a subset take ``fallback`` (default: the file's name)."""
    pairs: list[PairItem] = []
    best: list[BestOfKItem] = []
    processes: list[ProcessItem] = []
    fallback = fallback or without_suffixes(path.name)
    for record in RecordStream([path], replace(options, to=None)):
        if isinstance(record, Pair):
            pairs.append(
                PairItem(
                    record.prompt,
                    record.chosen,
                    record.rejected,
                    _subset(record, subset_field, fallback),
                    record.p_chosen,
                    record.vote_counts,
                    record.votes,
                )
            )
        elif isinstance(record, Ranking):
            scores = record.scores or tuple(-float(i) for i in range(len(record.responses)))
            top = max(scores)
            best.append(
                BestOfKItem(
                    record.prompt,
                    record.responses,
                    tuple(s == top for s in scores),
                    _subset(record, subset_field, fallback),
                )
            )
        elif isinstance(record, StepTrace):
            processes.append(
                ProcessItem(
                    record.prompt,
                    record.steps,
                    first_error(record.labels, "positive"),  # PRM800K's neutral counts right
                    _subset(record, subset_field, fallback),
                )
            )
        else:
            raise ValueError(
                f"{path}: a {type(record).__name__} cannot be evaluated; "
                "give pairs, rankings or step traces"
            )
    return pairs, best, processes


def _sections(value: Any, where: Path) -> tuple[dict[str, list[str]], Weighting | None]:
    if value is None:
        return {}, None
    if isinstance(value, str):
        if value not in SECTION_MAPS:
            raise ValueError(
                f"{where}: unknown section map {value!r}; known: {', '.join(SECTION_MAPS)}"
            )
        return SECTION_MAPS[value]
    if not isinstance(value, Mapping) or not all(
        isinstance(v, list) and all(isinstance(s, str) for s in v) for v in value.values()
    ):
        raise ValueError(f"{where}: 'sections' must map section names to lists of subset names")
    return {str(k): list(v) for k, v in value.items()}, None


def _weighting(value: Any, where: Path) -> Weighting | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {
        "subset_counts",
        "section_weights",
        "unweighted_sections",
    }:
        raise ValueError(
            f"{where}: 'leaderboard' takes subset_counts, section_weights and unweighted_sections"
        )
    return Weighting(
        subset_counts=dict(value.get("subset_counts") or {}),
        section_weights=dict(value.get("section_weights") or {}),
        unweighted_sections=frozenset(value.get("unweighted_sections") or ()),
    )


def load_suite(
    spec: str,
    options: ReadOptions | None = None,
    limit: int | None = None,
    subset_field: str = "subset",
) -> Suite:
    """A suite YAML file, or a data file that is a suite of its own."""
    options = options or ReadOptions()
    path = Path(spec)
    if not path.exists() and not is_hub_dataset(spec):
        raise FileNotFoundError(f"suite {spec!r}: no such file (nor a Hub dataset OWNER/NAME)")
    sections: dict[str, list[str]] = {}
    leaderboard: Weighting | None = None
    threshold: str | None = None
    if path.suffix not in (".yaml", ".yml"):
        files, name = [(path, without_suffixes(path.name))], without_suffixes(path.name)
    else:
        doc = yaml.safe_load(path.read_text()) or {}
        if not isinstance(doc, Mapping) or not isinstance(doc.get("files"), list):
            raise ValueError(f"{path}: a suite file needs a 'files' list (and optional 'sections')")
        unknown = set(doc) - {
            "name",
            "files",
            "sections",
            "leaderboard",
            "subset_field",
            "threshold_subset",
        }
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        files = [(path.parent / str(f), without_suffixes(str(f))) for f in doc["files"]]
        name = str(doc.get("name") or path.stem)
        subset_field = str(doc.get("subset_field") or subset_field)
        sections, leaderboard = _sections(doc.get("sections"), path)
        threshold = str(doc["threshold_subset"]) if doc.get("threshold_subset") else None
        leaderboard = _weighting(doc.get("leaderboard"), path) or leaderboard
    suite = Suite(name, sections=sections, leaderboard=leaderboard, threshold_subset=threshold)
    for file, fallback in files:
        pairs, best, processes = read_items(file, options, subset_field, fallback)
        suite.pairs += pairs
        suite.best_of_k += best
        suite.processes += processes
    if limit is not None:
        suite.pairs, suite.best_of_k = suite.pairs[:limit], suite.best_of_k[:limit]
        suite.processes = suite.processes[:limit]
    if not suite.pairs and not suite.best_of_k and not suite.processes:
        raise ValueError(f"suite {spec!r} has nothing to evaluate")
    return suite


def name_apart(suites: Sequence[Suite], specs: Sequence[str]) -> None:
    """Suites that share a name (``hh/eval.jsonl`` and ``oasst/eval.jsonl``) take their
    directory's name in front (``hh/eval``), or their whole path."""
    for suite, name in zip(suites, distinct_names([s.name for s in suites], specs), strict=True):
        suite.name = name


def text_length(text: Text) -> int:
    """Length in characters of the rendered text: the same for every scorer, whatever its tokenizer."""
    return len(render_text(text))
