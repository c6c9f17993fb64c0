"""`rewardkit train`: train, then say how the model did and show a few of its scores.

The config is ``rewardkit.training.config.TrainConfig``; the loop (torch) is imported only when
the command runs, so ``rewardkit train --help`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rewardkit.training.config import KIND_NAMES, TrainConfig

if TYPE_CHECKING:
    from rewardkit.training.evaluate import HeldOut
    from rewardkit.training.loop import TrainResult


def run(cfg: TrainConfig) -> int:
    from rewardkit.commands.push import check_repo
    from rewardkit.training.loop import train

    if cfg.push_to_hub:  # a wrong repo id or no network fails now, not after the training
        check_repo(cfg.push_to_hub)
    result = train(cfg)
    _report(result)
    print(f"model: {result.model_dir}  (rewardkit score --model {result.model_dir} --data FILE)")
    _show_samples(result)
    if cfg.push_to_hub:
        _push(cfg, result)
    return 0


def _push(cfg: TrainConfig, result: TrainResult) -> None:
    from accelerate import PartialState

    from rewardkit.commands.push import PushConfig, push_model

    if not PartialState().is_main_process:  # the model directory is the main process's
        return
    repo = cfg.push_to_hub or ""
    url = push_model(PushConfig(str(result.model_dir), repo, private=cfg.hub_private))
    print(f"pushed to {url}  (rewardkit score --model {repo} --data FILE)")


def _summary(metrics: HeldOut) -> str:
    line = f"{metrics.examples}  accuracy: {metrics.accuracy:.3f}  loss: {metrics.loss:.3f}"
    if metrics.margin is not None:
        line += f"  mean margin: {metrics.margin:.3f}"
    if metrics.rmse is not None:
        line += f"  rmse: {metrics.rmse:.3f}"
    return line


def _report(result: TrainResult) -> None:
    metrics = result.eval
    print(f"\nheld-out {KIND_NAMES[result.kind]}: {_summary(metrics)}")
    for name, part in metrics.parts.items():
        print(f"  {name}: {_summary(part)}")
    # On the synthetic world the labels themselves disagree with gold on some pairs: that
    # agreement is the ceiling a model trained on those labels can reach, so show the share of it.
    ceiling = result.provenance.get("eval", {}).get("label_accuracy_vs_gold")
    if metrics.gold_accuracy is not None:
        line = f"accuracy against the gold reward: {metrics.gold_accuracy:.3f}"
        if ceiling:
            line += (
                f"  (annotator labels agree with gold on {ceiling:.3f}: "
                f"{metrics.gold_accuracy / ceiling:.2f} of that ceiling)"
            )
        print(line)


def _show_samples(result: TrainResult, n: int = 3) -> None:
    """A few held-out pairs' scores, chosen against rejected, to eyeball (pairs only)."""
    from rewardkit.models.reward_model import RewardModel
    from rewardkit.records import Pair

    pairs = [r for r in result.eval_records if isinstance(r, Pair)][:n]
    if not pairs:
        return
    model = RewardModel.load(result.model_dir)
    n = len(pairs)
    scores = model.score(
        [p.prompt for p in pairs] * 2, [p.chosen for p in pairs] + [p.rejected for p in pairs]
    ).normalized
    print("\nsample scores (normalised):")
    for i, pair in enumerate(pairs):
        for side, text, score in (
            ("chosen", pair.chosen, scores[i]),
            ("rejected", pair.rejected, scores[i + n]),
        ):
            shown = str(text).replace("\n", " ")[:70]
            value = "too long" if score is None else f"{score:+.2f}"
            print(f"  {value:>8}  {side:<8} {str(pair.prompt)[:40]!r} -> {shown!r}")
