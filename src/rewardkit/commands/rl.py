"""`rewardkit rl`: optimise a small policy against a reward model with TRL's GRPO and watch the
synthetic world's gold reward while the proxy reward climbs (docs/rl.md).

With no --reward_model, proxies are trained first on world pairs labelled by the simulated
annotators (--labels annotators, noisy and biased) or by the gold reward (--labels gold); with
--members > 1 they form an ensemble (same data, other seeds) whose spread is logged and can be
aggregated conservatively (--aggregate min|uncertainty). The policy is a tiny causal LM fitted
on the world's responses (cached in --output_dir/policy). Writes log.jsonl, samples.jsonl,
summary.json, report.md and rl.png to --output_dir.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rewardkit.rl.settings import Labels, RLSettings


@dataclass
class RLConfig(RLSettings):
    reward_model: list[str] = field(default_factory=list)
    """Reward model directories to optimise against (several: an ensemble); none: train proxies
    on the synthetic world."""
    reward_url: str = ""
    """A running `rewardkit serve` to optimise against instead (its normalised scores, over
    HTTP, as an RL loop calls it); the OOD score is then not logged."""
    labels: Labels = "annotators"
    """Labels of the proxies trained when no --reward_model is given."""
    members: int = 1
    """Proxies trained when no --reward_model is given (an ensemble when > 1)."""
    proxy_pairs: int = 3000
    proxy_epochs: int = 2
    policy: str = ""
    """A policy directory to start from; empty: fit the world policy (cached in output_dir)."""
    policy_steps: int = 300
    """Steps fitting the world policy."""
    threads: int = 0
    """CPU threads (0: torch's default)."""
    output_dir: str = "runs/rl"


def run(cfg: RLConfig) -> int:
    import torch

    from rewardkit.models.ood import load_ood
    from rewardkit.models.remote import RemoteScorer
    from rewardkit.models.reward_model import RewardModel
    from rewardkit.rl.loop import run_rl
    from rewardkit.rl.policy import PolicyConfig, fit_world_policy
    from rewardkit.rl.proxy import ProxyConfig, train_world_proxy
    from rewardkit.rl.report import summarize, write_report

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.reward_url and cfg.reward_model:
        raise ValueError("give --reward_model or --reward_url, not both")
    out = Path(cfg.output_dir)
    policy = (
        Path(cfg.policy)
        if cfg.policy
        else fit_world_policy(out / "policy", PolicyConfig(steps=cfg.policy_steps))
    )
    if cfg.reward_url:
        served = RemoteScorer(cfg.reward_url, normalized=True)
        result = run_rl(cfg, policy, [served], out)
    else:
        paths = [Path(p) for p in cfg.reward_model] or [
            train_world_proxy(
                out / f"proxy-{cfg.labels}-{k}",
                ProxyConfig(
                    cfg.labels, cfg.proxy_pairs, cfg.proxy_epochs, seed=k, threads=cfg.threads or 1
                ),
            )
            for k in range(max(1, cfg.members))
        ]
        # fp32, as the proxies trained and as their OOD detector was fitted
        members = [RewardModel.load(p, precision="fp32") for p in paths]
        result = run_rl(cfg, policy, members, out, ood=load_ood(paths[0]))
    summary = summarize(result.rows)
    (out / "summary.json").write_text(
        json.dumps({**asdict(summary), "stopped_at": result.stopped_at}, indent=2)
    )
    report = write_report(out, {"this run": [result.rows]}, "rewardkit rl")
    stopped = f", stopped at step {result.stopped_at}" if result.stopped_at is not None else ""
    print(
        f"gold {summary.start_gold:.2f} at the start, {summary.peak_gold:.2f} at its peak "
        f"(step {summary.peak_step}, KL {summary.peak_kl:.2f}), {summary.end_gold:.2f} at the "
        f"end; proxy {summary.end_proxy:.2f} at the end{stopped}; report: {report}"
    )
    return 0
