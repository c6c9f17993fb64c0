"""`rewardkit eval` end to end: the numbers in metrics.json, report.md, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tiny

from rewardkit.cli import main
from rewardkit.evaluation.run import SuiteResult
from rewardkit.evaluation.suites import load_suite, text_length


def test_every_scorer_and_baseline_on_the_suite(evaluation: tuple[Path, list[SuiteResult]]) -> None:
    out, results = evaluation
    names = ["polite", "longer", "shorter", "random"]
    assert [r.scorer.split(":")[-1] for r in results] == [n for n in names for _ in range(2)]
    assert [r.suite for r in results] == ["demo suite", "bok"] * 4
    assert [r.baseline for r in results] == [False] * 2 + [True] * 6
    doc = json.loads((out / "metrics.json").read_text())
    assert [r["scorer"] for r in doc["results"]] == [r.scorer for r in results]
    assert doc["config"]["resamples"] == 200
    first = doc["results"][0]
    assert (first["pairs"], first["best_of_k"], first["items"]) == (120, 6, 126)
    assert set(first["sections"]) == {"Knowledge", "Other", "Best-of-K"}
    low, value, high = (first["accuracy"][k] for k in ("low", "value", "high"))
    assert low <= value <= high
    assert "per_item" not in first


def test_item_scores_with_calibration(evaluation: tuple[Path, list[SuiteResult]]) -> None:
    out, results = evaluation
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert len(rows) == 126 + 6  # the scorer's items on both suites; baselines are left out
    first = results[0]
    assert first.calibration is not None
    t = first.calibration.temperature
    pair = rows[0]
    assert (pair["suite"], pair["item"], len(pair["scores"])) == ("demo suite", 0, 2)
    assert pair["calibrated"] == pytest.approx([s / t for s in pair["scores"]])
    assert pair["credit"] == float(pair["scores"][0] > pair["scores"][1])
    assert [len(r["scores"]) for r in rows if r["suite"] == "bok"] == [3] * 6


def test_baseline_numbers_match_the_data(evaluation: tuple[Path, list[SuiteResult]]) -> None:
    out, results = evaluation
    suite = load_suite(str(out.parent / "suite.yaml"))
    chosen = np.array([text_length(p.chosen) for p in suite.pairs])
    rejected = np.array([text_length(p.rejected) for p in suite.pairs])
    longer = next(r for r in results if r.scorer == "baseline:longer" and r.suite == "demo suite")
    # best-of-K: the correct "good answer i" is the longest of its three responses
    assert longer.subsets["bok"].value == 1.0
    pair_accuracy = float(np.mean(chosen > rejected))
    assert longer.accuracy.value == pytest.approx((pair_accuracy * 120 + 6) / 126)
    assert longer.length is not None and longer.length.split.controlled == 0.5
    assert longer.length.spearman == pytest.approx(1.0)
    polite = results[0]
    assert polite.agreement is not None and polite.agreement.pairs == 120
    assert polite.calibration is not None and polite.calibration.pairs == 120


def test_markdown_report_tables(evaluation: tuple[Path, list[SuiteResult]]) -> None:
    out, _ = evaluation
    text = (out / "report.md").read_text()
    assert "## Suite: demo suite" in text
    assert "## Suite: bok" in text
    assert "| scorer | items | accuracy | score |" in text
    assert "baseline:shorter (baseline)" in text
    assert "### Agreement with annotators" in text
    for name in ("sections", "reliability", "length", "scores"):
        assert (out / "plots" / f"demo-suite-{name}.svg").read_text().startswith("<svg")
        assert f"(plots/demo-suite-{name}.svg)" in text


def test_cli_with_a_trained_model_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tiny.reward_model("bert")
    model.save(tmp_path / "model")
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        json.dumps({"prompt": "Hi", "chosen": "Hello, how can I help?", "rejected": "No."})
        + "\n"
        + json.dumps({"prompt": "2+2?", "chosen": "4", "rejected": "It is 5."})
        + "\n"
    )
    code = main(
        ["eval", "--models", str(tmp_path / "model"), "--suites", str(path),
         "--output", str(tmp_path / "out"), "--resamples", "50"]
    )  # fmt: skip
    assert code == 0
    doc = json.loads((tmp_path / "out" / "metrics.json").read_text())
    raw = model.score(
        ["Hi", "Hi", "2+2?", "2+2?"], ["Hello, how can I help?", "No.", "4", "It is 5."]
    ).raw
    expected = ((raw[0] > raw[1]) + (raw[2] > raw[3])) / 2  # type: ignore[operator]
    assert doc["results"][0]["accuracy"]["value"] == pytest.approx(expected)
    assert "pairs/s" in capsys.readouterr().out


def test_missing_arguments_are_named() -> None:
    from rewardkit.commands.eval import run
    from rewardkit.evaluation.config import EvalConfig

    with pytest.raises(ValueError, match="--models is required"):
        run(EvalConfig(suites=["x"]))
    with pytest.raises(ValueError, match="--suites is required"):
        run(EvalConfig(models=["baseline:random"]))


def test_suites_with_one_file_name_stay_apart(tmp_path: Path) -> None:
    rows = {
        "hh": {"prompt": "Hi", "chosen": "Hello, how can I help?", "rejected": "No."},
        "oasst": {"prompt": "2+2?", "chosen": "4", "rejected": "It is 5, or so I think."},
    }
    for source, row in rows.items():  # as `rewardkit data split` writes them: <dir>/eval.jsonl
        (tmp_path / source).mkdir()
        (tmp_path / source / "eval.jsonl").write_text(json.dumps(row) + "\n")
    suites = [str(tmp_path / source / "eval.jsonl") for source in rows]
    out = tmp_path / "out"
    code = main(["eval", "--models", "baseline:longer", "--suites", *suites,
                 "--output", str(out), "--resamples", "20"])  # fmt: skip
    assert code == 0
    doc = json.loads((out / "metrics.json").read_text())
    accuracy = {r["suite"]: r["accuracy"]["value"] for r in doc["results"]}
    assert accuracy == {"hh/eval": 1.0, "oasst/eval": 0.0}  # each file its own row
    text = (out / "report.md").read_text()
    assert "## Suite: hh/eval" in text and "## Suite: oasst/eval" in text
    assert (out / "plots" / "hh-eval-length.svg").exists()
    assert (out / "plots" / "oasst-eval-length.svg").exists()
