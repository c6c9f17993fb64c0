"""Out to the Hub and back: a model trained with --push_to_hub goes to a fake Hub on loopback
(private repo, the token huggingface_hub finds, one commit with the card) and, pulled back by
name, scores exactly as the local directory does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hub_cache import Caches, caches_fixture, go_online  # noqa: F401 (fixture)
from hub_server import fake_hub

from rewardkit.cli import main
from rewardkit.data import read_records
from rewardkit.evaluation.run import SuiteResult
from rewardkit.models.card import hub_card, wilson_interval
from rewardkit.records import Pair, to_dict
from rewardkit.synthetic import generate_pairs


def test_push_train_pull_scores_identically(
    caches: Caches,
    tmp_path: Path,
    tiny_llama_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(to_dict(p)) + "\n" for p in generate_pairs(12, seed=9)))
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    with fake_hub() as hub:
        go_online(monkeypatch, hub.url)
        run = tmp_path / "run"
        code = main(
            [
                "train", "--model", str(tiny_llama_dir), "--synthetic_pairs", "96",
                "--max_steps", "2", "--batch_size", "8", "--precision", "fp32", "--threads", "1",
                "--eval_every", "0", "--save_every", "0", "--output_dir", str(run),
                "--push_to_hub", "me/tiny-rm", "--hub_private", "true",
            ]
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        repo = hub.repos["me/tiny-rm"]
        assert repo.private
        assert len(repo.commits) == 1  # weights, tokenizer, rewardkit.json and card together
        assert {"model.safetensors", "rewardkit.json", "config.json", "README.md"} <= set(
            repo.files
        )
        assert {auth for _, _, auth in hub.requests} == {"Bearer hf_test_token"}
        card = repo.files["README.md"].decode()
        assert card.startswith("---\nlibrary_name: transformers")
        assert "## Held-out accuracy" in card and 'grpo_reward("me/tiny-rm")' in card
        assert 'reward_funcs="me/tiny-rm"' in card  # a decoder: TRL's own loader reads it
        assert 'LLM(model="me/tiny-rm", runner="pooling")' in card  # a decoder: vLLM serves it

        assert main(["score", "--model", str(run / "model"), "--data", str(pairs),
                     "--output", str(tmp_path / "local.jsonl")]) == 0  # fmt: skip
        assert main(["score", "--model", "me/tiny-rm", "--data", str(pairs),
                     "--output", str(tmp_path / "pulled.jsonl")]) == 0  # fmt: skip
    local = (tmp_path / "local.jsonl").read_text().splitlines()
    pulled = (tmp_path / "pulled.jsonl").read_text().splitlines()
    assert len(local) == 12
    assert pulled == local  # the same raw and normalised scores, to the last digit
    # and once cached, by name with the network off
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    assert main(["score", "--model", "me/tiny-rm", "--data", str(pairs),
                 "--output", str(tmp_path / "offline.jsonl")]) == 0  # fmt: skip
    assert (tmp_path / "offline.jsonl").read_text().splitlines() == local
    assert_card_recipe_matches(card, json.loads(local[0]), to_dict(first_pair(pairs)))


def first_pair(path: Path) -> Pair:
    return next(r for r in read_records(path) if isinstance(r, Pair))


def assert_card_recipe_matches(card: str, scored: dict[str, Any], pair: dict[str, Any]) -> None:
    """The card's plain-transformers recipe, run as written on the pulled model, gives the raw
    score rewardkit gave."""
    recipe = card.split("Plain transformers:\n\n```python\n")[1].split("```")[0]
    namespace = {"prompt": pair["prompt"], "response": pair["chosen"]}
    exec(recipe, namespace)
    assert namespace["raw"] == pytest.approx(scored["chosen"]["raw"], abs=1e-5)


@pytest.mark.parametrize(
    ("arch", "layout", "pooling"),
    [
        ("bert", "text", "cls"),
        ("bert", "text", "mean"),
        ("bert", "pair", "mean"),
        ("llama", "auto", "auto"),
        ("llama", "auto", "mean"),
    ],
)
def test_the_card_says_exactly_how_plain_transformers_reads_each_layout(
    arch: str, layout: str, pooling: str, tmp_path: Path
) -> None:
    import tiny

    model = tiny.reward_model(arch, pooling=pooling, layout=layout).eval()
    model.save(tmp_path / "m")
    card = hub_card(tmp_path / "m", str(tmp_path / "m"))
    prompt, response = "Is the sky blue?", " Yes, on a clear day."
    (raw,) = model.score([prompt], [response], precision="fp32").raw
    pair = {"prompt": prompt, "chosen": response}
    assert_card_recipe_matches(card, {"chosen": {"raw": raw}}, pair)


def test_wilson_interval_by_hand() -> None:
    # 8 of 10: centre (0.8 + 1.9208/10) / 1.38416 = 0.71672, half 0.24063
    low, high = wilson_interval(0.8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)


def test_card_with_eval_results_and_dry_run(
    tmp_path: Path,
    evaluation: tuple[Path, list[SuiteResult]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tiny

    model_dir = tmp_path / "model"
    model = tiny.reward_model("bert")
    model.info.metrics = {"accuracy": 0.8, "examples": 10}
    model.save(model_dir, card="# trainer card\n\nData: synthetic.\n")
    eval_dir, results = evaluation

    card = hub_card(model_dir, "me/rm", eval_dir)

    assert "# trainer card" in card
    assert "0.800 on 10 held-out examples (95% Wilson interval 0.490 to 0.943)" in card
    longer = next(r for r in results if r.scorer == "baseline:longer")
    row = (
        f"| {longer.suite} | length baseline: the longer response wins | "
        f"{longer.accuracy.value:.3f} | {longer.accuracy.low:.3f} to {longer.accuracy.high:.3f} |"
    )
    assert row in card
    assert "an encoder backbone" in card  # no vLLM recipe for a BERT reward model
    staged = tmp_path / "staged"
    assert main(["push", "--model", str(model_dir), "--repo", "me/rm", "--eval", str(eval_dir),
                 "--dry_run", str(staged)]) == 0  # fmt: skip
    assert (staged / "README.md").read_text() == card
    assert sorted(p.name for p in staged.iterdir()) == sorted(p.name for p in model_dir.iterdir())
    assert "wrote what me/rm would hold" in capsys.readouterr().out


def test_bad_repo_id_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tiny

    tiny.reward_model("bert").save(tmp_path / "m")
    capsys.readouterr()
    assert main(["push", "--model", str(tmp_path / "m"), "--repo", "just-a-name"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rewardkit push: error: repo 'just-a-name': give a Hub repo id, OWNER/NAME"
    )


def test_refused_token_is_one_line(
    caches: Caches,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tiny

    tiny.reward_model("bert").save(tmp_path / "m")
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with fake_hub() as hub:
        hub.token = "hf_right"
        go_online(monkeypatch, hub.url)
        capsys.readouterr()
        code = main(["push", "--model", str(tmp_path / "m"), "--repo", "me/rm"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err
    assert err.startswith("rewardkit push: error: cannot push to me/rm: ")
    assert "401" in err and "`hf auth login` or set HF_TOKEN" in err
    assert hub.repos == {}
