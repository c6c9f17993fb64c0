"""Annotator disagreement on the synthetic world: does Dawid-Skene recover the annotators'
reliabilities, and does training on its soft labels beat training on majority votes, on gold
accuracy and calibration, as the annotators get noisier?

    python bench/aggregation_study.py --out runs/aggregation-study
    python bench/aggregation_study.py --noise 0.5 1 2 --train-pairs 400 --reliability-pairs 2000

A panel of five simulated annotators votes on every pair: an expert, two steady annotators, a
length-lover (perceives +0.9 reward per filler sentence) and an adversary (votes against what
they perceive 80% of the time); ``--noise`` multiplies every temperature.

1. Reliability: Dawid-Skene (the truth is always a side, fitted on the mirrored table) on
   ``--reliability-pairs`` pairs; each annotator's reliability sum_k pi_k C[k, k] against the
   truth, the share of their votes that agree with the gold reward.
2. Training (MiniLM, one thread, the same seed and steps): ``majority`` trains on the majority
   side (hard Bradley-Terry, what every trainer does), ``soft`` on the Dawid-Skene P(chosen)
   (soft Bradley-Terry). Both are judged on fresh pairs against the gold reward: accuracy, and
   ECE of sigmoid(r_chosen - r_rejected) against the gold outcome.

Writes results.json and aggregation_study.png into --out and prints a table.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rewardkit.aggregation import DawidSkene, from_pairs, labelled_pairs
from rewardkit.data.writers import write_records
from rewardkit.evaluation.metrics import expected_calibration_error, sigmoid
from rewardkit.models import RewardModel
from rewardkit.records import Pair
from rewardkit.synthetic import Annotator, generate_pairs
from rewardkit.training import TrainConfig, train


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


def fit_ds(pairs: Sequence[Pair]) -> tuple[DawidSkene, np.ndarray]:
    table = from_pairs(pairs)
    model = DawidSkene(tie_class=False).fit(table.mirrored())
    return model, model.predict_proba(table)


def reliability_part(noise: float, n: int, seed: int) -> dict[str, Any]:
    pairs = list(generate_pairs(n, seed, votes_per_pair=5, annotators=panel(noise)))
    model, _ = fit_ds(pairs)
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
        "mean_confidence": float(np.maximum(p, 1 - p).mean()),
    }


def training_part(noise: float, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    annotators = panel(noise)
    train_pairs = list(
        generate_pairs(args.train_pairs, 100, votes_per_pair=5, annotators=annotators)
    )
    test_pairs = list(generate_pairs(args.test_pairs, 200, votes_per_pair=5, annotators=annotators))
    _, proba = fit_ds(train_pairs)
    soft, _ = labelled_pairs(train_pairs, proba, "dawid_skene")
    folder = out / f"noise-{noise:g}"
    write_records(test_pairs[:16], folder / "held_out.jsonl")  # the loop's own held-out check
    files = {"majority": folder / "majority.jsonl", "soft": folder / "soft.jsonl"}
    write_records(train_pairs, files["majority"])
    write_records(soft, files["soft"])
    result: dict[str, Any] = {
        "label_gold_accuracy": {
            "majority": float(gold_of(train_pairs).mean()),
            "dawid_skene": float(((proba[:, 0] > proba[:, 1]) == gold_of(train_pairs)).mean()),
        }
    }
    for name, path in files.items():
        cfg = TrainConfig(
            model=args.model, data=[str(path)], eval_data=[str(folder / "held_out.jsonl")], labels="soft" if name == "soft" else "hard",
            output_dir=str(folder / name), threads=1, precision="fp32", eval_every=0,
            save_every=0, batch_size=16, lr=args.lr, epochs=args.epochs, max_length=128, seed=0,
        )  # fmt: skip
        start = time.time()
        trained = train(cfg)
        result[name] = {
            **gold_metrics(trained.model_dir, test_pairs),
            "seconds": time.time() - start,
        }
        print(f"noise {noise:g} {name}: {result[name]}", flush=True)
    return result


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    noises = sorted(results, key=float)
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for name, style in (("majority", "o--"), ("soft", "s-")):
        for ax, metric in zip(axes[:2], ("gold_accuracy", "gold_ece"), strict=True):
            values = [results[n]["training"][name][metric] for n in noises]
            ax.plot([float(n) for n in noises], values, style, label=f"{name} labels")
    for ax, title in zip(
        axes[:2], ("gold accuracy (higher is better)", "ECE vs gold (lower is better)"), strict=True
    ):
        ax.set_xlabel("annotator noise (temperature multiplier)")
        ax.set_title(title)
        ax.legend()
    for n in noises:
        rel = results[n]["reliability"]
        names = sorted(rel["truth"])
        axes[2].scatter(
            [rel["truth"][a] for a in names],
            [rel["dawid_skene"][a] for a in names],
            label=f"noise {n}",
        )
    axes[2].plot([0, 1], [0, 1], color="grey", linewidth=1)
    axes[2].set_xlabel("true reliability (votes agreeing with gold)")
    axes[2].set_ylabel("Dawid-Skene reliability")
    axes[2].set_title("recovered reliabilities")
    axes[2].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="runs/aggregation-study")
    parser.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--reliability-pairs", type=int, default=2000)
    parser.add_argument("--train-pairs", type=int, default=192)
    parser.add_argument("--test-pairs", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--model", default="minilm")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    for noise in args.noise:
        rel = reliability_part(noise, args.reliability_pairs, seed=7)
        print(f"noise {noise:g} reliability: max |error| {rel['max_abs_error']:.3f}", flush=True)
        results[f"{noise:g}"] = {"reliability": rel, "training": training_part(noise, args, out)}
        (out / "results.json").write_text(json.dumps({"settings": settings, **results}, indent=1))
    plot(results, out / "aggregation_study.png")
    print(
        f"{'noise':>6}{'rel err':>9}"
        + "".join(f"{m + ' ' + k:>22}" for m in ("majority", "soft") for k in ("acc", "ece"))
    )
    for n, r in results.items():
        t = r["training"]
        print(
            f"{n:>6}{r['reliability']['max_abs_error']:>9.3f}"
            + "".join(
                f"{t[m][k]:>22.3f}"
                for m in ("majority", "soft")
                for k in ("gold_accuracy", "gold_ece")
            )
        )
    print(f"wrote {out / 'results.json'} and {out / 'aggregation_study.png'}")


if __name__ == "__main__":
    main()
