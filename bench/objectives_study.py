"""Multi-objective reward models against one scalar of the same size, on the synthetic world and
on Topical-Chat (USR) ratings.

    python bench/objectives_study.py --out runs/objectives-study            # both parts
    python bench/objectives_study.py --part synthetic --pairs 800 --ratings 800 --seeds 0 1 2

Synthetic world (every model MiniLM-L6, one thread, trained here per seed, judged on the same
fresh test pairs, seed 99):
- ``scalar``: Bradley-Terry on the annotators' pairs;
- the objectives model: an objectives head regressed on the world's attribute ratings (each
  objective in units of its ratings' spread), then stage 2 on pairs with the rest frozen
  (ArmoRM): ``fixed``, the weights fitted by Bradley-Terry on those pairs, the same for every
  prompt; ``gated``, the prompt-conditioned gate started from them; and for reference
  ``gold_weights`` (the world's GOLD_WEIGHTS on the rating scales) and ``mean``;
- ``odin`` (``--models scalar gated odin``): two heads (quality, length) trained with the ODIN
  loss on the same pairs as the scalar, scored by the quality head alone.
Prints each one's gold preference accuracy (against the gold reward, not the noisy labels) and
its scores' Pearson correlation with response length (characters), mean and sd over seeds, and
each objective's correlation with each gold dimension (recovered from the text).

Topical-Chat: an objectives head regressed on the six USR dimensions of 48 dialogue contexts'
responses, judged on the other 12 (prompt-disjoint, 72 responses): per-dimension Spearman
correlation with the human ratings, against the response length's. Writes results.json and a
plot into --out.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rewardkit.data import read_records
from rewardkit.evaluation.metrics import pearson, spearman
from rewardkit.models import RewardModel
from rewardkit.records import Pair, Rating, render_text
from rewardkit.synthetic import GOLD_WEIGHTS, generate_pairs, gold_dimensions_of_text
from rewardkit.training import TrainConfig, train

SYNTHETIC_OBJECTIVES = [
    "helpfulness", "correctness", "safety", "politeness", "formatting", "verbosity"
]  # fmt: skip
USR_OBJECTIVES = [
    "understandability", "naturalness", "coherence", "engagingness", "groundedness", "overall"
]  # fmt: skip


def base_config(out: Path, name: str, **overrides: Any) -> TrainConfig:
    """MiniLM on one thread, fp32, no intermediate evaluation or checkpoints."""
    defaults: dict[str, Any] = {
        "model": "minilm", "output_dir": str(out / name), "threads": 1, "precision": "fp32",
        "eval_every": 0, "save_every": 0, "batch_size": 16, "lr": 5e-5, "max_length": 256,
    }  # fmt: skip
    return TrainConfig(**{**defaults, **overrides})


def gold_rating_weights() -> list[float]:
    """The world's GOLD_WEIGHTS on its rating scales (``generate_ratings``: helpfulness is
    2 relevant + 2 correct, correctness 4 correct, safety, politeness and formatting 4 times
    their dimension, verbosity the filler count): the fixed mix that is the gold reward when
    every objective is exact. In SYNTHETIC_OBJECTIVES' order."""
    g = GOLD_WEIGHTS
    helpfulness = g["relevant"] / 2
    return [
        helpfulness, (g["correct"] - 2 * helpfulness) / 4, g["appropriate"] / 4,
        g["polite"] / 4, g["formatted"] / 4, g["filler"],
    ]  # fmt: skip


def judged(scores: np.ndarray, pairs: Sequence[Pair]) -> dict[str, float]:
    """Gold preference accuracy of per-response scores (chosen, rejected alternating) and
    their correlations with response length (characters)."""
    gold = np.array([bool(p.metadata["gold_prefers_chosen"]) for p in pairs])
    lengths = np.array(
        [len(render_text(r)) for p in pairs for r in (p.chosen, p.rejected)], dtype=np.float64
    )
    return {
        "gold_accuracy": float(((scores[0::2] > scores[1::2]) == gold).mean()),
        "pearson_with_length": pearson(scores, lengths),
        "spearman_with_length": spearman(scores, lengths),
    }


