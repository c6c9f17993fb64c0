"""What every judge shares: one request in, one reply out, and the reading of the letter.

A judge answers one comparison prompt (a user message, see ``constitution``) for one sample. It
returns P(A) from the log-probabilities of the answer letter where it can read them, else the
letter parsed from its text (1.0, 0.0, or None when there is no letter). The labeller, not the
judge, swaps the order of the options, averages, and caches.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, Protocol

Reading = Literal["logprobs", "text"]


@dataclass(frozen=True)
class JudgeRequest:
    prompt: str
    """The user message: the multiple-choice comparison and how to answer."""
    reason_first: bool = False
    sample: int = 0
    """Which sample this is (self-consistency): with temperature > 0 each is a fresh draw."""


@dataclass(frozen=True)
class JudgeReply:
    p_a: float | None
    """P(option A is better); None when the judge gave no readable answer."""
    reading: Reading
    text: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    """How long the call took (kept in the cache, so a resumed run still knows what it cost)."""


class Judge(Protocol):
    name: str
    """The judge's identity in the call cache: the same name must mean the same answers."""

    def __call__(self, request: JudgeRequest) -> JudgeReply: ...

    def close(self) -> None:
        """Releases connections; the judge is not called after this."""


LETTER_AT_END = re.compile(r"answer is:?\s*\(?\s*([AB])\b", re.IGNORECASE)
LETTER_ANYWHERE = re.compile(r"\(([AB])\)|^\s*([AB])\b")


def letter_of_text(text: str) -> str | None:
    """The chosen letter: the last 'The answer is: (X)', else the first '(X)' or a leading X."""
    final = LETTER_AT_END.findall(text)
    if final:
        return str(final[-1]).upper()
    found = LETTER_ANYWHERE.search(text)
    if found is None:
        return None
    return (found.group(1) or found.group(2)).upper()


def p_a_of_text(text: str) -> float | None:
    letter = letter_of_text(text)
    return None if letter is None else float(letter == "A")


def p_a_of_logprobs(logprob_a: float | None, logprob_b: float | None) -> float | None:
    """P(A) normalised over the two letters; a letter missing from the top list counts as
    impossible beside the other, and None when neither is there."""
    if logprob_a is None and logprob_b is None:
        return None
    if logprob_a is None:
        return 0.0
    if logprob_b is None:
        return 1.0
    return 1.0 / (1.0 + math.exp(logprob_b - logprob_a))
