"""Out-of-distribution scores: how far a response's representation lies from the training data.

    features = pooled_features(model, prompts, responses)          # (N, H): what the head reads
    detector = fit_mahalanobis(train_features, heldout_features)   # fitted, then calibrated
    detector.save(model_dir)                                       # ood.safetensors beside weights
    detector = load_ood(model_dir)                                 # None where a model has none
    detector.score(features)                                       # > 1: farther than usual

The distance is Mahalanobis (Lee et al. 2018) on the pooled vectors the reward head reads, with
the covariance shrunk toward a scaled identity: a reward model's training set often has fewer
responses than its hidden size has dimensions, and the raw covariance is then singular. The score
is calibrated on held-out in-distribution responses: it is the distance divided by their
``quantile``-th distance, so about ``1 - quantile`` of in-distribution responses score above 1
(the false-alarm rate), whatever the backbone's scale. The server (``serving``) loads the file
with the model and returns the score per item.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from rewardkit.models.reward_model import RewardModel
from rewardkit.records import Text
from rewardkit.scoring import BATCH_TOKENS

OOD_FILE = "ood.safetensors"


@dataclass(frozen=True)
class MahalanobisOod:
    mean: torch.Tensor
    """(H,) the training features' mean."""
    precision: torch.Tensor
    """(H, H) the inverse of the shrunk covariance."""
    threshold: float
    """The held-out in-distribution distance at ``quantile``: the score's unit."""
    quantile: float

    def distance(self, features: torch.Tensor) -> torch.Tensor:
        """(N,) Mahalanobis distance of each row of (N, H) features, in float64."""
        if features.dim() != 2 or features.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"features of shape {tuple(features.shape)}; this detector reads "
                f"(N, {self.mean.shape[0]})"
            )
        centred = features.double() - self.mean
        squared = ((centred @ self.precision) * centred).sum(dim=1)
        return squared.clamp(min=0.0).sqrt()

    def score(self, features: torch.Tensor) -> torch.Tensor:
        """(N,) distance / threshold: above 1 on about ``1 - quantile`` of in-distribution data."""
        return self.distance(features) / self.threshold

    def save(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        path = Path(directory) / OOD_FILE
        tensors = {"mean": self.mean, "precision": self.precision}
        meta = {"threshold": repr(self.threshold), "quantile": repr(self.quantile)}
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=meta)
        return path


def load_ood(directory: str | Path) -> MahalanobisOod | None:
    """The detector saved beside a model, or None when it has none."""
    from safetensors import safe_open

    path = Path(directory) / OOD_FILE
    if not path.exists():
        return None
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if "threshold" not in meta or "quantile" not in meta:
            raise ValueError(f"{path}: no threshold/quantile metadata; refit the detector")
        return MahalanobisOod(
            f.get_tensor("mean"),
            f.get_tensor("precision"),
            float(meta["threshold"]),
            float(meta["quantile"]),
        )


def fit_mahalanobis(
    train: torch.Tensor, heldout: torch.Tensor, quantile: float = 0.95, shrinkage: float = 0.1
) -> MahalanobisOod:
    """Mean and shrunk covariance ``(1 - s) S + s tr(S)/H I`` of ``train`` (N, H) rows, the
    threshold from ``heldout`` rows (responses the model did not fit, from the same source)."""
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if not 0.0 < shrinkage <= 1.0:
        raise ValueError(f"shrinkage must be in (0, 1], got {shrinkage}")
    train = _finite_rows(train, "train")
    heldout = _finite_rows(heldout, "heldout")
    if train.shape[0] < 2:
        raise ValueError(f"at least 2 training rows are needed, got {train.shape[0]}")
    mean = train.mean(dim=0)
    covariance = torch.cov(train.T).reshape(train.shape[1], train.shape[1])
    dims = covariance.shape[0]
    scale = float(torch.trace(covariance)) / dims or 1.0
    shrunk = (1 - shrinkage) * covariance + shrinkage * scale * torch.eye(dims, dtype=torch.float64)
    unit = MahalanobisOod(mean, torch.linalg.inv(shrunk), 1.0, quantile)
    threshold = float(torch.quantile(unit.distance(heldout), quantile))
    if not math.isfinite(threshold) or threshold <= 0:
        raise ValueError(f"held-out distances give a threshold of {threshold}: no spread to scale")
    return MahalanobisOod(mean, unit.precision, threshold, quantile)


def _finite_rows(features: torch.Tensor, name: str) -> torch.Tensor:
    """Rows with a value everywhere (``pooled_features`` leaves NaN rows for unread items)."""
    if features.dim() != 2:
        raise ValueError(f"{name} features must be (N, H), got shape {tuple(features.shape)}")
    rows = features.double()[torch.isfinite(features).all(dim=1)]
    if rows.shape[0] == 0:
        raise ValueError(f"{name} features have no finite rows")
    return rows


def pooled_features(
    model: RewardModel,
    prompts: Sequence[Text],
    responses: Sequence[Text],
    batch_tokens: int = BATCH_TOKENS,
    progress: bool = False,
) -> torch.Tensor:
    """(N, H) the vectors the head reads, in input order; a row of NaN for an item over the
    length limit or one the head cannot read (per-step heads: the last step's vector)."""
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    encoded = model.encode_many(prompts, responses)
    kept = [
        i
        for i, item in enumerate(encoded)
        if not isinstance(item, Exception) and len(item.ids) <= model.info.max_length
    ]
    units = [model.unit(encoded[i]) for i in kept]  # type: ignore[arg-type]
    with model.head_inputs(instead=True):
        outputs = model.unit_outputs(units, batch_tokens, progress)
    width = outputs[0].shape[1] if outputs else 1
    features = torch.full((len(encoded), width), math.nan)
    for i, out in zip(kept, outputs, strict=True):
        features[i] = out[-1]
    return features
