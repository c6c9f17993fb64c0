"""Raw rows out of files: JSONL (also .gz), JSON, CSV, Parquet and saved Hugging Face datasets.

Readers stream where the format allows (JSONL, CSV, Parquet batches, memory-mapped Arrow) and
never raise on bad content: a broken line becomes an ``Issue`` in the stream, located by line or
row, and reading goes on with the next one.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from rewardkit.data.issues import Issue, Location

FileFormat = Literal["jsonl", "json", "csv", "parquet", "hf"]
FILE_FORMATS: tuple[str, ...] = ("jsonl", "json", "csv", "parquet", "hf")
DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RawRow:
    location: Location
    value: Any


def detect_file_format(path: Path) -> FileFormat:
    """By suffix (``.gz`` looked through); a directory is a saved HF dataset."""
    if path.is_dir():
        return "hf"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    by_suffix: dict[str, FileFormat] = {
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".json": "json",
        ".csv": "csv",
        ".parquet": "parquet",
        ".pq": "parquet",
    }
    if last not in by_suffix:
        raise ValueError(
            f"{path}: cannot tell the file format from the suffix {last or '(none)'!r}; "
            f"pass --file_format (file_format=...), one of {FILE_FORMATS}"
        )
    return by_suffix[last]


def read_rows(
    path: str | Path, file_format: str | None = None, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[RawRow | Issue]:
    from rewardkit.data.hub import is_hub_dataset, read_hub_rows

    if is_hub_dataset(str(path)):  # OWNER/NAME[:CONFIG][@SPLIT]: see data.hub
        return read_hub_rows(str(path))
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    fmt = file_format or detect_file_format(path)
    if fmt not in FILE_FORMATS:
        raise ValueError(f"unknown file format {fmt!r}; expected one of {FILE_FORMATS}")
    if fmt == "jsonl":
        return _read_jsonl(path, max_line_bytes)
    if fmt == "json":
        return _read_json(path)
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_hf(path)


def _open_binary(path: Path) -> BinaryIO:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _bounded_lines(stream: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """Lines of at most ``limit`` bytes; ``None`` stands for an over-long line, skipped whole."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(limit + 1)
            yield None
        else:
            yield line


def _read_jsonl(path: Path, max_line_bytes: int) -> Iterator[RawRow | Issue]:
    source = str(path)
    line_no = 0
    with _open_binary(path) as stream:
        try:
            for line_no, line in enumerate(_bounded_lines(stream, max_line_bytes), start=1):
                loc = Location(source, line=line_no)
                if line is None:
                    yield Issue(loc, "too-large", f"line is longer than {max_line_bytes} bytes")
                    continue
                if not line.strip():
                    continue
                yield _parse_json_line(line, loc)
        except (OSError, EOFError, zlib.error) as exc:
            yield Issue(Location(source, line=line_no + 1), "bad-file", f"cannot read on: {exc}")


def _parse_json_line(line: bytes, loc: Location) -> RawRow | Issue:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Issue(loc, "bad-encoding", f"invalid UTF-8 at byte {exc.start} of the line")
    try:
        return RawRow(loc, json.loads(text))
    except json.JSONDecodeError as exc:
        return Issue(loc, "bad-json", f"{exc.msg} at column {exc.colno}")
    except RecursionError:
        return Issue(loc, "bad-json", "nesting too deep")


def _read_json(path: Path) -> Iterator[RawRow | Issue]:
    source = str(path)
    with _open_binary(path) as stream:
        try:
            raw = stream.read()
        except (OSError, EOFError, zlib.error) as exc:
            yield Issue(Location(source), "bad-file", f"cannot read: {exc}")
            return
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        yield Issue(
            Location(source, line=line), "bad-encoding", f"invalid UTF-8 at byte {exc.start}"
        )
        return
    except json.JSONDecodeError as exc:
        yield Issue(
            Location(source, line=exc.lineno), "bad-json", f"{exc.msg} at column {exc.colno}"
        )
        return
    except RecursionError:
        yield Issue(Location(source), "bad-json", "nesting too deep")
        return
    rows = _rows_of_document(document)
    if rows is None:
        yield Issue(
            Location(source),
            "bad-file",
            "expected a JSON array of rows, or an object with one array of rows",
        )
        return
    for index, value in enumerate(rows):
        yield RawRow(Location(source, row=index), value)


def _rows_of_document(document: Any) -> list[Any] | None:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = [v for v in document.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return None


def _decode_cell(cell: str) -> Any:
    """CSV cells holding JSON arrays or objects (votes, messages) are decoded; the rest stay text."""
    stripped = cell.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            return cell
    return cell


def _read_csv(path: Path) -> Iterator[RawRow | Issue]:
    source = str(path)
    csv.field_size_limit(DEFAULT_MAX_LINE_BYTES)
    with _open_binary(path) as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, None)
            if header is None:
                return
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield Issue(Location(source, line=start), "bad-row", str(exc))
                    continue
                loc = Location(source, line=start)
                if not cells:
                    continue
                if len(cells) != len(header):
                    yield Issue(
                        loc, "bad-row", f"{len(cells)} fields, the header has {len(header)}"
                    )
                    continue
                if any(_has_surrogates(c) for c in cells):
                    yield Issue(loc, "bad-encoding", "invalid UTF-8 in this row")
                    continue
                yield RawRow(loc, {k: _decode_cell(v) for k, v in zip(header, cells, strict=True)})
        except (OSError, EOFError, zlib.error) as exc:
            yield Issue(
                Location(source, line=reader.line_num + 1), "bad-file", f"cannot read on: {exc}"
            )


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _read_parquet(path: Path, batch_size: int = 1024) -> Iterator[RawRow | Issue]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = str(path)
    index = 0
    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=batch_size):
            for value in batch.to_pylist():
                yield RawRow(Location(source, row=index), value)
                index += 1
    except (pa.ArrowException, OSError) as exc:
        yield Issue(Location(source, row=index), "bad-file", f"cannot read Parquet: {exc}")


def _read_hf(path: Path, batch_size: int = 1024) -> Iterator[RawRow | Issue]:
    import datasets

    source = str(path)
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        splits = ", ".join(f"{path / name}" for name in loaded)
        raise ValueError(f"{path} holds several splits; read one of them: {splits}")
    yield from dataset_rows(loaded, source, batch_size)


def dataset_rows(loaded: Any, source: str, batch_size: int = 1024) -> Iterator[RawRow]:
    """The rows of a ``datasets`` Dataset or IterableDataset, read in column batches."""
    index = 0
    for batch in loaded.iter(batch_size=batch_size):
        columns = list(batch)
        for values in zip(*(batch[c] for c in columns), strict=True):
            yield RawRow(Location(source, row=index), dict(zip(columns, values, strict=True)))
            index += 1
