from __future__ import annotations

from pathlib import Path

import pytest

import tiny


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama reward network saved like a hub checkpoint, loadable by path."""
    path = tmp_path_factory.mktemp("tiny-llama")
    model = tiny.reward_model("llama")
    model.network.save_pretrained(path)
    model.tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-bert")
    model = tiny.reward_model("bert")
    model.network.save_pretrained(path)
    model.tokenizer.save_pretrained(path)
    return path
