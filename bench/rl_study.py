"""RL against proxy reward models in the synthetic world: over-optimisation and its mitigations,
over seeds, in one report (docs/rl.md).

    python bench/rl_study.py --out runs/rl_study --seeds 0 1 2

Per seed: the world policy (fitted once, shared), proxies trained on the simulated annotators'
labels and on gold labels, two more annotator-label members for the ensemble (other seeds of
initialisation), then GRPO runs of --steps against:

- the annotator-label proxy, no mitigation;
- the gold-label proxy, no mitigation (does the fall come later?);
- the annotator-label and the gold-label proxy with GRPO's KL penalty (--beta);
- the ensemble's most pessimistic member (min over 3 annotator-label members);
- the annotator-label proxy, stopped when its OOD score climbs past --stop_ratio of its start
  (read off the unmitigated run: with the same seed the run is the same until the stop fires).

Writes report.md and rl.png (gold and proxy against sqrt KL) under --out, and results.json. A
finished run keeps its rows (rows.json in its folder) and is read back when the study is rerun,
so settings can be added without running the others again.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from rewardkit.models.ood import load_ood
from rewardkit.models.reward_model import RewardModel
from rewardkit.rl.loop import run_rl
from rewardkit.rl.policy import PolicyConfig, fit_world_policy
from rewardkit.rl.proxy import ProxyConfig, train_world_proxy
from rewardkit.rl.report import Rows, summarize, write_report
from rewardkit.rl.rewards import StopRule
from rewardkit.rl.settings import Labels, RLSettings


def until_stop(rows: Rows, rule: StopRule) -> Rows:
    """The rows up to the log where ``rule`` fires (all of them if it never does)."""
    for k, row in enumerate(rows):
        if rule.update(row):
            return rows[: k + 1]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="runs/rl_study")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--lr", type=float, default=2.5e-4)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--stop_ratio", type=float, default=1.1)
    parser.add_argument("--policy_pairs", type=int, default=0)
    parser.add_argument("--runs", nargs="+", default=None, help="a subset of the run names")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    start = time.perf_counter()
    policy = fit_world_policy(out / "policy", PolicyConfig())
    base = RLSettings(steps=args.steps, lr=args.lr, log_every=5)
    runs: dict[str, list[Rows]] = {}
    for seed in args.seeds:

        def proxy(labels: Labels, member: int = 0, seed: int = seed) -> Path:
            cfg = ProxyConfig(labels, seed=100 * seed + member, data_seed=seed,
                              policy_pairs=args.policy_pairs)  # fmt: skip
            return train_world_proxy(out / f"seed{seed}" / f"proxy-{labels}-{member}", cfg, policy)

        noisy, gold = proxy("annotators"), proxy("gold")
        members = [noisy, proxy("annotators", 1), proxy("annotators", 2)]
        plans = {
            "annotator labels, no mitigation": ([noisy], base),
            "gold labels, no mitigation": ([gold], base),
            f"annotator labels, KL penalty beta={args.beta:g}": (
                [noisy],
                replace(base, beta=args.beta),
            ),
            f"gold labels, KL penalty beta={args.beta:g}": ([gold], replace(base, beta=args.beta)),
            "annotator labels, ensemble min of 3": (
                members,
                replace(base, aggregate="min"),
            ),
        }
        for name, (paths, settings) in plans.items():
            if args.runs and not any(name.startswith(r) for r in args.runs):
                continue
            where = out / f"seed{seed}" / re.sub(r"[^a-z0-9.=]+", "-", name.lower())
            done = where / "rows.json"  # a finished run is read back, not run again
            if done.exists():
                rows = json.loads(done.read_text())
            else:
                rows = run_rl(
                    replace(settings, seed=seed),
                    policy,
                    [RewardModel.load(p, precision="fp32") for p in paths],
                    where,
                    ood=load_ood(paths[0]),
                ).rows
                done.write_text(json.dumps(rows))
            runs.setdefault(name, []).append(rows)
            if name.startswith("annotator labels, no mitigation"):
                # a stop changes nothing before it fires: read it off the unmitigated run
                stopped = until_stop(rows, StopRule("ood", args.stop_ratio))
                runs.setdefault(
                    f"annotator labels, stop when OOD > {args.stop_ratio:g}x start", []
                ).append(stopped)
            s = summarize(rows)
            print(f"seed {seed} | {name}: gold {s.start_gold:.2f} -> peak {s.peak_gold:.2f} "
                  f"(step {s.peak_step}, KL {s.peak_kl:.1f}) -> end {s.end_gold:.2f}; proxy end "
                  f"{s.end_proxy:.2f}; {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    report = write_report(out, runs, "RL against proxy reward models: the synthetic world")
    summaries = {n: [asdict(summarize(r)) for r in seeds] for n, seeds in runs.items()}
    (out / "results.json").write_text(json.dumps({"args": vars(args), "runs": summaries}, indent=2))
    print(report.read_text())


if __name__ == "__main__":
    main()
