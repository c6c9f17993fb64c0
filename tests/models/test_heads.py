"""Head kinds end to end on tiny models: K named outputs, one output per step, ensembles.

Each kind trains through the one loop, scores with the fields its kind has, gives the same
outputs from packed and padded batches, and saves a directory plain transformers loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tiny
import torch
import transformers

from rewardkit.cli import main
from rewardkit.data.writers import write_records
from rewardkit.models import RewardModel
from rewardkit.records import StepTrace
from rewardkit.synthetic import generate_ratings, generate_step_traces
from rewardkit.training.examples import encode_examples
from rewardkit.training.loop import train

OBJECTIVES = ["helpfulness", "correctness", "safety"]
BACKBONES = ["tiny_bert_dir", "tiny_llama_dir"]


def _trained(request: pytest.FixtureRequest, backbone: str, tmp_path: Path, **cfg: object) -> Path:
    directory = request.getfixturevalue(backbone)
    result = train(tiny.train_config(directory, tmp_path / "run", max_steps=12, **cfg))
    return result.model_dir


@pytest.mark.parametrize("backbone", BACKBONES)
def test_objectives_head_trains_scores_and_loads_in_plain_transformers(
    request: pytest.FixtureRequest, backbone: str, tmp_path: Path
) -> None:
    model_dir = _trained(
        request,
        backbone,
        tmp_path,
        head="objectives",
        objectives=OBJECTIVES,
        loss="regression",
        pooling="cls" if "bert" in backbone else "auto",  # what plain transformers reads
    )
    model = RewardModel.load(model_dir)
    ratings = list(generate_ratings(6, seed=9))
    prompts, responses = [r.prompt for r in ratings], [r.response for r in ratings]
    result = model.score(prompts, responses)
    assert result.objectives is not None and result.steps is None and result.spread is None
    for item, raw in zip(result.objectives, result.raw, strict=True):
        assert item is not None and list(item) == OBJECTIVES
        assert raw == pytest.approx(sum(item.values()) / 3, abs=1e-5)  # mean: no weights set

    plain = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    assert plain.config.id2label == dict(enumerate(OBJECTIVES))
    inputs = model.collate([model.encode(prompts[0], responses[0])])
    with torch.no_grad():
        logits = plain(**inputs).logits[0]
    assert result.objectives[0] is not None
    assert torch.allclose(logits, torch.tensor(list(result.objectives[0].values())), atol=1e-4)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_steps_head_trains_scores_and_loads_as_token_classification(
    request: pytest.FixtureRequest, backbone: str, tmp_path: Path
) -> None:
    model_dir = _trained(request, backbone, tmp_path, head="steps", loss="step_bce", lr=1e-2)
    model = RewardModel.load(model_dir)
    traces = list(generate_step_traces(40, seed=3))
    metrics = (model_dir.parent / "metrics.json").read_text()
    assert '"accuracy"' in metrics
    responses = ["\n".join(t.steps) for t in traces[:4]]
    result = model.score([t.prompt for t in traces[:4]], responses)
    assert result.steps is not None
    for trace, steps, raw in zip(traces, result.steps, result.raw, strict=False):
        assert steps is not None and len(steps) == len(trace.steps)
        assert raw == pytest.approx(min(steps), abs=1e-6)  # the weakest step by default

    plain = transformers.AutoModelForTokenClassification.from_pretrained(model_dir).eval()
    encoded = model.encode_steps(traces[0].prompt, list(traces[0].steps))
    assert encoded.marks is not None
    offset = len(encoded.prefix)
    inputs = model.collate([encoded.ids])
    with torch.no_grad():
        logits = plain(**inputs).logits[0, :, 0]
    marked = logits[[offset + m for m in encoded.marks]]
    assert result.steps[0] is not None
    assert torch.allclose(marked, torch.tensor(result.steps[0]), atol=1e-4)

    # `rewardkit score` writes each trace's step scores beside its score
    write_records(traces[:4], tmp_path / "traces.jsonl")
    out = tmp_path / "scores.jsonl"
    args = ["score", "--model", str(model_dir), "--data", str(tmp_path / "traces.jsonl")]
    assert main([*args, "--output", str(out)]) == 0
    rows = [json.loads(line)["response"] for line in out.read_text().splitlines()]
    for row, steps in zip(rows, result.steps, strict=True):
        assert row["steps"] == pytest.approx(steps, abs=1e-5)
    assert [row["raw"] for row in rows] == pytest.approx(result.raw, abs=1e-5)


def test_steps_head_learns_where_the_error_is(tiny_llama_dir: Path, tmp_path: Path) -> None:
    cfg = tiny.train_config(
        tiny_llama_dir, tmp_path / "run", head="steps", loss="step_bce", lr=1e-2, epochs=3
    )
    result = train(cfg)
    assert result.eval.accuracy > 0.6  # steps after the first error are labelled wrong


@pytest.mark.parametrize(
    ("arch", "pooling", "head", "names"),
    [
        ("bert", "cls", "objectives", OBJECTIVES),
        ("bert", "mean", "ensemble", ["m0", "m1"]),
        ("llama", "last", "objectives", OBJECTIVES),
        ("bert", "cls", "steps", ["step"]),
        ("llama", "last", "steps", ["step"]),
        ("qwen2", "last", "steps", ["step"]),
    ],
)
def test_packed_and_padded_outputs_agree(
    arch: str, pooling: str, head: str, names: list[str]
) -> None:
    model = tiny.reward_model(arch, pooling=pooling, head=head, objectives=names)
    model.eval()
    records = (
        list(generate_step_traces(5, seed=1))
        if head == "steps"
        else list(generate_ratings(5, seed=1))
    )
    units = [e.unit for e in encode_examples(model, records, 512).examples]
    packed, _ = model.batch(units, packed=True)
    padded, _ = model.batch(units, packed=False)
    with torch.no_grad():
        fast, slow = model(**packed), model(**padded)
    assert fast.shape == slow.shape == (len(slow), len(names))
    assert torch.allclose(fast, slow, atol=1e-4), (fast - slow).abs().max()
    if head == "steps":
        assert len(slow) == sum(len(r.steps) for r in records if isinstance(r, StepTrace))


def test_ensemble_scores_are_the_members_mean_with_their_spread(
    tiny_bert_dir: Path, tmp_path: Path
) -> None:
    cfg = tiny.train_config(tiny_bert_dir, tmp_path / "run", head="ensemble", members=3)
    model = RewardModel.load(train(cfg).model_dir)
    assert model.info.objectives == ["member0", "member1", "member2"]
    result = model.score(["Say hi."], ["Hi there!"])
    members = result.objectives[0] if result.objectives else None
    assert members is not None and result.spread is not None and result.spread[0] is not None
    values = torch.tensor(list(members.values()), dtype=torch.float64)
    assert result.raw[0] == pytest.approx(float(values.mean()), abs=1e-6)
    assert result.spread[0] == pytest.approx(float(values.std()), abs=1e-6)
    assert result.spread[0] > 0  # members start from different random heads


def test_unreadable_steps_get_no_score_and_a_reason_never_a_crash(
    tiny_llama_dir: Path, tmp_path: Path
) -> None:
    model = tiny.reward_model("llama", head="steps")
    result = model.score(["Q?", "Q?", "Q?"], ["1 + 1 = 2\nThe answer is 2.", "  \n ", "\x00"])
    assert result.raw[0] is not None and result.raw[1] is None and result.raw[2] is None
    assert set(result.unscorable) == {1, 2}
    assert "no steps" in result.unscorable[1] and "no tokens" in result.unscorable[2]
    assert result.item(1)["error"] == result.unscorable[1] and "error" not in result.item(0)

    # training counts a trace with an unreadable step and leaves it out
    traces = list(generate_step_traces(60, seed=5))
    broken = StepTrace("Compute 1 + 1.", ("1 + 1 = 2", "\x00"), (1.0, 1.0))
    write_records([*traces, broken], tmp_path / "traces.jsonl")
    cfg = tiny.train_config(
        tiny_llama_dir,
        tmp_path / "run",
        data=[str(tmp_path / "traces.jsonl")],
        head="steps",
        loss="step_bce",
        max_steps=2,
    )
    unreadable = train(cfg).provenance["unscorable"]
    assert unreadable["train"] + unreadable["eval"] == 1
