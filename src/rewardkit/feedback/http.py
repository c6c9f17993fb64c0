"""A judge behind any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp, hosted APIs).

P(A) comes from the answer letter's log-probabilities when the endpoint returns them (the first
generated token that reads "A" or "B", with its ``top_logprobs``), from the parsed text otherwise
(and always when the judge reasons first, since the letter then comes last). Rate limits and
failures: at most ``requests_per_minute`` calls; a 429, 5xx or a dropped connection is retried
with exponential backoff (or the server's ``Retry-After``) up to ``retries`` times; any other
error status fails at once with the server's message.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

import httpx

from rewardkit.feedback.base import (
    JudgeReply,
    JudgeRequest,
    p_a_of_logprobs,
    p_a_of_text,
)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class ChatJudge:
    def __init__(
        self,
        endpoint: str,
        model: str,
        name: str,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_new_tokens: int = 256,
        logprobs: bool = True,
        retries: int = 5,
        backoff_s: float = 1.0,
        requests_per_minute: float = 0.0,
        timeout_s: float = 120.0,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"judge endpoint must be an http(s) URL, got {endpoint!r}")
        self.url = endpoint.rstrip("/") + "/chat/completions"
        self.model = model
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        self.logprobs = logprobs
        self.retries = retries
        self.backoff_s = backoff_s
        self.interval_s = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self.name = name
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=timeout_s)
        self._next_slot = 0.0
        self.retried = 0
        """Attempts that failed and were tried again (rate limits, server errors, drops)."""

    def close(self) -> None:
        self.client.close()

    def __call__(self, request: JudgeRequest) -> JudgeReply:
        body = self._body(request)
        data = self._post(body)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise RuntimeError(f"{self.url}: unexpected response {str(data)[:300]}") from None
        usage = data.get("usage") or {}
        tokens = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        from_logprobs = None if request.reason_first else letter_logprobs(choice.get("logprobs"))
        if from_logprobs is not None:
            return JudgeReply(p_a_of_logprobs(*from_logprobs), "logprobs", text, *tokens)
        return JudgeReply(p_a_of_text(text), "text", text, *tokens)

    def _body(self, request: JudgeRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": request.prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_new_tokens if request.reason_first else 8,
            "seed": request.sample,
        }
        if self.logprobs and not request.reason_first:
            body |= {"logprobs": True, "top_logprobs": 10}
        return body

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            self._wait_for_slot()
            last = attempt == self.retries
            try:
                response = self.client.post(self.url, json=body)
            except httpx.TransportError as err:
                if last:
                    raise RuntimeError(f"{self.url}: {err!r} after {attempt} retries") from err
                self._back_off(attempt, None)
                continue
            if response.status_code == 200:
                return dict(response.json())
            if response.status_code not in RETRY_STATUS or last:
                raise RuntimeError(
                    f"{self.url}: HTTP {response.status_code} after {attempt} retries: "
                    f"{response.text[:300]}"
                )
            self._back_off(attempt, response.headers.get("retry-after"))
        raise AssertionError("unreachable")

    def _wait_for_slot(self) -> None:
        now = time.monotonic()
        if now < self._next_slot:
            time.sleep(self._next_slot - now)
        self._next_slot = max(now, self._next_slot) + self.interval_s

    def _back_off(self, attempt: int, retry_after: str | None) -> None:
        self.retried += 1
        delay = self.backoff_s * 2**attempt
        if retry_after is not None:
            with contextlib.suppress(ValueError):  # an HTTP date: the exponential delay
                delay = max(delay, float(retry_after))
        time.sleep(delay)


def letter_logprobs(logprobs: Any) -> tuple[float | None, float | None] | None:
    """(log P("A"), log P("B")) at the first generated token that is a letter (a leading "(" or
    space is skipped); None when the endpoint returned no log-probabilities or no letter."""
    if not isinstance(logprobs, Mapping) or not isinstance(logprobs.get("content"), list):
        return None
    for position in logprobs["content"]:
        if _letter(position.get("token", "")) is None:
            continue
        found: dict[str, float] = {}
        for top in position.get("top_logprobs") or [position]:
            letter = _letter(top.get("token", ""))
            if letter is not None and letter not in found:
                found[letter] = float(top["logprob"])
        return found.get("A"), found.get("B")
    return None


def _letter(token: str) -> str | None:
    stripped = token.strip().strip("(").strip()
    return stripped if stripped in ("A", "B") else None
