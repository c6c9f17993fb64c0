"""Write records: JSONL (.gz by suffix), JSON, Parquet or CSV, streamed, and atomically.

The file appears under its name only once it is complete (written beside it, then renamed), so a
crash or a Ctrl-C never leaves a half-written label file where a whole one was expected.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from rewardkit.data.readers import detect_file_format
from rewardkit.records import RECORD_TYPES, Record, to_dict

PARQUET_BATCH = 2048


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _open_text(path: Path, compress: bool) -> IO[str]:
    if compress:
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8", newline="\n")
    return open(path, "w", encoding="utf-8", newline="\n")


@contextlib.contextmanager
def jsonl_writer(path: Path) -> Iterator[Callable[[Record], None]]:
    """A function that appends one record; the file appears whole when the block ends cleanly."""
    with atomic_path(path) as tmp, _open_text(tmp, path.suffix == ".gz") as out:

        def write(record: Record) -> None:
            out.write(json.dumps(to_dict(record), ensure_ascii=False) + "\n")

        yield write


def write_records(
    records: Iterable[Record], path: str | Path, file_format: str | None = None
) -> int:
    """Writes every record; returns how many."""
    path = Path(path)
    fmt = file_format or detect_file_format(path)
    rows = (to_dict(r) for r in records)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            return _write_parquet(rows, tmp)
        with _open_text(tmp, path.suffix == ".gz") as out:
            if fmt == "jsonl":
                return _write_jsonl(rows, out)
            if fmt == "json":
                return _write_json(rows, out)
            if fmt == "csv":
                return _write_csv(rows, out)
    raise ValueError(f"cannot write {fmt!r}; write jsonl, json, csv or parquet")


def _write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    n = 0
    for n, row in enumerate(rows, start=1):  # noqa: B007
        out.write(json.dumps(row, ensure_ascii=False))
        out.write("\n")
    return n


def _write_json(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    materialised = list(rows)
    json.dump(materialised, out, ensure_ascii=False, indent=1)
    return len(materialised)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested values (messages, votes, metadata) go into cells as JSON; the CSV reader decodes them."""
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
        for k, v in row.items()
    }


def _write_csv(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    materialised = [_flat(r) for r in rows]
    columns = list(dict.fromkeys(k for r in materialised for k in r))
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(materialised)
    return len(materialised)


def _parquet_schema(row: dict[str, Any]) -> Any:
    """Fixed types for every field of the first row's kind; text columns take the first row's shape
    (plain string or chat messages). Free-form metadata has no schema, so it is a JSON string."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])

    def text_type(value: Any) -> Any:
        return pa.list_(message) if isinstance(value, list) else pa.string()

    fixed = {
        "kind": pa.string(),
        "id": pa.string(),
        "source": pa.string(),
        "metadata": pa.string(),
        "margin": pa.float64(),
        "soft_label": pa.float64(),
        "confidence": pa.float64(),
        "votes": pa.list_(
            pa.struct(
                [("annotator", pa.string()), ("verdict", pa.string()), ("confidence", pa.float64())]
            )
        ),
        "scores": pa.list_(pa.float64()),
        "attributes": pa.map_(pa.string(), pa.float64()),
        "steps": pa.list_(pa.string()),
        "labels": pa.list_(pa.float64()),
        "annotator": pa.string(),
        "pair_id": pa.string(),
        "judge": pa.string(),
        "verdict": pa.string(),
        "rationale": pa.string(),
        "principle": pa.string(),
    }
    kind = RECORD_TYPES[row["kind"]]
    fields = []
    for name in ["kind", *kind.__dataclass_fields__]:
        if name in fixed:
            fields.append((name, fixed[name]))
        elif name == "responses":
            fields.append((name, pa.list_(text_type(row[name][0]))))
        else:
            fields.append((name, text_type(row.get(name))))
    return pa.schema(fields)


def _parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    if "metadata" in row:
        row = {**row, "metadata": json.dumps(row["metadata"], ensure_ascii=False)}
    if "attributes" in row:
        row = {**row, "attributes": list(row["attributes"].items())}
    return row


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    n = 0
    batch: list[dict[str, Any]] = []
    first_kind: str | None = None

    def flush() -> None:
        nonlocal writer
        schema = writer.schema if writer is not None else _parquet_schema(batch[0])
        try:
            table = pa.Table.from_pylist([_parquet_row(r) for r in batch], schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
            raise ValueError(
                f"Parquet needs one type per column (one record kind per file; plain "
                f"text and chat messages cannot share a column); write JSONL instead. "
                f"Arrow said: {exc}"
            ) from exc
        if writer is None:
            writer = pq.ParquetWriter(path, schema)
        writer.write_table(table)
        batch.clear()

    try:
        for row in rows:
            first_kind = first_kind or row["kind"]
            if row["kind"] != first_kind:
                raise ValueError("Parquet holds one record kind per file; write JSONL instead")
            batch.append(row)
            n += 1
            if len(batch) >= PARQUET_BATCH:
                flush()
        if batch:
            flush()
    finally:
        if writer is not None:
            writer.close()
    return n
