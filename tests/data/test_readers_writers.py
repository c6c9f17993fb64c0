from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rewardkit.data import DataError, read_records, write_records
from rewardkit.records import Message, Pair, Ranking, Rating, Record, StepTrace, Vote

RECORDS: list[Record] = [
    Pair(
        "p",
        "c",
        "r",
        margin=1.5,
        votes=(Vote("a1", "chosen", 0.9), Vote("a2", "tie")),
        soft_label=0.75,
        id="x",
        source="s",
        metadata={"k": [1, 2]},
    ),
    Pair("p2", "c2", "r2"),
]
CHAT_PAIR = Pair(
    (Message("user", "hi"),), (Message("assistant", "hey"),), (Message("assistant", "no"),)
)


@pytest.mark.parametrize(
    "name", ["out.jsonl", "out.jsonl.gz", "out.json", "out.csv", "out.parquet"]
)
def test_pairs_round_trip_through_every_file_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_records(RECORDS, path) == 2
    assert list(read_records(path)) == RECORDS


@pytest.mark.parametrize(
    "record",
    [
        CHAT_PAIR,
        Ranking("p", ("a", "b", "c"), scores=(1.0, 3.0, 2.0), id="r"),
        Rating("p", "r", {"helpfulness": 3.0, "safety": 1.0}, annotator="w1"),
        StepTrace("p", ("s1", "s2"), (1.0, None)),
    ],
)
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_every_record_kind_round_trips(tmp_path: Path, record: Record, suffix: str) -> None:
    path = tmp_path / f"one{suffix}"
    write_records([record], path)
    assert list(read_records(path)) == [record]


def test_saved_hugging_face_dataset_directory(tmp_path: Path) -> None:
    import datasets

    rows = {"prompt": ["a", "b"], "chosen": ["good a", "good b"], "rejected": ["bad a", "bad b"]}
    datasets.Dataset.from_dict(rows).save_to_disk(str(tmp_path / "ds"))
    stream = read_records(tmp_path / "ds")
    assert [p.chosen for p in stream] == ["good a", "good b"]  # type: ignore[union-attr]
    assert stream.formats == {str(tmp_path / "ds"): "trl"}


def test_bad_lines_are_all_located_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}).encode()
    path.write_bytes(
        b"\n".join(
            [
                good,
                b"{not json",
                b'{"prompt": "\xff"}',
                b"[1, 2]",
                json.dumps({"prompt": 1, "chosen": "c", "rejected": "r"}).encode(),
                json.dumps({"prompt": "q", "chosen": "c"}).encode(),
            ]
        )
        + b"\n"
    )
    with pytest.raises(DataError) as info:
        list(read_records(path))
    report = info.value.report
    where = {(str(i.location), i.code, i.field) for i in report.issues}
    assert where == {
        (f"{path}:2", "bad-json", None),
        (f"{path}:3", "bad-encoding", None),
        (f"{path}:4", "bad-row", None),
        (f"{path}:5", "bad-field", "prompt"),
        (f"{path}:6", "missing-field", "rejected"),
    }
    skipped = read_records(path, on_error="skip")
    assert len(list(skipped)) == 1 and skipped.report.rows_skipped == 5


def test_truncated_gzip_and_oversized_lines(tmp_path: Path) -> None:
    rows = "".join(
        json.dumps({"prompt": f"p{i}", "chosen": f"c{i * 7919 % 1000}", "rejected": "r"}) + "\n"
        for i in range(20000)
    )
    blob = gzip.compress(rows.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    stream = read_records(path, on_error="skip")
    assert list(stream) and stream.report.counts["bad-file"] == 1
    row = json.dumps({"prompt": "p", "chosen": "c", "rejected": "r"}) + "\n"
    big = tmp_path / "big.jsonl"
    big.write_text(
        row + json.dumps({"prompt": "x" * 5000, "chosen": "c", "rejected": "r"}) + "\n" + row
    )
    stream = read_records(big, on_error="skip", max_line_bytes=1000, check_duplicates=False)
    assert len(list(stream)) == 2 and stream.report.counts == {"too-large": 1}


def test_csv_with_json_cells_and_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text(
        "prompt,chosen,rejected,votes\n"
        'p,c,r,"[{""annotator"": ""a"", ""verdict"": ""chosen""}]"\n'
        "p2,c2\n",
        encoding="utf-8",
    )
    stream = read_records(path, on_error="skip")
    (pair,) = list(stream)
    assert pair.votes == (Vote("a", "chosen"),)  # type: ignore[union-attr]
    assert [(str(i.location), i.code) for i in stream.report.issues] == [(f"{path}:3", "bad-row")]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    def records() -> Iterator[Record]:
        yield RECORDS[0]
        raise RuntimeError("crash mid-write")

    target = tmp_path / "labels.jsonl"
    with pytest.raises(RuntimeError):
        write_records(records(), target)
    assert list(tmp_path.iterdir()) == []
