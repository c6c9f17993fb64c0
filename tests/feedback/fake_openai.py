"""A fake OpenAI-compatible chat server for the judge tests, served for real on loopback.

Its opinion is fixed and readable: the option with fewer words is better, P = 0.8 (0.5 when they
are equally long). It answers with the letter as text and, when asked, with ``top_logprobs``.
``failures`` are status codes answered (in order) before any real answer; ``answered`` lists the
(prompt, seed) of every call it really answered, so a test can count paid calls; ``before_answer``
runs before each answer and says whether to answer (a test kills its client there: the call in
flight is then dropped unanswered, as a server drops work for a closed connection).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from live_server import serving

OPTION = re.compile(r"^\(([AB])\) (.*)$", re.MULTILINE)


@dataclass
class FakeOpenAI:
    failures: list[int] = field(default_factory=list)
    logprobs: bool = True
    text: str | None = None
    """A fixed answer text (e.g. a reasoning ending in a letter) instead of the letter."""
    answered: list[tuple[str, int]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    before_answer: Callable[[int], bool] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def p_a(self, prompt: str) -> float:
        options = dict(OPTION.findall(prompt))
        a, b = len(options["A"].split()), len(options["B"].split())
        return 0.5 if a == b else 0.8 if a < b else 0.2

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            return self.answer(body)

        return app

    def answer(self, body: dict[str, Any]) -> JSONResponse:
        with self.lock:
            self.bodies.append(body)
            if self.failures:
                status = self.failures.pop(0)
                return JSONResponse({"error": "try later"}, status, {"Retry-After": "0"})
            if self.before_answer is not None and not self.before_answer(len(self.answered)):
                return JSONResponse({"error": "client gone"}, 499)
            prompt = body["messages"][-1]["content"]
            self.answered.append((prompt, body.get("seed", 0)))
        p = self.p_a(prompt)
        letter = "A" if p >= 0.5 else "B"
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": self.text or f"({letter})"},
        }
        if body.get("logprobs") and self.logprobs:
            top = [
                {"token": "A", "logprob": math.log(p)},
                {"token": "B", "logprob": math.log(1 - p)},
            ]
            choice["logprobs"] = {
                "content": [
                    {"token": "(", "logprob": 0.0, "top_logprobs": []},
                    {
                        "token": letter,
                        "logprob": top[letter == "B"]["logprob"],
                        "top_logprobs": top,
                    },
                ]
            }
        usage = {"prompt_tokens": len(prompt.split()), "completion_tokens": 2}
        return JSONResponse({"choices": [choice], "usage": usage})


@contextmanager
def fake_openai(server: FakeOpenAI) -> Iterator[str]:
    """The fake server on loopback; yields its OpenAI base URL (…/v1)."""
    with serving(server.app()) as url:
        yield f"{url}/v1"
