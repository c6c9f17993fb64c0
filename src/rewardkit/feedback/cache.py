"""A persistent call cache: every judge reply is appended to a JSONL file and flushed to disk
before the next call, so a killed run and its rerun never pay for the same call twice.

A key is the SHA-256 of (judge, prompt, order, principle, sample). Appending is the only write:
a run killed mid-line leaves at most one torn last line, which loading skips (and the next
append starts on a fresh line).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

from rewardkit.feedback.base import JudgeReply


def call_key(judge: str, prompt: str, order: str, principle: str, sample: int) -> str:
    blob = json.dumps([judge, prompt, order, principle, sample], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.replies: dict[str, JudgeReply] = {}
        self.torn = 0
        """Lines that could not be read back (a run killed while writing one)."""
        if self.path.exists():
            self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.torn:
            self._append("")

    def _load(self) -> None:
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    self.replies[row["key"]] = JudgeReply(**row["reply"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.torn += 1

    def get(self, key: str) -> JudgeReply | None:
        return self.replies.get(key)

    def put(self, key: str, reply: JudgeReply) -> None:
        self.replies[key] = reply
        self._append(json.dumps({"key": key, "reply": asdict(reply)}, ensure_ascii=False))

    def _append(self, line: str) -> None:
        # Opened per call: a call costs far more than an open, and nothing stays open to leak.
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    def __len__(self) -> int:
        return len(self.replies)
