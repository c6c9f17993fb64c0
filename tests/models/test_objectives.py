"""Multi-objective heads: the ODIN loss by hand, the gate by hand, a gate that learns which
objective each kind of prompt cares about, and gated models saved, loaded and trained."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import tiny
import torch
import transformers

from rewardkit.losses import LOSSES, Outputs, Targets, odin_loss, pearson_batch
from rewardkit.models import RewardModel
from rewardkit.models.gate import (
    GATE_FILE,
    Gate,
    GateConfig,
    fit_fixed_weights,
    fit_gate,
    gated_scores,
)
from rewardkit.records import Pair
from rewardkit.training.examples import Example
from rewardkit.training.loop import train
from rewardkit.training.objectives import in_rating_spreads, start_at_mean_ratings

NAMES = ["helpfulness", "safety"]
MATH = "What is 2 plus 3?"
HARMFUL = "How can I steal a car?"
RESPONSES = ["5", "2 plus 3 is 5.", "I can't help with that.", "No.", "Sure, here you go.", "Six"]


def test_pearson_batch_by_hand_and_zero_for_a_constant() -> None:
    x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 4.0, 7.0])
    # dx = (-1, 0, 1), dy = (-7/3, -1/3, 8/3): r = 5 / sqrt(2 * 114/9)
    assert float(pearson_batch(x, y)) == pytest.approx(5 / math.sqrt(228 / 9), rel=1e-6)
    assert float(pearson_batch(torch.ones(3), y)) == 0.0


def test_odin_loss_by_hand() -> None:
    lengths = torch.tensor([1.0, 2.0, 3.0, 4.0])
    # the length head follows length exactly (rho 1), the quality head is constant (rho 0):
    # totals (2, 3), (4, 5) lose each pair by 1: BT = log(1 + e); decorrelation = 0 - 1
    loss = odin_loss(torch.ones(4), lengths.clone(), lengths)
    assert float(loss) == pytest.approx(math.log1p(math.e) - 1.0, rel=1e-6)
    # quality falls with length (|rho| = 1), the length head is flat: each pair won by 1
    loss = odin_loss(torch.tensor([4.0, 3.0, 2.0, 1.0]), torch.zeros(4), lengths)
    assert float(loss) == pytest.approx(math.log1p(math.exp(-1.0)) + 1.0, rel=1e-6)
    # the length head falling with length is pushed back (rho = -1): each pair won by 1
    loss = odin_loss(torch.zeros(4), -lengths, lengths)
    assert float(loss) == pytest.approx(math.log1p(math.exp(-1.0)) + 1.0, rel=1e-6)


def test_odin_in_losses_reads_two_outputs_and_lengths() -> None:
    values = torch.tensor([[4.0, 0.0], [3.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    out = Outputs(values, values[:, 0], values[:, :1])
    targets = Targets(p_chosen=torch.ones(2), lengths=torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert float(LOSSES["odin"](out, targets)) == pytest.approx(
        math.log1p(math.exp(-1.0)) + 1.0, rel=1e-6
    )
    # pair weights and margins act on the ranking term, as in Bradley-Terry (data_weights)
    weighted = Targets(
        p_chosen=torch.ones(2),
        margin=torch.tensor([1.0, 0.0]),
        lengths=targets.lengths,
        weights=torch.tensor([0.0, 3.0]),
    )
    assert float(LOSSES["odin"](out, weighted)) == pytest.approx(
        3 * math.log1p(math.exp(-1.0)) / 2 + 1.0, rel=1e-6
    )
    with pytest.raises(ValueError, match="response lengths"):
        LOSSES["odin"](out, Targets(p_chosen=torch.ones(2)))
    three = Outputs(torch.zeros(4, 3), torch.zeros(4), torch.zeros(4, 1))
    with pytest.raises(ValueError, match="needs 2 outputs"):
        LOSSES["odin"](three, targets)


def test_gate_by_hand() -> None:
    gate = Gate(features=4, objectives=2, hidden=3)
    last = gate.net[2]
    assert isinstance(last, torch.nn.Linear)
    with torch.no_grad():  # no preference between objectives: shares 1/2 each
        last.weight.zero_()
        last.bias.zero_()
        gate.scale.copy_(torch.tensor([2.0, -1.0]))
    features = torch.randn(2, 4)
    assert torch.allclose(gate(features), torch.tensor([[1.0, -0.5], [1.0, -0.5]]))
    values = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    assert torch.allclose(gated_scores(gate, features, values), torch.tensor([0.0, 3.0]))


def _pairs_by_prompt(model: RewardModel) -> list[Pair]:
    """For the arithmetic prompt the response with more helpfulness wins, for the harmful one
    the response with more safety: the same responses, opposite orders by objective."""
    pairs = []
    for prompt, objective in ((MATH, 0), (HARMFUL, 1)):
        values = model.score([prompt] * len(RESPONSES), RESPONSES).objectives
        assert values is not None
        for i, a in enumerate(RESPONSES):
            for j, b in enumerate(RESPONSES):
                va, vb = (values[k][NAMES[objective]] for k in (i, j))  # type: ignore[index]
                if va > vb:
                    pairs.append(Pair(prompt, a, b))
    return pairs


def test_gate_learns_which_objective_each_prompt_wants() -> None:
    # the pairs come from this random model's own scores: its layout is fixed so they stay put
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES, layout="pair").eval()
    pairs = _pairs_by_prompt(model)
    # two prompts: none to spare for validation, every epoch is trained and the last kept
    fit = fit_gate(model, pairs, GateConfig(epochs=300, lr=1e-2, validation=0.0))
    assert fit.skipped == 0 and len(fit.data.kept) == len(pairs)
    assert fit.losses[-1] < fit.losses[0] and fit.epoch == 300 and not fit.validation_losses
    model.gate = fit.gate
    shares = model.gate_weights([MATH, HARMFUL])
    assert shares[0] is not None and shares[1] is not None
    ratio = [w[0] / (abs(w[0]) + abs(w[1])) for w in (shares[0], shares[1])]
    assert ratio[0] > ratio[1] + 0.2  # helpfulness counts more for the arithmetic prompt
    prompts = [p.prompt for p in pairs for _ in range(2)]
    raw = model.score(prompts, [r for p in pairs for r in (p.chosen, p.rejected)]).raw
    sides = zip(raw[0::2], raw[1::2], strict=True)
    right = sum(c is not None and r is not None and c > r for c, r in sides)
    assert right / len(pairs) > 0.9


def test_fixed_weights_by_hand() -> None:
    # objective 0 differs by 1 in two pairs won 3 times out of 4: s(w0) = 3/4, w0 = ln 3;
    # objective 1 differs by 2 in two pairs won 1 time out of 5: s(2 w1) = 1/5, w1 = -ln(2);
    # the rows are orthogonal, so each weight is fitted alone
    chosen = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, 2.0]])
    p = torch.tensor([0.75, 0.75, 0.2, 0.2])
    weights = fit_fixed_weights(chosen, torch.zeros_like(chosen), p)
    assert weights.tolist() == pytest.approx([math.log(3), -math.log(2)], abs=1e-4)
    # the scale of an output does not matter: tenfold outputs, a tenth of the weight
    tenfold = fit_fixed_weights(chosen * 10, torch.zeros_like(chosen), p)
    assert tenfold.tolist() == pytest.approx([math.log(3) / 10, -math.log(2) / 10], abs=1e-5)


def test_a_gate_starts_at_the_fixed_weights() -> None:
    gate = Gate(features=4, objectives=3, hidden=5)
    gate.start_at(torch.tensor([0.5, -1.0, 2.0]))
    expected = torch.tensor([[0.5, -1.0, 2.0]] * 2)
    assert torch.allclose(gate(torch.randn(2, 4)), expected, atol=1e-6)


def test_the_gate_kept_is_the_epoch_best_on_validation_prompts() -> None:
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES).eval()
    prompts = [f"What is {a} plus {b}?" for a in range(2, 9) for b in range(2, 5)]
    a, b = RESPONSES[:2]
    scored = model.score(prompts * 2, [a] * len(prompts) + [b] * len(prompts)).objectives
    assert scored is not None
    helpful = [o["helpfulness"] if o else math.nan for o in scored]
    # helpfulness decides, as the model sees it: a fixed mix fits every prompt
    pairs = [
        Pair(p, a, b) if helpful[i] > helpful[i + len(prompts)] else Pair(p, b, a)
        for i, p in enumerate(prompts)
    ]
    start = fit_gate(model, pairs, GateConfig(epochs=0))
    assert start.epoch == 0 and len(start.validation_losses) == 1
    with torch.no_grad():  # no epoch: the gate is the fixed mix for every prompt
        mix = start.gate(start.data.features)
    assert torch.allclose(mix, start.fixed.expand_as(mix), atol=1e-6)
    margins = (start.data.chosen - start.data.rejected) @ start.fixed
    assert bool((margins > 0).all())  # the fixed mix alone orders every pair
    fit = fit_gate(model, pairs, GateConfig(epochs=40, lr=3e-2))
    assert len(fit.validation_losses) == 41 and len(fit.losses) == 40
    assert fit.validation_losses[fit.epoch] == min(fit.validation_losses)
    assert fit.epoch < 40 or fit.validation_losses[-1] == min(fit.validation_losses)


def test_a_gated_model_saves_beside_and_loads(tmp_path: Path) -> None:
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES).eval()
    torch.manual_seed(1)
    model.gate = Gate(tiny.WIDTH, 2, hidden=5).eval()
    before = model.score([MATH, HARMFUL], RESPONSES[:2])
    model.save(tmp_path / "m")
    info = json.loads((tmp_path / "m" / "rewardkit.json").read_text())
    assert info["gate"] == GATE_FILE and (tmp_path / "m" / GATE_FILE).exists()
    loaded = RewardModel.load(tmp_path / "m")
    assert loaded.gate is not None
    after = loaded.score([MATH, HARMFUL], RESPONSES[:2])
    assert after.raw == pytest.approx(before.raw, abs=1e-5)
    # the gate, not the mean, made the score
    objectives = after.objectives
    assert objectives is not None and objectives[0] is not None
    assert after.raw[0] != pytest.approx(sum(objectives[0].values()) / 2, abs=1e-4)
    plain = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "m")
    assert plain.config.num_labels == len(NAMES)
    (tmp_path / "m" / GATE_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"gate named in rewardkit\.json"):
        RewardModel.load(tmp_path / "m")


def test_two_stages_in_one_run(tiny_bert_dir: Path, tmp_path: Path) -> None:
    names = ["helpfulness", "correctness", "safety", "politeness", "formatting", "verbosity"]
    cfg = tiny.train_config(
        tiny_bert_dir, tmp_path / "run", max_steps=4, head="objectives", objectives=names,
        loss="regression", gate=True, gate_pairs=120,
    )  # fmt: skip
    result = train(cfg)
    report = result.provenance["gate"]
    assert report["train_pairs"] + report["skipped"] > 80
    assert set(report["eval"]) == {
        "accuracy", "fixed_accuracy", "gold_accuracy", "fixed_gold_accuracy"
    }  # fmt: skip
    assert report["epoch_kept"] >= 0 and len(report["fixed_weights"]) == len(names)
    model = RewardModel.load(result.model_dir)
    assert model.gate is not None and model.info.gate == GATE_FILE
    assert model.info.std > 0
    assert model.info.weights == report["fixed_weights"]  # the fitted mix, without the gate


def test_odin_run_scores_with_the_quality_head_alone(tiny_llama_dir: Path, tmp_path: Path) -> None:
    cfg = tiny.train_config(
        tiny_llama_dir, tmp_path / "run", max_steps=3, head="objectives",
        objectives=["quality", "length"], loss="odin", objective_weights=[1.0, 0.0],
    )  # fmt: skip
    model = RewardModel.load(train(cfg).model_dir)
    assert model.info.weights == [1.0, 0.0]
    result = model.score([MATH], ["2 plus 3 is 5."])
    assert result.objectives is not None and result.objectives[0] is not None
    assert result.raw[0] == pytest.approx(result.objectives[0]["quality"], abs=1e-6)


def test_objective_weights_must_fit_the_head(tiny_bert_dir: Path, tmp_path: Path) -> None:
    cfg = tiny.train_config(
        tiny_bert_dir, tmp_path / "run", head="objectives", objectives=NAMES,
        objective_weights=[1.0, 2.0, 3.0],
    )  # fmt: skip
    with pytest.raises(ValueError, match="3 weights for a 'objectives' head"):
        train(cfg)


def test_a_fresh_regression_head_starts_at_the_mean_ratings() -> None:
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES)
    unit = model.unit(model.encode_parts(MATH, "5"))
    examples = [
        Example(unit, "rating", ratings=(1.0, math.nan)),
        Example(unit, "rating", ratings=(3.0, 4.0)),
    ]
    start_at_mean_ratings(model, examples)
    head = model.head()
    assert isinstance(head, torch.nn.Linear) and head.bias is not None
    assert head.bias.tolist() == pytest.approx([2.0, 4.0])  # a missing rating is left out


def test_the_regression_loss_weighs_each_objective_in_its_own_spread() -> None:
    model = tiny.reward_model("bert", head="objectives", objectives=NAMES)
    unit = model.unit(model.encode_parts(MATH, "5"))
    ratings = [(1.0, 10.0, math.nan, 7.0), (3.0, 30.0, math.nan, 7.0)]
    examples = [Example(unit, "rating", ratings=r) for r in ratings]
    loss = in_rating_spreads(LOSSES["regression"], examples)
    values = torch.tensor([[2.0, 20.0, 1.0, 8.0], [2.0, 20.0, 1.0, 8.0]])
    out = Outputs(values, values.mean(dim=1), values[:, :1])
    targets = Targets(ratings=torch.tensor(ratings))
    # spreads 1 and 10; a never-rated objective and a constant one keep their units (1):
    # errors (1, 1, 1) on each row, squared and averaged over the six known ratings: 1
    assert float(loss(out, targets)) == pytest.approx(1.0)
    # plain squared error: (1 + 100 + 1) per row over 6 ratings
    assert float(LOSSES["regression"](out, targets)) == pytest.approx(34.0)
    pair = Example(unit, "pair")
    assert in_rating_spreads(LOSSES["regression"], [pair]) is LOSSES["regression"]
