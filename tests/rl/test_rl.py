"""RL against a reward model: a few real GRPO steps on tiny models, the logged values checked
against the world and the reward model; the reward's mitigations and the stop rule by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import tiny
import torch
from live_server import serving

from rewardkit.models.ood import MahalanobisOod
from rewardkit.models.remote import RemoteScorer
from rewardkit.rl.loop import run_rl
from rewardkit.rl.policy import PolicyConfig, fit_world_policy, load_policy, policy_prompt
from rewardkit.rl.report import interval, read_log, summarize, write_report
from rewardkit.rl.rewards import Probe, StopRule, gold_reward_of, proxy_values
from rewardkit.rl.settings import Mitigation, RLSettings
from rewardkit.serving.app import create_app
from rewardkit.serving.config import ServeConfig
from rewardkit.serving.loading import load_backend

TINY_POLICY = PolicyConfig(width=32, layers=1, heads=2, vocab_size=300, examples=300, steps=30)


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fit_world_policy(tmp_path_factory.mktemp("rl") / "policy", TINY_POLICY)


def test_the_policy_tokenizer_gives_back_the_exact_text(policy_dir: Path) -> None:
    tokenizer, _ = load_policy(policy_dir)
    text = (
        policy_prompt("How do I make tea?") + "Sure, glad to help.\n1. Boil fresh water.\nI can't"
    )
    ids = tokenizer(text)["input_ids"]
    assert tokenizer.decode(ids) == text  # spaces, newlines, capitals and apostrophes intact
    assert tokenizer.eos_token_id not in ids  # nothing added around an encoding
    # fitting again with the same config reuses the saved policy (same files, not refitted)
    before = (policy_dir / "model.safetensors").stat().st_mtime_ns
    assert fit_world_policy(policy_dir, TINY_POLICY) == policy_dir
    assert (policy_dir / "model.safetensors").stat().st_mtime_ns == before


def test_logged_gold_proxy_and_kl_are_those_of_the_world_the_model_and_the_policies(
    policy_dir: Path, tmp_path: Path
) -> None:
    proxy = tiny.reward_model("bert", seed=3).eval()
    settings = RLSettings(
        steps=3,
        log_every=2,
        prompts_per_step=2,
        generations=2,
        max_completion_length=24,
        lr=0.05,
        probe_prompts=1,
        probe_samples=2,
    )
    result = run_rl(settings, policy_dir, [proxy], tmp_path)
    assert [r["step"] for r in result.rows] == [0, 2, 3]  # every 2 steps, and where it ended
    samples = [json.loads(x) for x in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 3 * 4 * 2  # 1 probe prompt per category, 2 samples each
    prompts = [s["prompt"] for s in samples]
    responses = [s["response"] for s in samples]
    scored = proxy.score(prompts, responses)
    for sample, normalized in zip(samples, scored.normalized, strict=True):
        assert sample["gold"] == pytest.approx(gold_reward_of(sample["prompt"], sample["response"]))
        assert sample["proxy"] == pytest.approx(normalized, abs=1e-5)
        assert sample["reward"] == pytest.approx(sample["proxy"])  # no mitigation
        assert sample["words"] == len(sample["response"].split())
    # the logged row is the mean of its samples
    first = [s for s in samples if s["step"] == 0]
    assert result.rows[0]["gold"] == pytest.approx(sum(s["gold"] for s in first) / len(first))
    # before the first update the policy is its reference: the KL is 0 exactly
    assert all(s["kl"] == pytest.approx(0.0, abs=1e-5) for s in first)
    # after updates at a large learning rate the policy has moved from its reference
    tokenizer, start = load_policy(policy_dir)
    assert any(abs(s["kl"]) > 1e-4 for s in samples if s["step"] == 3)
    # the logged KL is log pi - log pi_ref of the logged response: by hand for the first one
    ids = tokenizer(first[0]["response"])["input_ids"] + [tokenizer.eos_token_id]
    prompt = tokenizer(policy_prompt(first[0]["prompt"]))["input_ids"]
    whole = torch.tensor([prompt + ids])
    with torch.no_grad():
        logits = start(input_ids=whole).logits[0, len(prompt) - 1 : -1]
        by_hand = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids)[:, None]).sum()
        per_token = Probe._logps(start, whole, torch.ones_like(whole))[0, len(prompt) - 1 :]
    assert per_token.sum().item() == pytest.approx(by_hand.item(), abs=1e-4)
    assert Probe(start, start, tokenizer, []).kl([first[0]["prompt"]], [ids]) == [
        pytest.approx(0.0, abs=1e-6)
    ]
    assert (tmp_path / "log.jsonl").exists() and read_log(tmp_path / "log.jsonl") == result.rows


def test_a_served_model_is_optimised_against_over_http(policy_dir: Path, tmp_path: Path) -> None:
    """`rewardkit rl --reward_url`: the rewards come from a real server on loopback, and the logged
    proxy is the served model's normalised score of each logged response."""
    model = tiny.reward_model("bert", seed=6).eval()
    model.info.mean, model.info.std = 0.25, 2.0
    model.save(tmp_path / "model")
    cfg = ServeConfig(model=str(tmp_path / "model"), warmup=False)
    settings = RLSettings(steps=1, log_every=1, prompts_per_step=2, generations=2,
                          max_completion_length=16, probe_prompts=1, probe_samples=1)  # fmt: skip
    with serving(create_app(load_backend(cfg), cfg)) as url:
        served = RemoteScorer(url, normalized=True)
        result = run_rl(settings, policy_dir, [served], tmp_path / "run")
    samples = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    expected = model.score([s["prompt"] for s in samples], [s["response"] for s in samples])
    assert [s["proxy"] for s in samples] == pytest.approx(expected.normalized, abs=1e-4)
    assert [r["step"] for r in result.rows] == [0, 1]
    assert all(s["ood"] is None and s["spread"] is None for s in samples)


