"""Annotator disagreement on the synthetic world: does Dawid-Skene recover the annotators'
reliabilities, and does training on soft labels beat training on majority votes, on gold
accuracy and calibration, as the annotators get noisier?

    python bench/aggregation_study.py --out runs/aggregation-study      # 7 CPU-minutes
    python bench/aggregation_study.py --out runs/aggregation-long --noise 1 2 \
        --arms dawid_skene dawid_skene_hard --train-pairs 600 --epochs 8   # trained into overfitting

A panel of five simulated annotators votes on every pair: an expert, two steady annotators, a
length-lover (perceives +0.9 reward per filler sentence) and an adversary (votes against what
they perceive 80% of the time); ``--noise`` multiplies every temperature.

1. Reliability: Dawid-Skene (the truth is always a side, fitted on the mirrored table) on
   ``--reliability-pairs`` pairs; each annotator's reliability sum_k pi_k C[k, k] against the
   truth, the share of their votes that agree with the gold reward.
2. Training, per noise level and seed: one set of training pairs, one random initialisation of a
   small BERT (MiniLM's tokenizer, one thread), trained once per arm with everything else equal:
   ``majority`` on the majority side (hard Bradley-Terry, what every trainer does),
   ``dawid_skene`` on the Dawid-Skene P(chosen) and ``vote_share`` on the share of votes for
   chosen (both soft Bradley-Terry); ``--arms`` adds ``dawid_skene_hard`` (Dawid-Skene's side as
   a 0/1 target: the label model's corrections without the softness). Every model is judged on
   the same fresh pairs against the gold reward: accuracy, and the calibration of P(chosen) =
   sigmoid(r_chosen - r_rejected) against the gold outcome (ECE, and the log loss, which does
   not depend on binning).

Why the gold outcome is the calibration target: the gold reward is a deterministic function of
the two texts, so "the gold preference" of a pair is an outcome, 1 or 0; a model that says 0.8
should be right about the gold 80% of the time. The Dawid-Skene posterior estimates exactly
P(gold prefers chosen | votes); the vote share estimates P(an annotator of this panel prefers
chosen), a different (noisier, adversary-diluted) quantity.

The arms share the seed, so their difference per seed is paired: the table gives the mean and
the spread (sample standard deviation) over seeds of each arm and of each other arm minus
majority. Writes results.json and aggregation_study.png into --out.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardkit.aggregation import DawidSkene, fit_label_model, from_pairs, labelled_pairs
from rewardkit.data.writers import write_records
from rewardkit.evaluation.metrics import expected_calibration_error, log_loss, sigmoid
from rewardkit.models import RewardModel
from rewardkit.records import Pair
from rewardkit.rl.proxy import tiny_backbone, tiny_train_config
from rewardkit.synthetic import Annotator, generate_pairs
from rewardkit.training import train

ARMS = ("majority", "dawid_skene", "vote_share", "dawid_skene_hard")
STYLES = {  # marker and line, colour: the same for an arm in every figure
    "majority": ("o--", "tab:blue"),
    "dawid_skene": ("s-", "tab:orange"),
    "vote_share": ("^:", "tab:green"),
    "dawid_skene_hard": ("d-.", "tab:purple"),
}
METRICS = ("gold_accuracy", "gold_ece", "gold_log_loss")


def panel(noise: float) -> tuple[Annotator, ...]:
    return (
        Annotator("expert", temperature=0.3 * noise),
        Annotator("steady-1", temperature=0.7 * noise),
        Annotator("steady-2", temperature=0.7 * noise),
        Annotator("length-lover", temperature=0.6 * noise, filler_bias=0.9),
        Annotator("adversary", temperature=0.6 * noise, adversarial=0.8),
    )


def gold_of(pairs: Sequence[Pair]) -> np.ndarray:
    return np.array([bool(p.metadata["gold_prefers_chosen"]) for p in pairs])


def true_reliability(pairs: Sequence[Pair]) -> dict[str, float]:
    """Per annotator: the share of their votes for the side the gold reward prefers."""
    hits: dict[str, list[bool]] = {}
    for pair, gold in zip(pairs, gold_of(pairs), strict=True):
        for vote in pair.votes:
            right = "chosen" if gold else "rejected"
            hits.setdefault(vote.annotator, []).append(vote.verdict == right)
    return {name: float(np.mean(h)) for name, h in hits.items()}


def reliability_part(noise: float, n: int, seed: int) -> dict[str, Any]:
    pairs = list(generate_pairs(n, seed, votes_per_pair=5, annotators=panel(noise)))
    model = fit_label_model("dawid_skene_sided", from_pairs(pairs))
    assert isinstance(model, DawidSkene)
    truth = true_reliability(pairs)
    found = dict(zip(model.annotators, model.reliability().tolist(), strict=True))
    errors = {name: abs(found[name] - truth[name]) for name in truth}
    return {"truth": truth, "dawid_skene": found, "max_abs_error": max(errors.values())}


def gold_metrics(model_dir: Path, pairs: Sequence[Pair]) -> dict[str, float]:
    model = RewardModel.load(model_dir)
    prompts = [p.prompt for p in pairs]
    chosen = np.array(model.score(prompts, [p.chosen for p in pairs]).raw)
    rejected = np.array(model.score(prompts, [p.rejected for p in pairs]).raw)
    p = sigmoid(chosen - rejected)
    gold = gold_of(pairs).astype(float)
    return {
        "gold_accuracy": float(((chosen > rejected) == gold.astype(bool)).mean()),
        "gold_ece": expected_calibration_error(p, gold),
        "gold_log_loss": log_loss(p, gold),
        "mean_confidence": float(np.maximum(p, 1 - p).mean()),
    }


def label_quality(pairs: Sequence[Pair], p: np.ndarray) -> dict[str, float]:
    """How a set of training targets P(chosen) fares against the gold outcome."""
    gold = gold_of(pairs).astype(float)
    return {
        "accuracy": float(((p > 0.5) == gold.astype(bool))[p != 0.5].mean()),
        "ece": expected_calibration_error(p, gold),
        "mean_target": float(np.maximum(p, 1 - p).mean()),
    }


def arm_files(pairs: Sequence[Pair], folder: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """The training file of each arm (all read as soft labels but majority's) and how good its
    labels are against the gold. ``dawid_skene_hard`` is Dawid-Skene's side as a 0/1 target: it
    separates what the label model corrects from what the softness of its targets does."""
    table = from_pairs(pairs)
    proba = fit_label_model("dawid_skene_sided", table).predict_proba(table)
    soft, _ = labelled_pairs(pairs, proba, "dawid_skene_sided")
    hard = [replace(p, soft_label=float(p.p_chosen > 0.5)) for p in soft]
    files = {
        "majority": folder / "votes.jsonl",
        "dawid_skene": folder / "dawid_skene.jsonl",
        "vote_share": folder / "votes.jsonl",  # the same records, read as soft labels
        "dawid_skene_hard": folder / "dawid_skene_hard.jsonl",
    }
    write_records(pairs, files["majority"])
    write_records(soft, files["dawid_skene"])
    write_records(hard, files["dawid_skene_hard"])
    targets = {
        "majority": pairs,
        "dawid_skene": soft,
        "vote_share": pairs,
        "dawid_skene_hard": hard,
    }
    quality = {
        arm: label_quality(pairs, np.array([p.p_chosen for p in records]))
        for arm, records in targets.items()
    }
    quality["majority"] = label_quality(pairs, np.ones(len(pairs)))
    return files, quality


def seed_run(
    noise: float, seed: int, test_pairs: Sequence[Pair], args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    folder = out / f"noise-{noise:g}" / f"seed-{seed}"
    train_pairs = list(
        generate_pairs(args.train_pairs, 1000 + seed, votes_per_pair=5, annotators=panel(noise))
    )
    files, quality = arm_files(train_pairs, folder)
    write_records(test_pairs[:16], folder / "held_out.jsonl")  # the loop's own held-out check
    backbone = tiny_backbone(folder / "init", args.width, seed)
    result: dict[str, Any] = {"labels": quality}
    for arm in args.arms:
        cfg = tiny_train_config(
            backbone, files[arm], folder / arm, args.epochs, args.lr, seed,
            eval_data=[str(folder / "held_out.jsonl")],
            labels="hard" if arm == "majority" else "soft",
        )  # fmt: skip
        trained = train(cfg)
        result[arm] = {**gold_metrics(trained.model_dir, test_pairs), "seconds": trained.seconds}
        shown = ", ".join(f"{k} {v:.3f}" for k, v in result[arm].items())
        print(f"noise {noise:g} seed {seed} {arm}: {shown}", flush=True)
    return result


def trained_arms(run: dict[str, Any]) -> list[str]:
    """The arms a seed's run trained, majority first (the others are compared with it)."""
    return [arm for arm in ARMS if arm in run]


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sample standard deviation over seeds, per arm and metric, and of each soft arm's
    paired difference from majority."""

    def stats(values: Sequence[float]) -> dict[str, float]:
        x = np.array(values)
        return {"mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else 0.0}

    arms = trained_arms(runs[0])
    out: dict[str, Any] = {
        arm: {m: stats([r[arm][m] for r in runs]) for m in METRICS} for arm in arms
    }
    for arm in arms[1:]:
        out[f"{arm}-majority"] = {
            m: stats([r[arm][m] - r["majority"][m] for r in runs]) for m in METRICS
        }
    out["label_accuracy"] = {
        arm: stats([r["labels"][arm]["accuracy"] for r in runs]) for arm in arms
    }
    return out


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noises = sorted(results, key=float)
    x = np.array([float(n) for n in noises])
    figure, axes = plt.subplots(1, 4, figsize=(18, 4))
    titles = {
        "gold_accuracy": "gold accuracy (higher is better)",
        "gold_ece": "ECE against the gold outcome (lower is better)",
        "gold_log_loss": "log loss against the gold outcome (lower is better)",
    }
    arms = trained_arms(results[noises[0]]["seeds"][0])
    for offset, arm in zip((-0.045, -0.015, 0.015, 0.045)[: len(arms)], arms, strict=True):
        style, color = STYLES[arm]
        for ax, metric in zip(axes[:3], METRICS, strict=True):
            summary = [results[n]["summary"][arm][metric] for n in noises]
            ax.errorbar(
                x * (1 + offset), [s["mean"] for s in summary], [s["std"] for s in summary],
                fmt=style, color=color, capsize=3, label=f"{arm} labels",
            )  # fmt: skip
            for n in noises:
                seeds = [r[arm][metric] for r in results[n]["seeds"]]
                where = [float(n) * (1 + offset)] * len(seeds)
                ax.scatter(where, seeds, s=8, alpha=0.4, color=color)
    for ax, metric in zip(axes[:3], METRICS, strict=True):
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_xlabel("annotator noise (temperature multiplier)")
        ax.set_title(titles[metric], fontsize=10)
        ax.legend(fontsize=8)
    for n in noises:
        rel = results[n]["reliability"]
        names = sorted(rel["truth"])
        axes[3].scatter(
            [rel["truth"][a] for a in names],
            [rel["dawid_skene"][a] for a in names],
            label=f"noise {n}",
        )
    axes[3].plot([0, 1], [0, 1], color="grey", linewidth=1)
    axes[3].set_xlabel("true reliability (votes agreeing with gold)")
    axes[3].set_ylabel("Dawid-Skene reliability")
    axes[3].set_title("recovered reliabilities", fontsize=10)
    axes[3].legend(fontsize=8)
    figure.suptitle("mean ± sd over seeds (dots: each seed); same init and data per seed")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_table(results: dict[str, Any]) -> None:
    def cell(s: dict[str, float]) -> str:
        return f"{s['mean']:.3f}±{s['std']:.3f}"

    print(
        f"{'noise':>5} {'arm':<24}{'labels right':>14}{'gold acc':>14}{'ECE':>14}{'log loss':>14}"
    )
    for n, r in results.items():
        summary = r["summary"]
        arms = trained_arms(r["seeds"][0])
        for arm in arms:
            row = [cell(summary["label_accuracy"][arm])]
            row += [cell(summary[arm][m]) for m in METRICS]
            print(f"{n:>5} {arm:<24}" + "".join(f"{c:>14}" for c in row))
        for arm in arms[1:]:
            row = ["", *(cell(summary[f"{arm}-majority"][m]) for m in METRICS)]
            print(f"{n:>5} {arm + ' - majority':<24}" + "".join(f"{c:>14}" for c in row))
        print(f"{n:>5} reliability max |error| {r['reliability']['max_abs_error']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="runs/aggregation-study")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--arms", nargs="+", choices=ARMS[1:], default=["dawid_skene", "vote_share"]
    )
    parser.add_argument("--reliability-pairs", type=int, default=2000)
    parser.add_argument("--train-pairs", type=int, default=1200)
    parser.add_argument("--test-pairs", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=64, help="of the small random BERT")
    args = parser.parse_args()
    args.arms = ["majority", *args.arms]  # every soft arm is compared with it
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    results: dict[str, Any] = {}
    start = time.process_time()
    for noise in args.noise:
        rel = reliability_part(noise, args.reliability_pairs, seed=7)
        print(f"noise {noise:g} reliability: max |error| {rel['max_abs_error']:.3f}", flush=True)
        test_pairs = list(
            generate_pairs(args.test_pairs, 200, votes_per_pair=5, annotators=panel(noise))
        )
        runs = [seed_run(noise, seed, test_pairs, args, out) for seed in args.seeds]
        results[f"{noise:g}"] = {"reliability": rel, "seeds": runs, "summary": summarize(runs)}
        cpu = time.process_time() - start
        (out / "results.json").write_text(
            json.dumps({"settings": settings, "cpu_seconds": cpu, **results}, indent=1)
        )
    plot(results, out / "aggregation_study.png")
    print_table(results)
    print(f"CPU time {time.process_time() - start:.0f} s")
    print(f"wrote {out / 'results.json'} and {out / 'aggregation_study.png'}")


if __name__ == "__main__":
    main()
