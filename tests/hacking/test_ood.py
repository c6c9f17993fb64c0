"""The OOD detector: Mahalanobis by hand, calibration, the safetensors file, the pooled features of
a real tiny model (the head applied to them gives its scores), and AUROC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tiny
import torch

from rewardkit.hacking.ood import auroc, fit_ood, separation
from rewardkit.models.ood import (
    OOD_FILE,
    MahalanobisOod,
    fit_mahalanobis,
    load_ood,
    pooled_features,
)


def test_distance_by_hand_and_save_load(tmp_path: Path) -> None:
    detector = MahalanobisOod(
        torch.tensor([1.0, 0.0], dtype=torch.float64),
        torch.diag(torch.tensor([1.0, 0.25], dtype=torch.float64)),  # variances 1 and 4
        threshold=2.0,
        quantile=0.9,
    )
    features = torch.tensor([[1.0, 0.0], [4.0, 0.0], [1.0, 4.0]])
    assert detector.distance(features).tolist() == pytest.approx([0.0, 3.0, 2.0])
    assert detector.score(features).tolist() == pytest.approx([0.0, 1.5, 1.0])
    assert load_ood(tmp_path) is None
    assert detector.save(tmp_path) == tmp_path / OOD_FILE
    loaded = load_ood(tmp_path)
    assert loaded is not None and (loaded.threshold, loaded.quantile) == (2.0, 0.9)
    assert torch.equal(loaded.precision, detector.precision)
    with pytest.raises(ValueError, match=r"this detector reads \(N, 2\)"):
        detector.distance(torch.zeros(3, 5))


def test_calibration_sets_the_false_alarm_rate() -> None:
    rng = torch.Generator().manual_seed(0)
    scale = torch.tensor([1.0, 3.0, 0.5, 2.0])

    def draw(n: int, shift: float = 0.0) -> torch.Tensor:
        return torch.randn(n, 4, generator=rng) * scale + shift

    detector = fit_mahalanobis(draw(4000), draw(2000), quantile=0.9, shrinkage=0.01)
    fresh = detector.score(draw(4000))
    assert float((fresh > 1).double().mean()) == pytest.approx(0.1, abs=0.02)
    far = detector.score(draw(500, shift=3.0)).numpy()
    assert auroc(fresh.numpy(), far) > 0.95
    with pytest.raises(ValueError, match="quantile must be in"):
        fit_mahalanobis(draw(10), draw(10), quantile=1.0)
    with pytest.raises(ValueError, match="train features have no finite rows"):
        fit_mahalanobis(torch.full((3, 4), float("nan")), draw(10))


def test_auroc_by_hand() -> None:
    assert auroc([1.0, 2.0], [3.0, 4.0]) == 1.0
    assert auroc([3.0, 4.0], [1.0, 2.0]) == 0.0
    assert auroc([1.0, 2.0], [2.0, 0.0]) == pytest.approx(0.375)  # (1/2 + 0 + 1 + 0) / 4
    with pytest.raises(ValueError, match="needs both groups"):
        auroc([], [1.0])


@pytest.mark.parametrize("arch", ["bert", "llama"])
def test_pooled_features_are_what_the_head_reads(arch: str) -> None:
    model = tiny.reward_model(arch, max_length=24).eval()
    prompts = ["What is 2 plus 2?", "Hi", "What is the capital of France?"]
    responses = ["It is 4.", "word " * 40, "Paris."]  # the second is over the length limit
    features = pooled_features(model, prompts, responses)
    assert features.shape == (3, tiny.WIDTH)
    assert torch.isnan(features[1]).all()
    raw = model.score(prompts, responses, precision="fp32").raw
    with torch.no_grad():
        from_features = model.head()(features[[0, 2]]).squeeze(1).tolist()
    assert from_features == pytest.approx([raw[0], raw[2]], abs=1e-5)
    with model.head_inputs() as seen:  # collecting leaves the outputs alone
        again = model.score(prompts[:1], responses[:1], precision="fp32").raw
    assert again == pytest.approx(raw[:1], abs=1e-6) and len(seen) == 1


def test_fit_and_separation_on_a_real_model() -> None:
    model = tiny.reward_model("bert").eval()
    inside = [("What is 2 plus 3?", f"{a} plus 3 is {a + 3}.") for a in range(40)]
    outside = [("Hello", "Human: hi there\n\nAssistant: hello, how can I help?" * 2)] * 10
    detector = fit_ood(model, inside[:30], inside[30:], quantile=0.9)
    check = separation(detector, model, inside[30:], outside)
    assert check.inside.size == 10 and check.outside.size == 10
    assert check.auroc == pytest.approx(float(np.mean(check.outside[:, None] > check.inside)))
    assert check.auroc > 0.9
