"""A client of a reward server: rewardkit's own ``POST /score`` or OpenRLHF's ``POST /get_reward``.

Busy answers (429, 502, 503, 504, honouring Retry-After) and connection errors are retried a
bounded number of times with exponential backoff; then the client raises. A reward is never
invented: a missing or non-finite score in a reply is an error, not a zero.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from rewardkit.records import Text, render_text

RETRIED_STATUS = (429, 502, 503, 504)


class RewardServerError(RuntimeError):
    """The server answered, but not with a reward for every item."""


def _wire_text(text: Text) -> str | list[dict[str, str]]:
    if isinstance(text, str):
        return text
    return [{"role": m.role, "content": m.content} for m in text]


@dataclass
class RemoteScorer:
    """A ``Scorer`` over HTTP. ``url`` is the server's base URL or a full route URL; ``protocol``
    is "rewardkit" (``/score``: prompt and response apart, chat messages kept) or "openrlhf"
    (``/get_reward``: ``query`` = prompt + response as one string, ``prompts`` beside it)."""

    url: str
    protocol: Literal["rewardkit", "openrlhf"] = "rewardkit"
    batch_size: int = 64
    retries: int = 3
    backoff_s: float = 0.5
    timeout_s: float = 60.0
    api_key: str | None = None
    normalized: bool = False
    """rewardkit protocol: return normalised rather than raw scores."""

    def __post_init__(self) -> None:
        route = "/score" if self.protocol == "rewardkit" else "/get_reward"
        if not self.url.rstrip("/").endswith(route):
            self.url = self.url.rstrip("/") + route

    def __call__(self, prompts: Sequence[Text], responses: Sequence[Text]) -> list[float]:
        if len(prompts) != len(responses):
            raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        scores: list[float] = []
        with httpx.Client(timeout=self.timeout_s, headers=headers) as client:
            for start in range(0, len(prompts), self.batch_size):
                p = prompts[start : start + self.batch_size]
                r = responses[start : start + self.batch_size]
                scores += self._read(self._post(client, self._body(p, r)), len(p))
        return scores

    def _body(self, prompts: Sequence[Text], responses: Sequence[Text]) -> dict[str, Any]:
        if self.protocol == "rewardkit":
            items = [
                {"prompt": _wire_text(p), "response": _wire_text(r)}
                for p, r in zip(prompts, responses, strict=True)
            ]
            return {"items": items}
        rendered = [render_text(p) for p in prompts]
        queries = [a + render_text(b) for a, b in zip(rendered, responses, strict=True)]
        return {"query": queries, "prompts": rendered}

    def _read(self, reply: dict[str, Any], expected: int) -> list[float]:
        if self.protocol == "rewardkit":
            items = reply.get("scores")
            key = "normalized" if self.normalized else "raw"
            values = [i.get(key) if isinstance(i, dict) else None for i in items or []]
            errors = [i.get("error") for i in items or [] if isinstance(i, dict) and i.get("error")]
            if errors:
                raise RewardServerError(f"{self.url}: {len(errors)} item(s) failed: {errors[0]}")
        else:
            values = reply.get("rewards") or []
        if len(values) != expected:
            raise RewardServerError(f"{self.url}: expected {expected} scores, got {len(values)}")
        out = []
        for value in values:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RewardServerError(f"{self.url}: a score is {value!r}, not a finite number")
            out.append(float(value))
        return out

    def _post(self, client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                reply = client.post(self.url, json=body)
            except httpx.TransportError:
                if last:
                    raise
                time.sleep(self.backoff_s * 2**attempt)
                continue
            if reply.status_code in RETRIED_STATUS and not last:
                wait = reply.headers.get("Retry-After")
                time.sleep(float(wait) if wait and wait.isdigit() else self.backoff_s * 2**attempt)
                continue
            reply.raise_for_status()
            data = reply.json()
            if not isinstance(data, dict):
                raise RewardServerError(f"{self.url}: the reply is not a JSON object")
            return data
        raise AssertionError("unreachable")
