"""Shared fixtures: small files written per test; nothing from ../shared or the network."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tiny

from rewardkit.commands.eval import evaluate
from rewardkit.evaluation.config import EvalConfig
from rewardkit.evaluation.run import SuiteResult
from rewardkit.records import to_dict
from rewardkit.synthetic import generate_pairs

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def fp32_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """precision=auto scores in fp32 in tests on every machine, so scores compare exactly with
    plain transformers; the bf16 path is tested by asking for it (precision="bf16")."""
    monkeypatch.setattr("rewardkit.models.precision.cpu_has_fast_bf16", lambda: False)


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: list[Any], name: str = "rows.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path

    return write


def _saved_tiny(arch: str, factory: pytest.TempPathFactory) -> Path:
    """A tiny random reward network saved like a hub checkpoint, loadable by path."""
    path = factory.mktemp(f"tiny-{arch}")
    model = tiny.reward_model(arch)
    model.network.save_pretrained(path)
    model.tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _saved_tiny("llama", tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _saved_tiny("bert", tmp_path_factory)


SCORER = """
def polite(prompts, responses):
    return [float(sum(w in r.lower() for w in ("help", "happy", "good"))) - 0.01 * len(r)
            for r in responses]
"""


def write_suite(directory: Path) -> Path:
    """A suite file over synthetic voted pairs and best-of-K rows, and a Python scorer beside it."""
    pairs = list(generate_pairs(120, seed=5))
    with open(directory / "pairs.jsonl", "w") as out:
        out.writelines(json.dumps(to_dict(p)) + "\n" for p in pairs)
    bok = [
        {
            "prompt": f"q{i}",
            "chosen": [f"good answer {i}"],
            "rejected": [f"bad {i}", f"no {i}"],
            "subset": "bok",
        }
        for i in range(6)
    ]
    (directory / "bok.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bok))
    (directory / "suite.yaml").write_text(
        "name: demo suite\nfiles: [pairs.jsonl, bok.jsonl]\nsubset_field: category\n"
        "sections: {Knowledge: [capital, math], Other: [howto, harmful], Best-of-K: [bok]}\n"
    )
    (directory / "my_scorer.py").write_text(SCORER)
    return directory / "suite.yaml"


@pytest.fixture(scope="session")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[SuiteResult]]:
    directory = tmp_path_factory.mktemp("eval")
    suite = write_suite(directory)
    cfg = EvalConfig(
        models=[f"{directory / 'my_scorer.py'}:polite"],
        suites=[str(suite), str(suite.parent / "bok.jsonl")],
        output=str(directory / "out"),
        resamples=200,
    )
    return directory / "out", evaluate(cfg)
