"""`rewardkit train`: train, then say how the model did and show a few of its scores."""

from __future__ import annotations

from rewardkit.models.reward_model import RewardModel
from rewardkit.training.config import TrainConfig
from rewardkit.training.loop import TrainResult, train


def run_train(cfg: TrainConfig) -> TrainResult:
    result = train(cfg)
    metrics = result.eval
    print(
        f"\nheld-out pairs: {metrics.pairs}  accuracy: {metrics.accuracy:.3f}  "
        f"loss: {metrics.loss:.3f}  mean margin: {metrics.margin:.3f}"
    )
    ceiling = result.provenance.get("eval", {}).get("label_accuracy_vs_gold")
    if metrics.gold_accuracy is not None:
        line = f"accuracy against the gold reward: {metrics.gold_accuracy:.3f}"
        if ceiling:
            line += (
                f"  (annotator labels agree with gold on {ceiling:.3f}: "
                f"{metrics.gold_accuracy / ceiling:.2f} of that ceiling)"
            )
        print(line)
    print(f"model: {result.model_dir}  (rewardkit score --model {result.model_dir} --data FILE)")
    _show_samples(result)
    return result


def _show_samples(result: TrainResult, n: int = 3) -> None:
    model = RewardModel.load(result.model_dir)
    pairs = result.eval_pairs[:n]
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
