"""`rewardkit eval` on a multi-objective model: per-objective accuracy and the objectives'
correlations (with the score and response length) in metrics.json, report.md and report.html."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tiny

from rewardkit.cli import main
from rewardkit.evaluation.metrics import correlation_matrix, objective_accuracy

NAMES = ["helpfulness", "safety"]
ROWS = [
    ("Hi", "Hello, how can I help?", "No."),
    ("2+2?", "4", "It is 5, I think, maybe."),
    ("Capital of Peru?", "Lima.", "I would rather not say."),
]


def test_objective_accuracy_by_hand() -> None:
    chosen = {"a": np.array([1.0, 2.0, np.nan]), "b": np.array([0.0, 0.0, 0.0])}
    rejected = {"a": np.array([0.0, 2.0, 1.0]), "b": np.array([-1.0, -1.0, 1.0])}
    # a: right, tie (wrong), unscored (wrong); b: right, right, wrong
    assert objective_accuracy(chosen, rejected) == pytest.approx({"a": 1 / 3, "b": 2 / 3})


def test_correlation_matrix_by_hand() -> None:
    columns = {
        "x": np.array([1.0, 2.0, 3.0, np.nan]),
        "y": np.array([3.0, 2.0, 1.0, 0.0]),
        "flat": np.array([1.0, 1.0, 1.0, 1.0]),
    }
    matrix = correlation_matrix(columns)
    assert matrix["x"]["y"] == pytest.approx(-1.0)  # the NaN row is left out
    assert matrix["y"]["y"] == pytest.approx(1.0)
    assert np.isnan(matrix["flat"]["x"])  # constant: undefined


def test_eval_reports_each_objective(tmp_path: Path) -> None:
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES)
    model.save(tmp_path / "model")
    suite = tmp_path / "pairs.jsonl"
    rows = [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in ROWS]
    suite.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    code = main(
        ["eval", "--models", str(tmp_path / "model"), "--suites", str(suite),
         "--output", str(out), "--resamples", "20"]
    )  # fmt: skip
    assert code == 0
    objectives = json.loads((out / "metrics.json").read_text())["results"][0]["objectives"]

    prompts = [p for p, _, _ in ROWS for _ in range(2)]
    result = model.score(prompts, [x for _, c, r in ROWS for x in (c, r)])
    assert result.objectives is not None
    values = {n: np.array([o[n] for o in result.objectives if o]) for n in NAMES}
    for name in NAMES:
        wanted = float(np.mean(values[name][0::2] > values[name][1::2]))
        assert objectives["accuracy"][name] == pytest.approx(wanted)
    lengths = np.array([len(c) for _, c, _ in ROWS] + [len(r) for _, _, r in ROWS], dtype=float)
    helpfulness = np.concatenate([values["helpfulness"][0::2], values["helpfulness"][1::2]])
    wanted_r = float(np.corrcoef(helpfulness, lengths)[0, 1])
    assert objectives["correlation"]["helpfulness"]["length"] == pytest.approx(wanted_r, abs=1e-6)
    assert set(objectives["correlation"]) == {*NAMES, "score", "length"}

    report = (out / "report.md").read_text()
    assert "### Objectives of model: pair accuracy and correlations" in report
    assert "| output | accuracy | r: helpfulness | r: safety | r: score | r: length |" in report
    assert "objectives.svg" in report
    html = (out / "report.html").read_text()
    assert 'class="objectives"' in html and 'data-plot="objectives"' in html
