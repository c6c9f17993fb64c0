"""Malformed rows and files never raise anything but a located DataError."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewardkit.data import DataError, read_records
from rewardkit.data.issues import REASONS

KEYS = [
    "prompt",
    "chosen",
    "rejected",
    "votes",
    "margin",
    "soft_label",
    "context",
    "kind",
    "responses",
    "scores",
    "steps",
    "labels",
    "completions",
    "problem",
    "prior_steps",
    "step",
    "rating",
    "input",
    "label",
    "response",
    "attributes",
    "winner",
    "response_a",
    "response_b",
    "message_id",
    "replies",
    "role",
    "text",
    "question_id",
    "model_a",
    "model_b",
    "conversation_a",
    "metadata",
    "annotator1",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from([*KEYS, "role", "content", "annotator", "verdict"]), inner, max_size=5
        )
    ),
    max_leaves=12,
)
rows = st.dictionaries(st.sampled_from(KEYS), json_values, min_size=1, max_size=6)
lines = st.one_of(
    rows.map(lambda r: json.dumps(r).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    rows.map(lambda r: json.dumps(r).encode()[:-3]),
    st.just(b'{"prompt": "' + b"x" * 3000 + b'", "chosen": "a", "rejected": "b"}'),
    st.just(b"[" * 5000),
)
ROWS_PER_FILE = 60
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))  # 200 files x 60 rows = 12,000 rows


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content=st.lists(lines, min_size=ROWS_PER_FILE, max_size=ROWS_PER_FILE),
    suffix=st.sampled_from([".jsonl", ".json", ".csv"]),
    mode=st.sampled_from(["strict", "skip"]),
)
def test_malformed_input_gives_located_errors_only(
    tmp_path_factory: object, content: list[bytes], suffix: str, mode: str
) -> None:
    path = Path(tmp_path_factory.mktemp("fuzz")) / f"rows{suffix}"  # type: ignore[attr-defined]
    path.write_bytes(b"\n".join(content))
    stream = read_records(path, on_error=mode, max_chars=1000, max_line_bytes=2000)
    try:
        list(stream)
    except DataError as exc:
        assert exc.report.n_errors > 0
    for issue in stream.report.issues:
        assert issue.code in REASONS
        assert str(issue.location).startswith(str(path))
        assert (
            issue.location.line is not None
            or issue.location.row is not None
            or issue.code in ("bad-file", "bad-json")
        )
