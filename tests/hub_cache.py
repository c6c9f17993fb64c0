"""Local stand-ins for the Hugging Face Hub: the caches a real download leaves behind, written in
the test, and a fixture that points huggingface_hub and datasets at them (offline, or online
against a fake endpoint)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Caches:
    hub: Path
    """HF_HUB_CACHE: models--OWNER--NAME/{refs,snapshots}."""
    datasets: Path
    """HF_DATASETS_CACHE: OWNER___NAME/CONFIG/VERSION/COMMIT/*.arrow."""


@pytest.fixture(name="caches")
def caches_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Caches]:
    """Empty caches, offline: what HF_HUB_OFFLINE=1 with a fresh HF_HOME gives."""
    import datasets
    from huggingface_hub import constants

    found = Caches(tmp_path / "hf" / "hub", tmp_path / "hf" / "datasets")
    found.hub.mkdir(parents=True)
    found.datasets.mkdir(parents=True)
    # Both libraries read these variables at import; the tests set what a fresh process would.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(found.hub))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", found.datasets)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    go_offline(monkeypatch)
    yield found


def go_online(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Network allowed, to ``endpoint`` only (a fake Hub on loopback)."""
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", endpoint)
    monkeypatch.setenv("HF_ENDPOINT", endpoint)


def go_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)


def cache_model(caches: Caches, repo: str, directory: Path, tag: str = "main") -> Path:
    """A model directory as `hf download` leaves it in the Hub cache; the snapshot's path."""
    root = caches.hub / f"models--{repo.replace('/', '--')}"
    snapshot = root / "snapshots" / COMMIT
    shutil.copytree(directory, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / tag).write_text(COMMIT)
    return snapshot


def cache_dataset(
    caches: Caches, repo: str, rows: list[dict[str, Any]], split: str = "train"
) -> None:
    """A dataset as `datasets.load_dataset(repo)` leaves it in the datasets cache, built by the
    same JSON builder a Hub repo of JSONL files goes through."""
    from datasets.packaged_modules.json.json import Json

    owner, name = repo.split("/")
    source = caches.datasets.parent / f"{name}-{split}.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    builder = Json(
        data_files={split: str(source)},
        cache_dir=str(caches.datasets),
        dataset_name=name,
        config_id="default",
        hash=COMMIT,
    )
    builder.download_and_prepare()
    # A Hub load keeps OWNER___NAME/default/0.0.0/COMMIT; a local build lacks the owner.
    (caches.datasets / name).rename(caches.datasets / f"{owner}___{name}")
