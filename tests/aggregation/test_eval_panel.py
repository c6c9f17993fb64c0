"""`rewardkit eval` on voted pairs reports the annotator panel: agreement, the annotator table
and the model's P(chosen) against the votes, in metrics.json, report.md and report.html."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny

from rewardkit.cli import main


@pytest.mark.slow  # a whole `rewardkit eval` with plots: ~10 s beyond the imports
def test_eval_report_has_the_annotator_panel(tmp_path: Path) -> None:
    votes, model_dir, out = tmp_path / "votes.jsonl", tmp_path / "tiny", tmp_path / "eval"
    assert (
        main(["data", "synth", "--n", "40", "--votes_per_pair", "5", "--output", str(votes)]) == 0
    )
    tiny.reward_model().save(model_dir)
    args = ["--models", str(model_dir), "--suites", str(votes), "--output", str(out)]
    assert main(["eval", *args, "--resamples", "20"]) == 0
    result = json.loads((out / "metrics.json").read_text())["results"][0]
    panel = result["panel"]
    assert panel["label_model"] == "dawid_skene_sided"
    assert {a["annotator"] for a in panel["annotators"]} >= {"expert", "careless"}
    assert sum(b["pairs"] for b in panel["model_vs_votes"]) == 40
    report = (out / "report.md").read_text()
    for heading in ("### Annotator agreement", "### Annotators", "### The model's P(chosen)"):
        assert heading in report
    html = (out / "report.html").read_text()
    assert 'class="panel"' in html and 'data-plot="votes"' in html