def score_pairs(model: RewardModel, pairs: Sequence[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Each response's raw score and (R, K) objectives (NaN rows for an unscored response; no
    columns for a head without objectives)."""
    prompts = [p.prompt for p in pairs for _ in range(2)]
    responses = [r for p in pairs for r in (p.chosen, p.rejected)]
    result = model.score(prompts, responses, precision="fp32")
    raw = np.array([np.nan if s is None else s for s in result.raw])
    names = model.info.objectives if result.objectives is not None else []
    objectives = np.array(
        [[o[n] if o else np.nan for n in names] for o in (result.objectives or raw)]
    )
    return raw, objectives


def objective_by_dimension(
    objectives: np.ndarray, names: Sequence[str], pairs: Sequence[Pair]
) -> dict[str, dict[str, float]]:
    """Pearson correlation of each objective with each gold dimension over the test responses."""
    dims = [
        gold_dimensions_of_text(render_text(p.prompt), render_text(r)) or {}
        for p in pairs
        for r in (p.chosen, p.rejected)
    ]
    return {
        name: {
            dim: round(pearson(objectives[:, k], np.array([d.get(dim, np.nan) for d in dims])), 3)
            for dim in dims[0]
        }
        for k, name in enumerate(names)
    }


def synthetic_seed(args: argparse.Namespace, seed: int, test: list[Pair]) -> dict[str, Any]:
    """One seed: the scalar, and the objectives model judged with its gate, with the fixed
    weights fitted beside it (Bradley-Terry on the same pairs, no prompt conditioning), with
    the gold weights and with their mean."""
    out: dict[str, Any] = {}
    runs = {
        "scalar": base_config(args.out, f"scalar-{seed}", synthetic_pairs=args.pairs, seed=seed),
        "gated": base_config(
            args.out, f"objectives-{seed}", synthetic_pairs=args.ratings, head="objectives",
            objectives=SYNTHETIC_OBJECTIVES, loss="regression", lr=2e-4, gate=True,
            gate_pairs=args.pairs, epochs=args.ratings_epochs, seed=seed,
        ),
        "odin": base_config(
            args.out, f"odin-{seed}", synthetic_pairs=args.pairs, head="objectives", seed=seed,
            objectives=["quality", "length"], loss="odin", objective_weights=[1.0, 0.0],
        ),
    }  # fmt: skip
    for name, cfg in runs.items():
        if name not in args.models:
            continue
        result = train(cfg)
        model = RewardModel.load(result.model_dir, precision="fp32")
        raw, objectives = score_pairs(model, test)
        out[name] = {**judged(raw, test), "train_seconds": round(result.seconds, 1)}
        if name == "gated":
            out["gate"] = result.provenance.get("gate")
            mixes = {"fixed": model.info.weights, "gold_weights": gold_rating_weights()}
            mixes["mean"] = [1 / len(SYNTHETIC_OBJECTIVES)] * len(SYNTHETIC_OBJECTIVES)
            for mix, weights in mixes.items():
                out[mix] = judged(objectives @ np.array(weights), test)
            out["objective_vs_gold_dimension"] = objective_by_dimension(
                objectives, model.info.objectives, test
            )
        print(seed, name, json.dumps(out[name]), flush=True)
    return out


COMPARED = ("scalar", "fixed", "gated", "gold_weights", "mean", "odin")


def synthetic(args: argparse.Namespace) -> dict[str, Any]:
    test = list(generate_pairs(args.test, seed=99))
    out: dict[str, Any] = {"test_pairs": len(test), "seeds": args.seeds}
    out["label_accuracy"] = float(np.mean([p.metadata["gold_prefers_chosen"] for p in test]))
    gold = [p.metadata[k] for p in test for k in ("gold_chosen", "gold_rejected")]
    lengths = [len(render_text(r)) for p in test for r in (p.chosen, p.rejected)]
    out["gold_pearson_with_length"] = pearson(np.array(gold), np.array(lengths, dtype=float))
    out["by_seed"] = {str(seed): synthetic_seed(args, seed, test) for seed in args.seeds}
    summary: dict[str, dict[str, float]] = {}
    for name in COMPARED:
        rows = [r[name] for r in out["by_seed"].values() if name in r]
        if rows:
            accuracy = np.array([r["gold_accuracy"] for r in rows])
            length = np.array([abs(r["pearson_with_length"]) for r in rows])
            summary[name] = {
                "gold_accuracy_mean": round(float(accuracy.mean()), 4),
                "gold_accuracy_sd": round(float(accuracy.std(ddof=1)) if len(rows) > 1 else 0.0, 4),
                "abs_r_length_mean": round(float(length.mean()), 4),
                "abs_r_length_sd": round(float(length.std(ddof=1)) if len(rows) > 1 else 0.0, 4),
            }
    out["summary"] = summary
    print("summary", json.dumps(summary, indent=1), flush=True)
    return out


def _context_split(
    ratings: list[Rating], held_contexts: int, seed: int
) -> tuple[list[Rating], list[Rating]]:
    contexts = sorted({str(r.prompt) for r in ratings})
    held = set(random.Random(seed).sample(contexts, held_contexts))
    return [r for r in ratings if str(r.prompt) not in held], [
        r for r in ratings if str(r.prompt) in held
    ]


def topical_chat(args: argparse.Namespace) -> dict[str, Any]:
    ratings = [r for r in read_records(args.usr) if isinstance(r, Rating)]
    train_set, held = _context_split(ratings, 12, args.seed)
    data_dir = args.out / "usr"
    data_dir.mkdir(parents=True, exist_ok=True)
    from rewardkit.data import write_records

    paths = {}
    for name, rows in (("train", train_set), ("held", held)):
        paths[name] = data_dir / f"{name}.jsonl"
        write_records([replace(r, metadata={}) for r in rows], paths[name])
    cfg = base_config(
        args.out, "usr", data=[str(paths["train"])], eval_data=[str(paths["held"])],
        head="objectives", objectives=USR_OBJECTIVES, loss="regression", lr=args.usr_lr,
        epochs=args.usr_epochs, batch_size=8, overflow="truncate_prompt",
    )  # fmt: skip
    result = train(cfg)
    model = RewardModel.load(result.model_dir)
    scored = model.score(
        [r.prompt for r in held], [r.response for r in held], overflow="truncate_prompt"
    )
    assert scored.objectives is not None
    lengths = np.array([len(render_text(r.response)) for r in held], dtype=np.float64)
    table = {}
    for name in USR_OBJECTIVES:
        human = np.array([r.attributes.get(name, np.nan) for r in held])
        predicted = np.array([o[name] if o else np.nan for o in scored.objectives])
        table[name] = {
            "model_spearman": round(spearman(predicted, human), 3),
            "length_spearman": round(spearman(lengths, human), 3),
        }
    out = {"train": len(train_set), "held_out": len(held), "per_dimension": table,
           "train_seconds": result.seconds}  # fmt: skip
    print("topical_chat", json.dumps(out, indent=1), flush=True)
    return out


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if "synthetic" in results:
        summary = results["synthetic"]["summary"]
        names = [n for n in COMPARED if n in summary]
        x = np.arange(len(names))
        for offset, key, label in ((-0.2, "gold_accuracy", "gold accuracy"),
                                   (0.2, "abs_r_length", "|r| with length")):  # fmt: skip
            axes[0].bar(
                x + offset, [summary[n][f"{key}_mean"] for n in names], 0.4, label=label,
                yerr=[summary[n][f"{key}_sd"] for n in names], capsize=3,
            )  # fmt: skip
        axes[0].set_xticks(x, names)
        seeds = len(results["synthetic"]["seeds"])
        axes[0].set_title(f"synthetic world: MiniLM, mean and sd over {seeds} seeds")
        axes[0].legend()
    if "topical_chat" in results:
        table = results["topical_chat"]["per_dimension"]
        x = np.arange(len(table))
        axes[1].bar(x - 0.2, [v["model_spearman"] for v in table.values()], 0.4, label="model")
        axes[1].bar(x + 0.2, [v["length_spearman"] for v in table.values()], 0.4, label="length")
        axes[1].set_xticks(x, list(table), rotation=30)
        axes[1].set_title("Topical-Chat USR: held-out Spearman")
        axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/objectives-study"))
    parser.add_argument("--part", choices=["all", "synthetic", "usr"], default="all")
    parser.add_argument("--pairs", type=int, default=1200, help="synthetic training pairs")
    parser.add_argument("--ratings", type=int, default=1200, help="synthetic rated responses")
    parser.add_argument("--test", type=int, default=600, help="synthetic test pairs (seed 99)")
    parser.add_argument("--usr", default="../shared/data/topical_chat_usr/topical_chat.json")
    parser.add_argument("--ratings_epochs", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["scalar", "gated"], help="and odin")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--usr_epochs", type=int, default=3)
    parser.add_argument("--usr_lr", type=float, default=2e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "results.json"  # a partial run updates what an earlier one wrote
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if args.part in ("all", "synthetic"):
        results["synthetic"] = synthetic(args)
    if args.part in ("all", "usr"):
        results["topical_chat"] = topical_chat(args)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, args.out / "objectives.png")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'objectives.png'}")


if __name__ == "__main__":
    main()
