"""Split by prompt: every item of a prompt lands on the same side, so no prompt leaks into eval.

The side is a seeded hash of the prompt text, so the split streams, needs no memory, and gives
the same answer for the same prompt in any file and any order.
"""

from __future__ import annotations

import hashlib

from rewardkit.records import Record, render_text


def prompt_bucket(record: Record, seed: int = 0) -> float:
    """A number in [0, 1) fixed by the prompt and the seed."""
    prompt = render_text(getattr(record, "prompt", ""))
    digest = hashlib.blake2b(f"{seed}\x00{prompt}".encode("utf-8", "surrogatepass"), digest_size=8)
    return int.from_bytes(digest.digest(), "little") / 2**64


def is_eval(record: Record, eval_fraction: float, seed: int = 0) -> bool:
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    return prompt_bucket(record, seed) < eval_fraction
