"""The over-optimisation lab end to end: proxies trained on labels of the synthetic world, best-of-n
against them for n = 1..1024, gold against proxy, Gao et al.'s fit, and each mitigation.

    python bench/overoptimization.py --out runs/overopt

1. Training pairs from the synthetic world, labelled noiselessly by the gold reward, and the same
   with 25% of labels flipped at random (Coste et al. 2023's setting).
2. Proxies (a small random BERT on MiniLM's tokenizer, one thread, a few CPU-minutes in all):
   one scalar model per label setting, and an ensemble of independently seeded scalar models on
   the flipped labels (members that differ in initialisation are more diverse than heads on one
   backbone: Eisenstein et al. 2023).
3. A pool of candidates from the lab's sampler (quality and length vary); best-of-n with the
   unbiased estimator; gold and proxy against KL = log n - (n-1)/n; the fit R = d(alpha - beta d).
4. Mitigations on the flipped-label proxy: ensemble mean, min and mean - 0.5 var; a length
   penalty; a KL limit. Printed: the gold drop at n = 1024 and how much of it each cuts.
Writes curves.png, results.json and the proxies under --out.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rewardkit.data.writers import write_records
from rewardkit.hacking.best_of_n import fit_gao
from rewardkit.hacking.ensemble import AGGREGATES, aggregate, member_scores
from rewardkit.hacking.lab import (
    Curve,
    build_pool,
    compare_drops,
    length_penalized,
    length_slope,
    score_pool,
    sweep,
)
from rewardkit.hacking.plots import curves_figure
from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Pair
from rewardkit.rl.proxy import tiny_backbone, tiny_train_config
from rewardkit.synthetic import generate_pairs
from rewardkit.training import train


def labelled_pairs(n: int, flip: float, seed: int) -> list[Pair]:
    """Pairs oriented by the gold reward, then a share ``flip`` of them swapped at random."""
    rng = random.Random(seed + 1)
    out = []
    for pair in generate_pairs(n, seed=seed):
        gold_first = bool(pair.metadata["gold_prefers_chosen"])
        if gold_first == (rng.random() < flip):  # wrong side: the gold label, flipped or not
            pair = replace(pair, chosen=pair.rejected, rejected=pair.chosen)
        out.append(replace(pair, votes=()))
    return out


def train_proxy(data: Path, out: Path, args: argparse.Namespace, seed: int) -> RewardModel:
    backbone = tiny_backbone(out.with_name(out.name + "-init"), args.width, seed)
    cfg = tiny_train_config(backbone, data, out, args.epochs, args.lr, seed)
    result = train(cfg)
    print(f"  {out.name}: {result.steps} steps in {result.seconds:.0f} s, held-out accuracy "
          f"{result.eval.accuracy:.3f}", flush=True)  # fmt: skip
    return RewardModel.load(result.model_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/overopt")
    parser.add_argument("--pairs", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--samples", type=int, default=2048, help="per prompt, N >= max n")
    parser.add_argument("--kl_budget", type=float, default=2.5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    settings = {"noiseless": 0.0, "25% flipped": 0.25}
    data = {}
    for name, flip in settings.items():
        data[name] = out / f"pairs-{flip:g}.jsonl"
        write_records(labelled_pairs(args.pairs, flip, seed=0), data[name])
    print("training proxies", flush=True)
    proxies = {name: train_proxy(data[name], out / f"proxy-{flip:g}", args, 0)
               for name, flip in settings.items()}  # fmt: skip
    members = [proxies["25% flipped"]] + [
        train_proxy(data["25% flipped"], out / f"member-{k}", args, k)
        for k in range(1, args.members)
    ]

    pool = build_pool(args.prompts, args.samples, seed=1)
    print(f"pool: {len(pool.samples)} prompts x {args.samples} samples, "
          f"{len(pool.responses)} distinct responses", flush=True)  # fmt: skip
    single = {name: score_pool(pool, m.as_scorer(progress=True)) for name, m in proxies.items()}
    curves = [sweep(pool, values, f"single proxy, {name}") for name, values in single.items()]
    fits = {c.name: fit_gao(c.kl, c.gold - c.gold[0]) for c in curves}

    flipped = single["25% flipped"]
    others = member_scores(members[1:], pool.prompts, pool.responses, progress=True)
    scores = np.column_stack([flipped, others])  # member 0 is the flipped proxy, scored above
    ensembles = [sweep(pool, aggregate(scores, how), f"ensemble {how}") for how in AGGREGATES]
    weight = max(0.0, length_slope(flipped, pool.words))  # a penalty, never a bonus
    penalized = sweep(pool, length_penalized(flipped, pool.words, weight), "length penalty")
    rows = compare_drops(curves[1], [*ensembles, penalized], args.kl_budget)

    print(
        f"\nlength penalty weight {weight:.4f} per word; all in {time.perf_counter() - start:.0f} s"
    )
    for curve in curves:
        fit = fits[curve.name]
        print(f"{curve.name}: gold n=1 {curve.gold[0]:.3f}, peak {curve.gold.max():.3f} at n="
              f"{curve.ns[curve.gold.argmax()]}, n={curve.ns[-1]} {curve.gold[-1]:.3f} (drop "
              f"{curve.gold_drop:.3f}); Gao fit alpha {fit.alpha:.3f} beta {fit.beta:.3f} "
              f"R^2 {fit.r2:.3f}")  # fmt: skip
    print("\nmitigations on the 25%-flipped proxy, at the largest n:")
    for row in rows:
        print(f"  {row.name:24s} gold {row.gold_at_max_n:.3f}  drop {row.drop:.3f}  "
              f"cuts {100 * row.drop_cut:.0f}% of the drop")  # fmt: skip
    everything: list[Curve] = [*curves, *ensembles, penalized]
    curves_figure(everything, fits, out / "curves.png")
    results: dict[str, Any] = {
        "args": vars(args),
        "curves": [
            {
                k: np.asarray(v).tolist() if not isinstance(v, str) else v
                for k, v in asdict(c).items()
            }
            for c in everything
        ],
        "gao_fits": {name: asdict(fit) for name, fit in fits.items()},
        "mitigations": [asdict(r) for r in rows],
        "length_penalty_per_word": weight,
    }
    (out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {out / 'curves.png'} and {out / 'results.json'}")


if __name__ == "__main__":
    main()
