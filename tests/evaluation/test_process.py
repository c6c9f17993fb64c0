"""Process evaluation: step-level F1, ProcessBench's earliest-error F1 with a threshold chosen on
one subset and reused on the others, the baselines, and a ProcessBench suite through
`rewardkit eval`. Expected values are worked by hand in the comments."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import tiny

from rewardkit.cli import main
from rewardkit.evaluation.process import (
    choose_step_threshold,
    choose_threshold,
    earliest_error,
    evaluate_process,
    model_step_scores,
    prefix_step_scores,
    step_baselines,
    step_metrics,
)
from rewardkit.synthetic import generate_step_traces

NAN = math.nan
# Subset "a": the threshold is chosen here. Item -> window of thresholds that predict it right:
# a1 (-1, 1], a2 (-inf, 0.5], a3 (-1, inf), a4 (0.8, 1].
A_SCORES = [[2.0, 1.0, -1.0], [2.0, 0.5, 3.0], [-1.0, 2.0], [1.0, 0.8]]
A_LABELS = [2, -1, 0, 1]
# Subset "b", judged at a's threshold 0.5: b1 right, b2 right, b3 predicted at step 0: wrong.
B_SCORES = [[0.6, 0.4], [0.7, 0.9], [0.1, 0.9]]
B_LABELS = [1, -1, 1]


def test_step_metrics_by_hand() -> None:
    scores = [[1.0, 0.5], [-2.0, 0.2, -1.0]]
    targets = [[1.0, 0.0], [1.0, NAN, 0.4]]  # the NaN step is left out: 4 steps
    m = step_metrics(scores, targets)
    # predicted wrong F F T T, wrong F T F T: one hit of two predicted, of two wrong
    assert (m.steps, m.error_share, m.accuracy) == (4, 0.5, 0.5)
    assert (m.precision, m.recall, m.f1) == (0.5, 0.5, 0.5)
    with pytest.raises(ValueError, match="item 0: 2 step scores, 1 labels"):
        step_metrics([[1.0, 2.0]], [[1.0]])


def test_step_baselines_by_hand() -> None:
    base = step_baselines([[1.0, 1.0, 0.0], [1.0]])  # a quarter of the steps are wrong
    assert (base["majority"].accuracy, base["majority"].f1) == (0.75, 0.0)
    random = base["random"]
    assert (random.accuracy, random.precision, random.recall) == (0.5, 0.25, 0.5)
    assert random.f1 == pytest.approx(1 / 3)  # 2 * 0.25 * 0.5 / 0.75


def test_earliest_error_prediction() -> None:
    assert earliest_error([2.0, 0.3, -1.0], 0.5) == 1
    assert earliest_error([2.0, 0.5], 0.5) == -1  # equal to the threshold is not below it
    assert earliest_error([2.0, NAN], 0.5) is None  # cannot be judged: counts wrong


def test_threshold_is_chosen_on_one_subset_and_reused() -> None:
    # at 0.5: a1, a2, a3 right, a4 wrong: erroneous 2/3, correct 1, F1 0.8 (the best)
    assert choose_threshold(A_SCORES, A_LABELS) == 0.5
    result, hits = evaluate_process(A_SCORES + B_SCORES, A_LABELS + B_LABELS, ["a"] * 4 + ["b"] * 3)
    assert (result.threshold, result.chosen_on) == (0.5, "a")
    assert hits == [True, True, True, False, True, True, False]
    a, b = result.subsets["a"], result.subsets["b"]
    assert (a.error_accuracy, a.correct_accuracy) == pytest.approx((2 / 3, 1.0))
    assert a.f1 == pytest.approx(0.8)
    assert (b.erroneous, b.correct, b.error_accuracy, b.correct_accuracy) == (2, 1, 0.5, 1.0)
    assert b.f1 == pytest.approx(2 / 3)
    assert result.average_f1 == pytest.approx((0.8 + 2 / 3) / 2)  # a plain mean over subsets


def test_baselines_by_hand() -> None:
    result, _ = evaluate_process(A_SCORES + B_SCORES, A_LABELS + B_LABELS, ["a"] * 4 + ["b"] * 3)
    # a coin per step: a1 0.5^3, a3 0.5, a4 0.5^2 (erroneous); a2 0.5^3 (correct, 3 steps)
    random = result.baselines["random"]["a"]
    assert random.error_accuracy == pytest.approx((0.125 + 0.5 + 0.25) / 3)
    assert random.correct_accuracy == pytest.approx(0.125)
    assert random.f1 == pytest.approx(0.175)
    # the most common label of "a" (-1 wins the four-way tie: the lowest) predicted everywhere
    majority = result.baselines["majority"]
    assert majority["a"].error_accuracy == 0.0 and majority["a"].correct_accuracy == 1.0
    assert result.baseline_average_f1["majority"] == 0.0


def test_a_given_threshold_and_an_unknown_subset() -> None:
    result, hits = evaluate_process(B_SCORES, B_LABELS, ["b"] * 3, threshold=0.65)
    assert result.chosen_on is None and hits == [False, True, False]  # b1, b3 now wrong at step 0
    with pytest.raises(ValueError, match="threshold subset 'z'"):
        evaluate_process(B_SCORES, B_LABELS, ["b"] * 3, threshold_subset="z")


def test_prefix_scores_of_a_min_model_are_the_running_minimum_of_its_steps() -> None:
    model = tiny.reward_model("llama", head="steps", objectives=["step"])  # causal: exact
    model.eval()
    traces = list(generate_step_traces(4, seed=2))
    prompts, steps = [t.prompt for t in traces], [t.steps for t in traces]
    direct = model_step_scores(model, prompts, steps)
    by_prefix = prefix_step_scores(model.as_scorer(normalized=False), prompts, steps)
    for item, prefixes in zip(direct, by_prefix, strict=True):
        assert item is not None
        running = [min(item[: k + 1]) for k in range(len(item))]
        assert prefixes == pytest.approx(running, abs=1e-5)


PROCESSBENCH = {
    "gsm8k": [
        (["a = 1.", "b = 2.", "so 3."], -1),
        (["a = 1.", "b = 5 bad.", "so 6 bad."], 1),
        (["a = 7 bad.", "so 7 bad."], 0),
    ],
    "math": [(["x = 2.", "x^2 = 5 bad."], 1), (["y = 3.", "done."], -1)],
}
SCORER = "def s(prompts, responses):\n    return [-float(r.count('bad')) for r in responses]\n"


def test_processbench_files_are_an_eval_suite(tmp_path: Path) -> None:
    for subset, items in PROCESSBENCH.items():
        rows = [
            {
                "id": f"{subset}-{i}",
                "generator": "test",
                "problem": f"Problem {i} of {subset}",
                "steps": steps,
                "final_answer_correct": label == -1,
                "label": label,
            }
            for i, (steps, label) in enumerate(items)
        ]
        (tmp_path / f"{subset}.json").write_text(json.dumps(rows))
    (tmp_path / "pb.yaml").write_text("files: [gsm8k.json, math.json]\nthreshold_subset: gsm8k\n")
    (tmp_path / "scorer.py").write_text(SCORER)
    out = tmp_path / "out"
    args = [
        "eval",
        "--models",
        f"{tmp_path / 'scorer.py'}:s",
        "--suites",
        str(tmp_path / "pb.yaml"),
    ]
    assert main([*args, "--output", str(out), "--resamples", "50"]) == 0
    mine, *baselines = json.loads((out / "metrics.json").read_text())["results"]
    process = mine["process"]
    assert process["chosen_on"] == "gsm8k" and process["average_f1"] == 1.0
    assert process["subsets"]["math"] == {
        "items": 2,
        "erroneous": 1,
        "correct": 1,
        "error_accuracy": 1.0,
        "correct_accuracy": 1.0,
        "f1": 1.0,
    }
    assert mine["accuracy"]["value"] == 1.0  # each item's credit: its earliest error found
    assert all(b["baseline"] and b["process"] is not None for b in baselines)
    rows = [json.loads(line) for line in (out / "scores.jsonl").read_text().splitlines()]
    assert rows[1]["scores"] == [0.0, -1.0, -2.0]  # prefix scores of gsm8k-1
    report = (out / "report.md").read_text()
    assert "Earliest error" in report and "baseline: random" in report


def test_a_subset_with_one_class_only_picks_its_accuracy() -> None:
    # only erroneous items: the threshold maximises their accuracy (a1 and a3 at 0.5 or 1.0)
    result, hits = evaluate_process([A_SCORES[0], A_SCORES[2]], [2, 0], ["a", "a"])
    assert hits == [True, True] and math.isnan(result.subsets["a"].f1)


def test_step_threshold_maximises_step_f1() -> None:
    scores = [[2.0, 0.4], [1.0, 0.9, 3.0]]
    targets = [[1.0, 0.0], [1.0, 0.0, 1.0]]  # wrong: 0.4 and 0.9; right: 1.0, 2.0, 3.0
    t = choose_step_threshold(scores, targets)
    assert t == 1.0  # below 1.0: exactly the two wrong steps (F1 1)
    assert step_metrics(scores, targets, t).f1 == 1.0
