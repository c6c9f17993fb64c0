"""HF_HUB_OFFLINE=1 and empty caches: every command that takes a Hub id answers one clear line
(what was tried, how to fix it) and exits non-zero; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub_cache import Caches, caches_fixture  # noqa: F401 (fixture)

from rewardkit.cli import main

MODEL = "nobody/missing-model"
DATA = "nobody/missing-data"
HINTS = {MODEL: ("HF_HUB_OFFLINE", f"hf download {MODEL}"), DATA: ("HF_HUB_OFFLINE", "hf download")}

COMMANDS = {
    "train --data": ["train", "--data", DATA, "--output_dir", "{tmp}/run"],
    "train --eval_data": [
        "train",
        "--data",
        "{file}",
        "--eval_data",
        DATA,
        "--output_dir",
        "{tmp}/r",
    ],
    "train --model": ["train", "--model", MODEL, "--output_dir", "{tmp}/run"],
    "train --model @revision": ["train", "--model", f"{MODEL}@v1.0", "--output_dir", "{tmp}/run"],
    "train --push_to_hub": ["train", "--push_to_hub", "me/my-rm", "--output_dir", "{tmp}/run"],
    "score --model": ["score", "--model", MODEL, "--data", "{file}"],
    "score --data": ["score", "--model", "{model}", "--data", DATA],
    "eval --models": ["eval", "--models", MODEL, "--suites", "{file}", "--output", "{tmp}/e"],
    "eval --suites": ["eval", "--models", "{model}", "--suites", DATA, "--output", "{tmp}/e"],
    "serve --model": ["serve", "--model", MODEL],
    "push --repo": ["push", "--model", "{model}", "--repo", "me/my-rm"],
    "data validate": ["data", "validate", DATA],
    "data validate --tokenizer": ["data", "validate", "{file}", "--tokenizer", MODEL],
    "data stats": ["data", "stats", DATA],
    "data convert": ["data", "convert", DATA, "--output", "{tmp}/out.jsonl"],
    "data split": ["data", "split", DATA, "--output_dir", "{tmp}/split"],
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path) -> Path:
    """A model directory as `rewardkit train` writes it (rewardkit.json and all)."""
    import tiny

    out = tmp_path_factory.mktemp("offline-model")
    model = tiny.reward_model("bert")
    model.save(out)
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_offline_and_not_cached_is_one_line(
    name: str,
    caches: Caches,
    trained: Path,
    tmp_path: Path,
    write_jsonl: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "pairs.jsonl"
    file.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    args = [a.format(tmp=tmp_path, file=file, model=trained) for a in COMMANDS[name]]

    code = main(args)

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0
    assert len(lines) == 1, err
    assert "Traceback" not in err
    line = lines[0]
    assert line.startswith(f"rewardkit {' '.join(args[:2] if args[0] == 'data' else args[:1])}")
    asked = next((a for a in (MODEL, DATA, "me/my-rm") if any(a in arg for arg in args)), "")
    assert asked in line
    assert "HF_HUB_OFFLINE" in line  # what stands in the way, and that unsetting it is a fix
    for hint in HINTS.get(asked, ()):
        assert hint in line
