"""Data by Hub id: the spec syntax, and a dataset present only in the local datasets cache read
(and trained on) with the same located issues as the same rows in a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hub_cache import (  # noqa: F401 (fixture)
    COMMIT,
    Caches,
    cache_dataset,
    caches_fixture,
    go_offline,
    go_online,
)
from hub_server import Repo, fake_hub

from rewardkit.cli import main
from rewardkit.data import read_records
from rewardkit.data.hub import HubDataset, is_hub_dataset, parse_dataset
from rewardkit.records import to_dict
from rewardkit.synthetic import generate_pairs


def test_spec_syntax() -> None:
    spec = "org/prefs:harmless@train[:100]?data_dir=base&data_files=a.jsonl,b.jsonl&streaming=true"
    assert parse_dataset(spec) == HubDataset(
        "org/prefs", "harmless", "train[:100]", "base", ("a.jsonl", "b.jsonl"), None, True, spec
    )
    assert parse_dataset("org/prefs?revision=v2") == HubDataset(
        "org/prefs", revision="v2", spec="org/prefs?revision=v2"
    )
    with pytest.raises(ValueError, match="unknown option"):
        parse_dataset("org/prefs?dir=x")
    with pytest.raises(ValueError, match="streaming must be true or false"):
        parse_dataset("org/prefs?streaming=yes")


def test_what_is_a_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert is_hub_dataset("Anthropic/hh-rlhf@test")
    assert not is_hub_dataset("data/pairs.jsonl")  # a missing file stays a missing file
    assert not is_hub_dataset("pairs")
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "prefs").mkdir()
    assert not is_hub_dataset("org/prefs")  # a local directory wins


ROWS: list[dict[str, Any]] = [
    {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5"},
    {"prompt": "Capital of France?", "chosen": "Paris", "rejected": ""},
    {"prompt": "Say hi", "chosen": "hi", "rejected": "hi"},
    {"prompt": "What is 2 + 2?", "chosen": "4", "rejected": "5"},
]


def located(issues: list[Any], source: str) -> list[tuple[str, int | None, str | None, str]]:
    """Each issue's reason, row, field and message (its source named SOURCE)."""
    return [(i.code, i.location.row, i.field, i.message.replace(source, "SOURCE")) for i in issues]


def test_cached_dataset_has_the_issues_of_a_file(caches: Caches, tmp_path: Path) -> None:
    cache_dataset(caches, "org/prefs", ROWS)
    parquet = tmp_path / "prefs.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), parquet)

    from_hub = read_records("org/prefs", on_error="skip")
    from_file = read_records(parquet, on_error="skip")
    hub_records, file_records = list(from_hub), list(from_file)

    assert [to_dict(r) for r in hub_records] == [to_dict(r) for r in file_records]
    assert len(hub_records) == 1  # an empty response, identical responses, a duplicate
    assert located(from_hub.report.issues, "org/prefs") == located(
        from_file.report.issues, str(parquet)
    )
    assert [i.code for i in from_hub.report.issues] == [
        "empty-response",
        "identical-responses",
        "duplicate",
    ]
    assert str(from_hub.report.issues[0].location) == "org/prefs[row 1]"
    assert from_hub.formats == {"org/prefs": from_file.formats[str(parquet)]}


def test_split_and_slice_from_the_cache(caches: Caches) -> None:
    cache_dataset(caches, "org/prefs", ROWS, split="test")
    assert len(list(read_records("org/prefs@test[:1]"))) == 1
    # one split only: read without naming it
    assert len(list(read_records("org/prefs", on_error="skip"))) == 1


def test_train_on_a_cached_hub_dataset(
    caches: Caches, tmp_path: Path, tiny_bert_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [to_dict(p) for p in generate_pairs(80, seed=3)]
    rows.append({**rows[0], "id": "bad", "rejected": ""})
    cache_dataset(caches, "org/synthetic-prefs", rows)
    same_file = tmp_path / "same.jsonl"
    same_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    code = main(
        [
            "train", "--data", "org/synthetic-prefs", "--model", str(tiny_bert_dir),
            "--max_steps", "2", "--batch_size", "8", "--precision", "fp32", "--threads", "1",
            "--eval_every", "0", "--save_every", "0", "--output_dir", str(out),
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "model" / "rewardkit.json").read_text())["data"]
    assert data["files"] == {"org/synthetic-prefs": f"hub commit {COMMIT}"}
    assert data["rows_read"] == 81
    assert data["skipped"] == {"empty-response": 1}
    from_file = read_records(same_file, to="pair", on_error="skip")
    assert sum(1 for _ in from_file) == 80
    assert dict(from_file.report.counts) == data["skipped"]  # counted as from a file
    assert data["train_pairs"] + data["eval_pairs"] == 80


def test_download_once_then_read_offline(caches: Caches, monkeypatch: pytest.MonkeyPatch) -> None:
    """From a fake Hub on loopback: one folder of a repo holding two (data_dir), some of its files
    (data_files), streamed or downloaded; then, offline, the download again from the cache."""
    harmless = [to_dict(p) for p in generate_pairs(6, seed=1)]
    helpful = [to_dict(p) for p in generate_pairs(4, seed=2)]
    files = {
        "harmless/train.jsonl": "".join(json.dumps(r) + "\n" for r in harmless).encode(),
        "helpful/train.jsonl": "".join(json.dumps(r) + "\n" for r in helpful).encode(),
    }
    spec = "org/hh?data_dir=harmless"
    with fake_hub() as hub:
        hub.repos["datasets/org/hh"] = Repo(private=False, files=files, commits=[COMMIT])
        go_online(monkeypatch, hub.url)
        downloaded = [to_dict(r) for r in read_records(spec)]
        streamed = [to_dict(r) for r in read_records(f"{spec}&streaming=true")]
        some = [to_dict(r) for r in read_records("org/hh?data_files=helpful/*.jsonl")]
    go_offline(monkeypatch)
    cached = [to_dict(r) for r in read_records(spec)]

    assert len(downloaded) == 6
    assert [r["prompt"] for r in downloaded] == [r["prompt"] for r in harmless]
    assert streamed == downloaded
    assert cached == downloaded
    assert [r["prompt"] for r in some] == [r["prompt"] for r in helpful]
