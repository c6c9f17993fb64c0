"""`rewardkit data aggregate` end to end on files: synthetic votes and OpenAssistant-style
pairs with ranks and reaction counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardkit.aggregation import oasst_votes
from rewardkit.cli import main
from rewardkit.data import read_records
from rewardkit.records import Pair


def _pairs(path: Path) -> list[Pair]:
    records = list(read_records(str(path)))
    assert all(isinstance(r, Pair) for r in records)
    return records  # type: ignore[return-value]


def test_aggregate_writes_soft_labels_weights_and_provenance(tmp_path: Path) -> None:
    votes, out, report = tmp_path / "votes.jsonl", tmp_path / "out.jsonl", tmp_path / "r.json"
    assert (
        main(["data", "synth", "--n", "120", "--votes_per_pair", "5", "--output", str(votes)]) == 0
    )
    args = ["data", "aggregate", str(votes), "--output", str(out), "--report", str(report)]
    assert main([*args, "--method", "dawid_skene_sided", "--confidence_weights", "true"]) == 0
    pairs = _pairs(out)
    assert len(pairs) == 120
    for pair in pairs:
        provenance = pair.metadata["aggregation"]
        assert provenance["label_model"] == "dawid_skene_sided"
        assert pair.soft_label == pytest.approx(provenance["p_chosen"])
        assert pair.weight == pytest.approx(provenance["confidence"])
        assert len(pair.votes) == 5  # the votes stay, as evidence
    summary = json.loads(report.read_text())
    assert summary["votes"] == 600 and summary["annotators"] == 6
    assert set(summary["agreement"]) >= {"fleiss_kappa", "krippendorff_alpha"}
    assert {row["annotator"] for row in summary["annotator_table"]} >= {"expert", "careless"}


def test_aggregate_drops_only_what_is_asked(tmp_path: Path) -> None:
    rows = [
        {"prompt": "p1", "chosen": "a", "rejected": "b", "votes": [
            {"annotator": "x", "verdict": "tie"}, {"annotator": "y", "verdict": "tie"}]},
        {"prompt": "p2", "chosen": "c", "rejected": "d", "votes": [
            {"annotator": "x", "verdict": "chosen"}, {"annotator": "y", "verdict": "chosen"}]},
        {"prompt": "p3", "chosen": "e", "rejected": "f"},
    ]  # fmt: skip
    data = tmp_path / "ties.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kept = tmp_path / "kept.jsonl"
    assert (
        main(["data", "aggregate", str(data), "--output", str(kept), "--method", "majority"]) == 0
    )
    pairs = _pairs(kept)
    assert [p.soft_label for p in pairs] == [0.5, 1.0, None]  # a tie is P = 0.5; unvoted kept as is
    dropped = tmp_path / "dropped.jsonl"
    args = ["--method", "majority", "--drop_ties", "true", "--drop_unvoted", "true"]
    assert main(["data", "aggregate", str(data), "--output", str(dropped), *args]) == 0
    assert [p.prompt for p in _pairs(dropped)] == ["p2"]


def test_oasst_counts_become_pseudo_annotator_votes(tmp_path: Path) -> None:
    row = {
        "context": [{"role": "prompter", "text": "hi"}], "chosen": "hello", "rejected": "go away",
        "chosen_rank": 0, "rejected_rank": 2,
        "chosen_emojis": {"+1": 2, "_skip_reply": 1}, "rejected_emojis": {"+1": 1, "-1": 3},
    }  # fmt: skip
    data = tmp_path / "oasst.jsonl"
    data.write_text(json.dumps(row) + "\n")
    verdicts = [(v.annotator, v.verdict) for v in oasst_votes(_pairs(data)[0]).votes]
    # the rank says chosen; +1 on chosen x2 and on rejected x1; -1 on rejected x3 (for chosen)
    assert sorted(verdicts) == sorted(
        [("oasst-rank", "chosen")]
        + [("thumbs-up", "chosen")] * 2
        + [("thumbs-up", "rejected")]
        + [("thumbs-down", "chosen")] * 3
    )
    out = tmp_path / "out.jsonl"
    args = ["--votes_from", "oasst_counts", "--method", "majority", "--on_error", "skip"]
    assert main(["data", "aggregate", str(data), "--output", str(out), *args]) == 0
    assert _pairs(out)[0].soft_label == pytest.approx(6 / 7)


def test_no_votes_is_a_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "plain.jsonl"
    data.write_text(json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"}) + "\n")
    assert main(["data", "aggregate", str(data), "--output", str(tmp_path / "o.jsonl")]) == 2
