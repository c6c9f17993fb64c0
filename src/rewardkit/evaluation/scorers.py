"""Turn a command-line name into a ``Scorer``: every evaluation target goes through one protocol.

- a directory written by `rewardkit train` (``rewardkit.json`` beside the weights);
- a plain Hugging Face ``*ForSequenceClassification`` directory with one label;
- an ``http(s)://`` URL of a reward server speaking OpenRLHF's ``/get_reward`` protocol;
- ``module:function`` or ``path/to/file.py:function``, a Python callable ``(prompts, responses)``;
- ``baseline:longer``, ``baseline:shorter``, ``baseline:random``: the heuristics every report
  shows, so nobody mistakes a length heuristic for a reward model.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx

from rewardkit.records import Text, render_text
from rewardkit.scoring import Scorer


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


@dataclass
class RemoteScorer:
    """A client of a reward server's OpenRLHF-style ``POST /get_reward``: ``{"query": [text],
    "prompts": [prompt]}`` in, ``{"rewards": [float]}`` out. Failures are retried a bounded
    number of times, then raised: a reward is never invented."""

    url: str
    batch_size: int = 64
    retries: int = 3
    timeout_s: float = 60.0
    api_key: str | None = None

    def __call__(self, prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        rewards: list[float] = []
        with httpx.Client(timeout=self.timeout_s, headers=headers) as client:
            for start in range(0, len(prompts), self.batch_size):
                p = [render_text(x) for x in prompts[start : start + self.batch_size]]
                r = [render_text(x) for x in responses[start : start + self.batch_size]]
                body = {"query": [a + b for a, b in zip(p, r, strict=True)], "prompts": p}
                rewards += self._post(client, body, len(p))
        return rewards

    def _post(self, client: httpx.Client, body: dict[str, list[str]], expected: int) -> list[float]:
        for attempt in range(self.retries + 1):
            try:
                reply = client.post(self.url, json=body)
                if reply.status_code in (429, 502, 503, 504) and attempt < self.retries:
                    time.sleep(float(reply.headers.get("Retry-After", 0.5 * 2**attempt)))
                    continue
                reply.raise_for_status()
                rewards = reply.json().get("rewards")
                if not isinstance(rewards, list) or len(rewards) != expected:
                    raise ValueError(
                        f"{self.url}: expected {expected} rewards, got {rewards!r:.200}"
                    )
                return [float(x) if x is not None else math.nan for x in rewards]
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")


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
    spec: str, batch_tokens: int = 16384, max_length: int = 512, progress: bool = True
) -> NamedScorer:
    if spec.startswith("baseline:"):
        kind = spec.removeprefix("baseline:")
        if kind not in BASELINES:
            raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")
        return NamedScorer(spec, BASELINES[kind], baseline=True)
    if spec.startswith(("http://", "https://")):
        return NamedScorer(spec, RemoteScorer(spec))
    path = Path(spec)
    if path.is_dir():
        from rewardkit.models.reward_model import INFO_FILE, RewardModel

        if (path / INFO_FILE).exists():
            model = RewardModel.load(path)
        elif (path / "config.json").exists():
            model = RewardModel.from_backbone(str(path), max_length=max_length)
        else:
            raise ValueError(f"{spec}: neither a rewardkit model nor a transformers directory")
        return NamedScorer(
            path.name or spec, model.as_scorer(batch_tokens, normalized=False, progress=progress)
        )
    if ":" in spec:
        return NamedScorer(spec, _python_callable(spec))
    raise ValueError(
        f"cannot read {spec!r} as a scorer: give a model directory, an http(s) URL, "
        "module:function, or baseline:longer|shorter|random"
    )
