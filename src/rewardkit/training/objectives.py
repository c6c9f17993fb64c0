"""Multi-objective runs: a fresh head started at the mean ratings, and how the outputs are
mixed: fixed weights, or a gate fitted after training.

ArmoRM's two stages in one run: stage 1 is the loop (an ``objectives`` head regressed on
ratings); ``fit_run_gate`` is stage 2, a prompt-conditioned gate (``models.gate``) fitted on
preference pairs with the trained model frozen, held-out pairs (prompt-disjoint) reported with
and without it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from rewardkit.data import is_eval, read_records
from rewardkit.losses import Loss, Outputs, Targets
from rewardkit.models.gate import GateConfig, fit_gate, gated_scores, pair_tensors
from rewardkit.models.reward_model import ModelInfo, RewardModel
from rewardkit.records import Pair
from rewardkit.synthetic import generate_pairs
from rewardkit.training.config import TrainConfig
from rewardkit.training.examples import Example


def fixed_weights(weights: Sequence[float], info: ModelInfo) -> list[float] | None:
    """``objective_weights`` checked against the head: one finite weight per objective."""
    if not weights:
        return None
    if info.head != "objectives" or len(weights) != len(info.objectives):
        raise ValueError(
            f"objective_weights: {len(weights)} weights for a {info.head!r} head with outputs "
            f"{info.objectives}; give one per objective of an 'objectives' head"
        )
    if not all(math.isfinite(w) for w in weights):
        raise ValueError(f"objective_weights: must be finite numbers, got {list(weights)}")
    return [float(w) for w in weights]


def start_at_mean_ratings(model: RewardModel, examples: Sequence[Example]) -> None:
    """A fresh regression head's bias set to each objective's mean rating, so training learns
    the differences between responses from the first step: AdamW moves a bias by about lr per
    step, so at 1e-4 a head starting at 0 needs thousands of steps to reach ratings around 2.
    Heads without a bias (decoders' ``score``) are left as they are."""
    head = model.head()
    if not isinstance(head, torch.nn.Linear) or head.bias is None:
        return
    ratings = torch.tensor([e.ratings for e in examples], dtype=torch.float32)
    means = torch.nanmean(ratings, dim=0).nan_to_num(0.0)
    with torch.no_grad():
        head.bias.copy_(means.to(head.bias))


def in_rating_spreads(loss: Loss, examples: Sequence[Example]) -> Loss:
    """``loss`` on ratings with each objective's outputs and ratings divided by the spread
    (standard deviation) of its ratings over ``examples``, so that every objective weighs the
    same in the loss, as with standardised targets (the head's parameters and outputs stay in
    rating units). Plain squared error lets the widest-spread objectives drive the shared
    backbone: measured on the synthetic world (MiniLM, 800 ratings, 2 epochs, seed 0),
    verbosity (spread 1.05 against 1.8 for politeness) correlated 0.12 with its gold dimension
    (filler sentences), 0.95 with the spreads divided out. Other records keep ``loss``."""
    rated = [e.ratings for e in examples if e.kind == "rating"]
    if not rated:
        return loss
    ratings = torch.tensor(rated, dtype=torch.float64)
    deviations = ratings - torch.nanmean(ratings, dim=0)
    spread = torch.nanmean(deviations.square(), dim=0).sqrt()
    # an objective never rated, or rated one value throughout, keeps its own units
    spread = torch.where(spread.isfinite() & (spread > 0), spread, torch.ones_like(spread))

    def per_spread(out: Outputs, targets: Targets) -> torch.Tensor:
        if targets.ratings is None:
            return loss(out, targets)
        units = spread.to(out.values)
        return loss(
            replace(out, values=out.values / units),
            replace(targets, ratings=targets.ratings / units),
        )

    return per_spread


def gate_pairs(cfg: TrainConfig) -> list[Pair]:
    """The gate's pairs: ``gate_data`` read as pairs, or fresh synthetic ones (another seed
    than the ratings, so stage 2 sees responses stage 1 did not)."""
    if not cfg.gate_data:
        return list(generate_pairs(cfg.gate_pairs, seed=cfg.seed + 1))
    stream = read_records(cfg.gate_data, to="pair", on_error=cfg.on_error)
    pairs = [r for r in stream if isinstance(r, Pair)]
    if not pairs:
        raise ValueError(f"gate_data: no preference pairs in {', '.join(cfg.gate_data)}")
    return pairs


def _accuracies(model: RewardModel, pairs: Sequence[Pair]) -> dict[str, float]:
    """Held-out pair accuracy with the gate and with the fixed weights (the ones fitted with
    it unless given; gold too, where the pairs record it)."""
    assert model.gate is not None
    data = pair_tensors(model, pairs)
    weights = model.info.weights or [1 / data.chosen.shape[1]] * data.chosen.shape[1]
    fixed = torch.tensor(weights)
    with torch.no_grad():
        gated = gated_scores(model.gate, data.features, data.chosen) > gated_scores(
            model.gate, data.features, data.rejected
        )
    plain = data.chosen @ fixed > data.rejected @ fixed
    out = {"accuracy": float(gated.float().mean()), "fixed_accuracy": float(plain.float().mean())}
    gold = [pairs[i].metadata.get("gold_prefers_chosen") for i in data.kept]
    if gold and all(isinstance(g, bool) for g in gold):
        truth = torch.tensor(gold)
        out["gold_accuracy"] = float((gated == truth).float().mean())
        out["fixed_gold_accuracy"] = float((plain == truth).float().mean())
    return out


def fit_run_gate(cfg: TrainConfig, model: RewardModel) -> dict[str, Any]:
    """Fits the gate on the run's gate pairs (a prompt-disjoint share held out), attaches it to
    the model, sets the normalisation to the gated scores', and returns what to record."""
    pairs = gate_pairs(cfg)
    held_out = [is_eval(p, cfg.eval_fraction, cfg.seed) for p in pairs]
    train = [p for p, out in zip(pairs, held_out, strict=True) if not out]
    held = [p for p, out in zip(pairs, held_out, strict=True) if out]
    fit = fit_gate(model, train, GateConfig(seed=cfg.seed))
    model.gate = fit.gate
    if not cfg.objective_weights:  # the best fixed mix replaces the mean where the gate is off
        model.info.weights = [round(w, 6) for w in fit.fixed.tolist()]
    scores = fit.scores()
    model.info.mean, model.info.std = float(scores.mean()), float(scores.std()) or 1.0
    report: dict[str, Any] = {"train_pairs": len(fit.data.kept), "skipped": fit.skipped}
    report["final_loss"] = round(fit.losses[-1], 4)
    report["fixed_weights"], report["epoch_kept"] = model.info.weights, fit.epoch
    if held:
        report["eval"] = {k: round(v, 4) for k, v in _accuracies(model, held).items()}
    return report
