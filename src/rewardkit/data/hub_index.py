"""Where a Hub dataset read once sits in the datasets cache, so that it reads offline too.

``datasets`` names the cache entry of a dataset read with ``data_dir`` or ``data_files`` by a hash
of the data files as resolved online, which it cannot recompute offline (huggingface/datasets
#7551, #6609): the rows are on disk, yet an offline reload fails. rewardkit notes each entry it
fills, keyed by what was asked, in ``rewardkit-hub-index.json`` beside the entries, and reloads
it offline through the builder ``datasets`` itself uses for its cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rewardkit.data.hub import HubDataset

INDEX = "rewardkit-hub-index.json"


def _index_path() -> Path:
    import datasets

    return Path(datasets.config.HF_DATASETS_CACHE) / INDEX


def _key(dataset: HubDataset) -> str:
    asked = [dataset.repo, dataset.config, dataset.data_dir, sorted(dataset.data_files)]
    return json.dumps([*asked, dataset.revision])


def _read(path: Path) -> dict[str, Any]:
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError):  # none yet, or a half-written one: start again
        return {}
    return index if isinstance(index, dict) else {}


def remember(dataset: HubDataset, builder: Any) -> None:
    """Notes the cache entry a download filled (written whole, then renamed into place)."""
    path = _index_path()
    index = _read(path)
    index[_key(dataset)] = {
        "dataset_name": builder.dataset_name,
        "config": builder.config_id,
        "version": str(builder.config.version),
        "hash": builder.hash,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{INDEX}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(index, indent=1))
    tmp.replace(path)


def cached_builder(dataset: HubDataset) -> Any | None:
    """The builder of the noted cache entry, or None when none was noted or it is gone."""
    entry = _read(_index_path()).get(_key(dataset))
    if entry is None:
        return None
    from datasets.packaged_modules.cache.cache import Cache

    builder = Cache(
        dataset_name=entry["dataset_name"],
        repo_id=dataset.repo,
        config_name=entry["config"],
        version=entry["version"],
        hash=entry["hash"],
    )
    return builder if Path(builder.cache_dir).is_dir() else None
