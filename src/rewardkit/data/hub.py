"""Preference data by Hugging Face Hub id, read through the same converters and checks as files.

Anywhere a data file is taken (``--data``, ``--eval_data``, ``rewardkit data ...``, ``--suites``),
a name that is not a local path and reads ``OWNER/NAME`` is a Hub dataset::

    OWNER/NAME[:CONFIG][@SPLIT][?data_dir=DIR&data_files=GLOB&revision=REV&streaming=BOOL]

    Anthropic/hh-rlhf                                 the 'train' split (or the only split)
    Anthropic/hh-rlhf@test                            another split
    Anthropic/hh-rlhf@train[:2000]                    a slice, as ``datasets`` writes them
    'Anthropic/hh-rlhf?data_dir=harmless-base'        one folder of a repo holding several
    'org/prefs:pairs@train?data_files=v2/*.jsonl'     a config, and some of its files

Rows go through ``datasets.load_dataset``'s builder, so the datasets cache
(``HF_DATASETS_CACHE``), the token, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` work as they do for
``datasets`` itself: offline, a dataset loaded once before is read from the cache. A dataset
larger than ``STREAM_ABOVE_BYTES`` is streamed rather than downloaded whole (``streaming=true``
or ``false`` decides it yourself). Rows are located as ``SPEC[row N]``, as in a Parquet file.

Why the Hub could not be used comes out as one ``HubUnavailable`` line: what was tried, and how
to fix it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from rewardkit.data.hub_index import cached_builder, remember
from rewardkit.data.issues import Issue
from rewardkit.data.readers import RawRow, dataset_rows

STREAM_ABOVE_BYTES = 2 * 1024**3
"""Datasets larger than this (by the size the Hub reports) are streamed, not downloaded."""

_REPO = r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*"
_DATASET = re.compile(
    rf"^(?P<repo>{_REPO})(?::(?P<config>[\w.-]+))?(?:@(?P<split>[^?]+))?(?:\?(?P<query>.*))?$"
)
_FILE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".pq", ".gz", ".yaml", ".yml")
_OPTIONS = ("data_dir", "data_files", "revision", "streaming")


class HubUnavailable(ValueError):
    """What was asked of the Hub, why it failed, and how to fix it: one line for the CLI."""


@dataclass(frozen=True)
class HubDataset:
    repo: str
    config: str | None = None
    split: str | None = None
    data_dir: str | None = None
    data_files: tuple[str, ...] = ()
    revision: str | None = None
    streaming: bool | None = None
    """None: stream when the dataset is larger than ``STREAM_ABOVE_BYTES``."""
    spec: str = ""
    """As written by the user: the source of every located issue."""


def is_hub_dataset(spec: str) -> bool:
    """An ``OWNER/NAME...`` spec that is no local path and does not end like a data file."""
    from pathlib import Path

    match = _DATASET.match(spec)
    if match is None or Path(spec).exists():
        return False
    return not match["repo"].lower().endswith(_FILE_SUFFIXES)


def parse_dataset(spec: str) -> HubDataset:
    match = _DATASET.match(spec)
    if match is None:
        raise ValueError(f"{spec!r} is not a Hub dataset spec: OWNER/NAME[:CONFIG][@SPLIT][?...]")
    query = parse_qs(match["query"] or "", keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"{spec}: unknown option(s) {unknown}; known: {', '.join(_OPTIONS)}")
    single = {k: v[-1] for k, v in query.items() if k != "data_files"}
    streaming = single.get("streaming")
    if streaming not in (None, "true", "false"):
        raise ValueError(f"{spec}: streaming must be true or false, got {streaming!r}")
    return HubDataset(
        repo=match["repo"],
        config=match["config"],
        split=match["split"],
        data_dir=single.get("data_dir"),
        data_files=tuple(f for value in query.get("data_files", []) for f in value.split(",")),
        revision=single.get("revision"),
        streaming=None if streaming is None else streaming == "true",
        spec=spec,
    )


def hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _unavailable(dataset: HubDataset, exc: BaseException) -> HubUnavailable:
    import datasets

    name = dataset.repo
    if isinstance(exc, ConnectionError) or hub_offline():
        cache = datasets.config.HF_DATASETS_CACHE
        why = "HF_HUB_OFFLINE is set" if hub_offline() else "the Hub cannot be reached"
        return HubUnavailable(
            f"{dataset.spec}: not a local file, and the Hub dataset {name!r} is not in the "
            f"datasets cache ({cache}) while {why}. Fix: load it once with network (unset "
            f"HF_HUB_OFFLINE) to fill the cache, point HF_DATASETS_CACHE at a cache that has it, "
            f"or download the files (`hf download {name} --repo-type dataset --local-dir DIR`) "
            f"and give DIR's files as --data"
        )
    if type(exc).__name__ in ("DatasetNotFoundError", "RepositoryNotFoundError", "GatedRepoError"):
        return HubUnavailable(
            f"{dataset.spec}: not a local file, and the Hub says: {_one_line(exc)} "
            "(a private or gated dataset needs a token: `hf auth login` or HF_TOKEN)"
        )
    return HubUnavailable(f"{dataset.spec}: cannot load it from the Hub: {_one_line(exc)}")


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """``datasets`` logs its cache fallbacks as warnings on stderr; we report what matters."""
    from datasets.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def _builder(dataset: HubDataset) -> Any:
    import datasets

    try:
        with _quiet_datasets():
            return datasets.load_dataset_builder(
                dataset.repo,
                dataset.config,
                data_dir=dataset.data_dir,
                data_files=list(dataset.data_files) or None,
                revision=dataset.revision,
            )
    except Exception as exc:  # datasets raises many kinds; every one becomes one clear line
        cached = cached_builder(dataset) if hub_offline() else None
        if cached is None:
            raise _unavailable(dataset, exc) from None
        return cached


def _split(dataset: HubDataset, builder: Any) -> str:
    if dataset.split:
        return dataset.split
    splits = list(builder.info.splits or [])
    if not splits or "train" in splits:
        return "train"
    if len(splits) == 1:
        return str(splits[0])
    raise ValueError(
        f"{dataset.spec}: splits {', '.join(splits)}; name one as {dataset.spec}@SPLIT"
    )


def _streams(dataset: HubDataset, builder: Any, split: str) -> bool:
    if dataset.streaming is not None:
        return dataset.streaming
    if "[" in split or hub_offline():  # slices need the whole split; offline reads the cache
        return False
    size = builder.info.download_size or builder.info.dataset_size or 0
    return bool(size > STREAM_ABOVE_BYTES)


def load_hub_dataset(dataset: HubDataset) -> tuple[Any, str | None]:
    """The split as a ``datasets`` Dataset (or IterableDataset when streamed) and the commit it
    came from, where the Hub or the cache names one."""
    builder = _builder(dataset)
    split = _split(dataset, builder)
    try:
        with _quiet_datasets():
            if _streams(dataset, builder, split):
                loaded = builder.as_streaming_dataset(split=split)
            else:
                builder.download_and_prepare()
                loaded = builder.as_dataset(split=split)
                if not hub_offline():
                    remember(dataset, builder)
    except Exception as exc:
        raise _unavailable(dataset, exc) from None
    return loaded, getattr(builder, "hash", None)


def hub_revision(spec: str) -> str:
    """What a run's provenance records for a Hub dataset: the commit, or the revision asked."""
    dataset = parse_dataset(spec)
    commit = getattr(_builder(dataset), "hash", None)
    return str(commit or dataset.revision or "unknown revision")


def read_hub_rows(spec: str) -> Iterator[RawRow | Issue]:
    """Raw rows of a Hub dataset, located as ``SPEC[row N]``; raises ``HubUnavailable`` now,
    not at the first row, when the Hub and the cache both fail."""
    loaded, _ = load_hub_dataset(parse_dataset(spec))
    return dataset_rows(loaded, spec)
