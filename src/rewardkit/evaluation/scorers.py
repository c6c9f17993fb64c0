"""Turn a command-line name into a ``Scorer``: every evaluation target goes through one protocol.

- a directory written by `rewardkit train` (``rewardkit.json`` beside the weights);
- a plain Hugging Face ``*ForSequenceClassification`` directory with one label;
- an ``http(s)://`` URL of a reward server: rewardkit's (``rewardkit serve``), or any server
  speaking OpenRLHF's protocol when the URL ends in ``/get_reward``;
- ``module:function`` or ``path/to/file.py:function``, a Python callable ``(prompts, responses)``;
- ``baseline:longer``, ``baseline:shorter``, ``baseline:random``: the heuristics every report
  shows, so nobody mistakes a length heuristic for a reward model.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rewardkit.models.backbones import is_hub_model
from rewardkit.models.remote import RemoteScorer
from rewardkit.records import Text, render_text
from rewardkit.scoring import BATCH_TOKENS, Overflow, Scorer


@dataclass(frozen=True)
class NamedScorer:
    name: str
    score: Scorer
    baseline: bool = False


def longer_baseline(prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
    return [float(len(render_text(r))) for r in responses]


def shorter_baseline(prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
    return [-float(len(render_text(r))) for r in responses]


def random_baseline(prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
    """A fixed pseudo-random score per (prompt, response): the same in every run."""
    out = []
    for p, r in zip(prompts, responses, strict=True):
        digest = hashlib.blake2b(f"{render_text(p)}\x00{render_text(r)}".encode(), digest_size=8)
        out.append(int.from_bytes(digest.digest(), "big") / 2**64)
    return out


BASELINES: dict[str, Scorer] = {
    "longer": longer_baseline,
    "shorter": shorter_baseline,
    "random": random_baseline,
}


def _python_callable(spec: str) -> Scorer:
    target, _, attribute = spec.rpartition(":")
    if target.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location(Path(target).stem, target)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"cannot import {target}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{spec}: {attribute!r} is not a callable in {target}")
    return cast(Scorer, function)


def resolve_scorer(
    spec: str,
    batch_tokens: int = BATCH_TOKENS,
    max_length: int = 512,
    progress: bool = True,
    overflow: Overflow = "flag",
) -> NamedScorer:
    if spec.startswith("baseline:"):
        kind = spec.removeprefix("baseline:")
        if kind not in BASELINES:
            raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")
        return NamedScorer(spec, BASELINES[kind], baseline=True)
    if spec.startswith(("http://", "https://")):
        openrlhf = spec.rstrip("/").endswith("/get_reward")
        return NamedScorer(spec, RemoteScorer(spec, "openrlhf" if openrlhf else "rewardkit"))
    path = Path(spec)
    if path.is_dir() or is_hub_model(spec):
        from rewardkit.models.reward_model import RewardModel

        model = RewardModel.from_directory(path, max_length)
        return NamedScorer(
            path.name or spec, model.as_scorer(batch_tokens, False, progress, overflow)
        )
    if ":" in spec:
        return NamedScorer(spec, _python_callable(spec))
    raise ValueError(
        f"cannot read {spec!r} as a scorer: give a model directory or Hub id, an http(s) URL, "
        "module:function, or baseline:longer|shorter|random"
    )
