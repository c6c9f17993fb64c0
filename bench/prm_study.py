"""A process reward model on real data: PRM800K phase 1 steps, held out by problem, and
best-of-n on GSM8K model solutions, against an outcome model trained on the same budget.

    python bench/prm_study.py --data ../shared/data --out runs/prm_study

1. Reads PRM800K (``prm800k_phase1``) into step traces (cut after the first wrong step) and
   splits them by problem: 80% to train, 20% held out; the held-out problems split again in
   two prompt-disjoint subsets, ``heldout-a`` (where an earliest-error threshold is chosen) and
   ``heldout-b`` (where it is reused). Traces over ``--max-length`` tokens are left out.
2. Trains MiniLM (``minilm``) with a per-step head (``step_bce``: every labelled step) and, on
   the same traces, batches and steps, an outcome model: the same head trained on one label per
   trace at its last step (1 when no step is wrong), as Lightman et al. 2023 train their ORM.
3. Held out: step accuracy and F1 (finding wrong steps, threshold 0 = P(right) 0.5) and
   ProcessBench-style earliest-error F1 (threshold chosen on heldout-a, reused on heldout-b;
   and at 0), each against the majority and random baselines.
4. GSM8K (``gsm8k/example_model_solutions.jsonl``, 4 graded solutions per question, each line
   a step): best-of-n for n = 1..4 with the PRM's min / prod / last / mean aggregations, the
   outcome model, majority voting over final answers, and pass@n; a figure of the curves.

Prints every figure, writes ``results.json`` (with every step score) and ``best_of_n.png``
under ``--out``. About 10 minutes of one idle CPU core with the defaults (2.2 traces/s trained,
8 scored); ``--reuse`` loads the models an earlier run saved there and only scores.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from rewardkit.data import is_eval, read_records, write_records
from rewardkit.data.formats.steps import Neutral, first_error, step_probability
from rewardkit.evaluation.answers import answer, gold_answer
from rewardkit.evaluation.best_of_n import (
    AGGREGATES,
    curve,
    majority_vote,
    pass_at_n,
    rerank_scores,
)
from rewardkit.evaluation.process import (
    choose_step_threshold,
    evaluate_process,
    model_step_scores,
    prefix_step_scores,
    step_baselines,
    step_metrics,
)
from rewardkit.models import RewardModel
from rewardkit.records import StepTrace
from rewardkit.training.config import TrainConfig
from rewardkit.training.loop import train

SOLVERS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def outcome_only(trace: StepTrace, neutral: Neutral) -> StepTrace:
    """The same trace with one label, at its last step: 1 when no step is wrong (ORM data)."""
    right = first_error(trace.labels, neutral) == -1
    labels = (None,) * (len(trace.steps) - 1) + (1.0 if right else -1.0,)
    return replace(trace, labels=labels)


def fits(model: RewardModel, trace: StepTrace, max_length: int) -> bool:
    return len(model.encode_steps(trace.prompt, list(trace.steps)).ids) <= max_length


def sample_traces(
    traces: list[StepTrace], per_problem: int, limit: int, seed: int
) -> list[StepTrace]:
    """Up to ``per_problem`` traces of each problem, then ``limit`` of them, drawn at random:
    many problems rather than many overlapping paths of a few."""
    by_problem: dict[str, list[StepTrace]] = defaultdict(list)
    for trace in traces:
        by_problem[str(trace.prompt)].append(trace)
    rng = random.Random(seed)
    chosen = [
        t for group in by_problem.values() for t in rng.sample(group, min(per_problem, len(group)))
    ]
    rng.shuffle(chosen)
    return chosen[:limit]


def train_model(
    name: str, records: list[StepTrace], probe: list[StepTrace], args: argparse.Namespace
) -> RewardModel:
    """``probe``: a few held-out traces for the loop's own end-of-run check (kept small: the
    held-out figures come later, from the same code for both models)."""
    out = Path(args.out)
    if args.reuse and (out / name / "model").is_dir():
        print(f"{name}: reusing {out / name / 'model'}")
        return RewardModel.load(out / name / "model")
    data, probe_file = out / f"{name}-train.jsonl", out / f"{name}-probe.jsonl"
    write_records(records, data)
    write_records(probe, probe_file)
    cfg = TrainConfig(
        model="minilm",
        head="steps",
        loss="step_bce",
        data=[str(data)],
        eval_data=[str(probe_file)],
        max_length=args.max_length,
        neutral=args.neutral,
        batch_size=args.batch_size,
        lr=args.lr,
        epochs=1,
        eval_every=0,
        save_every=0,
        threads=args.threads,
        output_dir=str(out / name),
        seed=args.seed,
    )
    start = time.perf_counter()
    result = train(cfg)
    print(f"{name}: trained on {len(records)} traces in {time.perf_counter() - start:.0f} s")
    return RewardModel.load(result.model_dir)


def held_out_figures(
    models: dict[str, RewardModel],
    traces: list[StepTrace],
    subsets: list[str],
    neutral: Neutral,
    causal: bool,
) -> dict[str, Any]:
    targets = [[step_probability(x, neutral) for x in t.labels] for t in traces]
    labels = [first_error(t.labels, neutral) for t in traces]
    figures: dict[str, Any] = {
        "traces": len(traces),
        "subsets": {s: subsets.count(s) for s in dict.fromkeys(subsets)},
        "step_baselines": {k: asdict(v) for k, v in step_baselines(targets).items()},
        "step_baselines_b": {
            k: asdict(v)
            for k, v in step_baselines(
                [t for t, s in zip(targets, subsets, strict=True) if s == "heldout-b"]
            ).items()
        },
    }
    for name, model in models.items():
        start = time.perf_counter()
        scored = model_step_scores(model, [t.prompt for t in traces], [t.steps for t in traces])
        scores = [
            s if s is not None else [math.nan] * len(t.steps)
            for s, t in zip(scored, traces, strict=True)
        ]
        chosen, _ = evaluate_process(scores, labels, subsets, threshold_subset="heldout-a")
        at_zero, _ = evaluate_process(scores, labels, subsets, threshold=0.0)
        a = [i for i, s in enumerate(subsets) if s == "heldout-a"]
        b = [i for i, s in enumerate(subsets) if s == "heldout-b"]
        step_t = choose_step_threshold([scores[i] for i in a], [targets[i] for i in a])
        figures[name] = {
            "steps": asdict(step_metrics(scores, targets)),
            "step_threshold_from_a": step_t,
            "steps_b_at_a_threshold": asdict(
                step_metrics([scores[i] for i in b], [targets[i] for i in b], step_t)
            ),
            "step_scores": scores,
            "earliest_error_chosen_threshold": asdict(chosen),
            "earliest_error_threshold_0": asdict(at_zero),
            "seconds": time.perf_counter() - start,
        }
        if causal:  # each step scored with only the steps before it in view
            scorer = model.as_scorer(normalized=False)
            prefix = prefix_step_scores(
                scorer, [t.prompt for t in traces], [t.steps for t in traces]
            )
            result, _ = evaluate_process(prefix, labels, subsets, threshold_subset="heldout-a")
            figures[name]["earliest_error_prefixes"] = asdict(result)
    return figures


def gsm8k_figures(
    models: dict[str, RewardModel], path: Path, questions: int, seed: int
) -> dict[str, Any]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = random.Random(seed).sample(rows, min(questions, len(rows)))
    prompts = [r["question"] for r in rows for _ in SOLVERS]
    solutions = [r[s]["solution"] for r in rows for s in SOLVERS]
    steps = [[line for line in s.split("\n") if line.strip()] for s in solutions]
    correct = [bool(r[s]["is_correct"]) for r in rows for s in SOLVERS]
    ns = list(range(1, len(SOLVERS) + 1))
    k = len(SOLVERS)

    def per_question(scores: list[float]) -> list[tuple[list[float], list[bool]]]:
        return [(scores[i : i + k], correct[i : i + k]) for i in range(0, len(scores), k)]

    curves: dict[str, list[float]] = {}
    step_scores = {}
    for name, model in models.items():
        scored = step_scores[name] = model_step_scores(model, prompts, steps)
        aggregates = AGGREGATES if name == "prm" else ("last",)  # the ORM reads its last step
        for how in aggregates:
            curves[f"{name} ({how})"] = curve(per_question(rerank_scores(scored, how)), ns)
    answers = [answer(s, "gsm8k") for s in solutions]
    golds = [gold_answer(r["ground_truth"], "gsm8k") for r in rows]
    curves["majority vote"] = [
        sum(majority_vote(answers[q * k : (q + 1) * k], golds[q], n) for q in range(len(rows)))
        / len(rows)
        for n in ns
    ]
    curves["pass@n (oracle)"] = [
        sum(pass_at_n(correct[q * k : (q + 1) * k], n) for q in range(len(rows))) / len(rows)
        for n in ns
    ]
    return {
        "questions": len(rows),
        "solutions": len(solutions),
        "n": ns,
        "curves": curves,
        "correct": correct,
        "step_scores": step_scores,
    }


def plot(curves: dict[str, list[float]], ns: list[int], path: Path) -> None:
    figure, ax = plt.subplots(figsize=(6, 4.2))
    for name, values in curves.items():
        style = {"linestyle": ":"} if name.startswith(("majority", "pass")) else {}
        ax.plot(ns, values, marker="o", label=name, **style)  # type: ignore[arg-type]
    ax.set(xlabel="n (solutions per question)", ylabel="accuracy of the pick", xticks=ns)
    ax.set_title("Best-of-n on GSM8K model solutions")
    ax.legend(fontsize=8)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default="runs/prm_study")
    parser.add_argument("--train-traces", type=int, default=400)
    parser.add_argument("--eval-traces", type=int, default=300)
    parser.add_argument("--gsm8k-questions", type=int, default=200)
    parser.add_argument("--max-length", type=int, default=384)
    parser.add_argument(
        "--neutral", default="positive", choices=["positive", "negative", "unlabelled"]
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--causal",
        action="store_true",
        help="also score each held-out step as the solution up to it (no later step in view)",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="load the models a previous run saved in --out"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(args.data)
    traces = [
        t
        for t in read_records(data / "prm800k_phase1" / "phase1_train_steps.jsonl.gz")
        if isinstance(t, StepTrace)
    ]
    probe = RewardModel.from_backbone("minilm", head="steps", max_length=args.max_length)
    held = [t for t in traces if is_eval(t, 0.2, args.seed)]
    train_pool = [
        t for t in traces if not is_eval(t, 0.2, args.seed) and fits(probe, t, args.max_length)
    ]
    eval_pool = [t for t in held if fits(probe, t, args.max_length)]
    print(
        f"PRM800K: {len(traces)} traces; train pool {len(train_pool)}, held out {len(eval_pool)} "
        f"(of {len(held)}; the rest over {args.max_length} tokens)"
    )
    train_set = sample_traces(train_pool, 1, args.train_traces, args.seed)
    eval_set = sample_traces(eval_pool, 2, args.eval_traces, args.seed)
    subsets = ["heldout-a" if is_eval(t, 0.5, args.seed + 1) else "heldout-b" for t in eval_set]
    assert not {str(t.prompt) for t in train_set} & {str(t.prompt) for t in eval_set}
    probe_set = eval_set[:16]
    models = {
        "prm": train_model("prm", train_set, probe_set, args),
        "orm": train_model(
            "orm",
            [outcome_only(t, args.neutral) for t in train_set],
            [outcome_only(t, args.neutral) for t in probe_set],
            args,
        ),
    }
    results: dict[str, Any] = {"config": vars(args)}
    held_out = held_out_figures(models, eval_set, subsets, args.neutral, args.causal)
    results["prm800k_held_out"] = held_out
    gsm8k = data / "gsm8k" / "example_model_solutions.jsonl"
    results["gsm8k_best_of_n"] = gsm8k_figures(models, gsm8k, args.gsm8k_questions, args.seed)
    results["seconds"] = time.perf_counter() - start
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    plot(
        results["gsm8k_best_of_n"]["curves"], results["gsm8k_best_of_n"]["n"], out / "best_of_n.png"
    )
    report(results)


def report(results: dict[str, Any]) -> None:
    held = results["prm800k_held_out"]
    print(f"\nPRM800K held out: {held['traces']} traces {held['subsets']}")
    for name, m in held["step_baselines"].items():
        print(f"  step level  {name:9s} acc {m['accuracy']:.3f}  F1(wrong) {m['f1']:.3f}")
    for name in ("prm", "orm"):
        s = held[name]["steps"]
        print(f"  step level  {name:9s} acc {s['accuracy']:.3f}  F1(wrong) {s['f1']:.3f}  (t=0)")
    for name, m in held["step_baselines_b"].items():
        print(f"  heldout-b   {name:9s} acc {m['accuracy']:.3f}  F1(wrong) {m['f1']:.3f}")
    for name in ("prm", "orm"):
        s, t = held[name]["steps_b_at_a_threshold"], held[name]["step_threshold_from_a"]
        print(
            f"  heldout-b   {name:9s} acc {s['accuracy']:.3f}  F1(wrong) {s['f1']:.3f}  "
            f"(t={t:.3f}, chosen on heldout-a)"
        )
    keys = ["earliest_error_chosen_threshold", "earliest_error_threshold_0"]
    keys += ["earliest_error_prefixes"] if "earliest_error_prefixes" in held["prm"] else []
    for key in keys:
        print(f"  earliest error, {key.removeprefix('earliest_error_')}:")
        for name in ("prm", "orm"):
            r = held[name][key]
            subsets = "  ".join(
                f"{s}: err {e['error_accuracy']:.3f} ok {e['correct_accuracy']:.3f} F1 {e['f1']:.3f}"
                for s, e in r["subsets"].items()
            )
            print(f"    {name} (t={r['threshold']:.3f}) avg F1 {r['average_f1']:.3f}   {subsets}")
        for base, value in held["prm"][key]["baseline_average_f1"].items():
            print(f"    {base} baseline avg F1 {value:.3f}")
    best = results["gsm8k_best_of_n"]
    print(f"\nGSM8K best-of-n, {best['questions']} questions, n = {best['n']}:")
    for name, values in best["curves"].items():
        print(f"  {name:18s} " + "  ".join(f"{v:.3f}" for v in values))
    print(f"\n{results['seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