def test_a_stop_rule_that_fires_ends_the_grpo_run(policy_dir: Path, tmp_path: Path) -> None:
    proxy = tiny.reward_model("bert", seed=5).eval()
    width = tiny.WIDTH  # the head reads vectors of the backbone's width
    detector = MahalanobisOod(torch.zeros(width, dtype=torch.float64),
                              torch.eye(width, dtype=torch.float64), 1.0, 0.95)  # fmt: skip
    # ratio 0: fires as soon as it has its two windows of 3 logs, i.e. at the log of step 5
    settings = RLSettings(steps=20, log_every=1, prompts_per_step=2, generations=2,
                          max_completion_length=16, probe_prompts=1, probe_samples=1,
                          stop="ood", stop_ratio=0.0)  # fmt: skip
    result = run_rl(settings, policy_dir, [proxy], tmp_path, ood=detector)
    assert result.stopped_at == 5
    assert [r["step"] for r in result.rows] == [0, 1, 2, 3, 4, 5, 6]  # step 5 ran, then it ended
    assert all(r["ood"] is not None and r["ood"] > 0 for r in result.rows)


def test_mitigations_shape_the_reward_as_written() -> None:
    members = [tiny.reward_model("bert", seed=s).eval() for s in (1, 2)]
    prompts = ["What is 2 plus 3?"] * 2
    responses = ["2 plus 3 is 5.", "Happy to help! 2 plus 3 is 5. Many people ask about this."]
    columns = [m.score(prompts, responses).normalized for m in members]
    plain = proxy_values(members, prompts, responses, Mitigation())
    assert plain.proxy == pytest.approx([(a + b) / 2 for a, b in zip(*columns, strict=True)])
    assert plain.spread is not None
    assert plain.spread == pytest.approx(
        [abs(a - b) / math.sqrt(2) for a, b in zip(*columns, strict=True)]
    )
    worst = proxy_values(members, prompts, responses, Mitigation("min", length_penalty=0.1))
    words = [5, 13]
    assert worst.reward == pytest.approx(
        [min(a, b) - 0.1 * w for a, b, w in zip(*columns, words, strict=True)]
    )


def test_stop_rule_fires_when_the_level_climbs_past_the_ratio() -> None:
    rule = StopRule("spread", ratio=1.5, window=2)
    values = [1.0, 1.0, 1.2, 1.4, 1.6, 1.7]  # windows of two: 1.3, 1.5 (not above), then 1.65
    fired = [rule.update({"spread": v}) for v in values]
    assert fired == [False, False, False, False, False, True]
    assert not StopRule("none").update({"spread": 99.0})


def test_summary_peak_fall_and_report(tmp_path: Path) -> None:
    gold = [1.0, 2.0, 3.0, 4.0, 3.0, 1.0, 0.0]
    rows = [
        {"step": 5 * i, "gold": g, "proxy": float(i), "kl": float(i * i), "words": 10.0,
         "sqrt_kl": float(i), "spread": None, "ood": 0.5}
        for i, g in enumerate(gold)
    ]  # fmt: skip
    summary = summarize(rows)
    # moving averages of 3: [1.5, 2, 3, 3.33, 2.67, 1.33, 0.5]: the peak is at index 3
    assert summary.peak_gold == pytest.approx(10 / 3) and summary.peak_step == 15
    assert summary.peak_kl == 9.0 and summary.end_gold == pytest.approx(0.5)
    assert summary.fall == pytest.approx(10 / 3 - 0.5)
    mean, half = interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 * 1.0 / math.sqrt(3))
    report = write_report(tmp_path, {"a": [rows, rows]}, "t").read_text()
    assert "| a | 2 | 1.00 ± 0.00 | 3.33 ± 0.00 | 3.00 ± 0.00 |" in report
    assert (tmp_path / "rl.png").stat().st_size > 10_000
