"""A written constitution: principles, each asked as the multiple-choice comparison of
Constitutional AI (Bai et al. 2022, "Constitutional AI: Harmlessness from AI Feedback", §4.1):

    Consider the following conversation between a human and an assistant:
    [conversation]
    [principle, e.g. "Which of these assistant responses is less harmful?"]
    Options:
    (A) [response A]
    (B) [response B]
    The answer is: (

The YAML file::

    name: harmless
    principles:
      - name: harm
        question: Which of these assistant responses is less harmful? ...
    reason_first: false          # true: ask for a short reasoning before the answer

A principle may bring its own ``template`` (the placeholders below) instead of the shared one.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rewardkit.records import Text

TEMPLATE = (
    "Consider the following conversation between a human and an assistant:\n"
    "{conversation}\n\n"
    "{question}\n"
    "Options:\n"
    "(A) {response_a}\n"
    "(B) {response_b}\n"
)
PLACEHOLDERS = ("{conversation}", "{question}", "{response_a}", "{response_b}")
ANSWER_PREFIX = "The answer is: ("
"""What the judge's answer starts with: the next token is the letter, read as log-probabilities."""
INSTRUCTION_DIRECT = "Answer with the letter of the better option only: (A) or (B)."
INSTRUCTION_REASON = (
    "Think step by step in a few sentences about the principle, then end with a line "
    "'The answer is: (A)' or 'The answer is: (B)'."
)
SPEAKERS = {"user": "Human", "assistant": "Assistant", "system": "System", "tool": "Tool"}


@dataclass(frozen=True)
class Principle:
    name: str
    question: str
    template: str = TEMPLATE


@dataclass(frozen=True)
class Constitution:
    name: str
    principles: tuple[Principle, ...]
    reason_first: bool = False
    """The judge writes its reasoning before the letter; its labels are then clamped to 40-60%."""

    def principle(self, name: str) -> Principle:
        for p in self.principles:
            if p.name == name:
                return p
        raise KeyError(f"constitution {self.name!r} has no principle {name!r}")

    def choose(self, key: str, per_pair: int, seed: int) -> tuple[Principle, ...]:
        """The principles a pair is judged by: all of them (``per_pair`` 0 or more than there
        are), else ``per_pair`` drawn at random, the same for the same pair key and seed."""
        if per_pair <= 0 or per_pair >= len(self.principles):
            return self.principles
        rng = random.Random(f"{seed}:{key}")
        return tuple(rng.sample(self.principles, per_pair))


def render_conversation(text: Text) -> str:
    """A prompt as the hh-rlhf style transcript the CAI prompts use (Human: / Assistant:)."""
    if isinstance(text, str):
        return text.strip()
    return "\n\n".join(f"{SPEAKERS[m.role]}: {m.content.strip()}" for m in text)


def comparison_prompt(
    principle: Principle, prompt: Text, response_a: Text, response_b: Text, reason_first: bool
) -> str:
    """The user message a judge answers: the multiple-choice question and how to answer it."""
    body = principle.template.format(
        conversation=render_conversation(prompt),
        question=principle.question.strip(),
        response_a=render_conversation(response_a),
        response_b=render_conversation(response_b),
    )
    return body + "\n" + (INSTRUCTION_REASON if reason_first else INSTRUCTION_DIRECT)


def load_constitution(path: str | Path) -> Constitution:
    """Reads and checks a constitution YAML; every error names the file and the field."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: cannot read the constitution: {err}") from None
    return parse_constitution(document, str(path))


def parse_constitution(document: Any, where: str) -> Constitution:
    if not isinstance(document, Mapping):
        raise ValueError(f"{where}: expected a mapping with 'principles', got {type(document)}")
    unknown = set(document) - {"name", "principles", "reason_first"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    items = document.get("principles")
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise ValueError(f"{where}: 'principles' must be a non-empty list")
    principles = tuple(
        _principle(item, f"{where}: principles[{i}]") for i, item in enumerate(items)
    )
    names = [p.name for p in principles]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: principle names repeat: {names}")
    reason_first = document.get("reason_first", False)
    if not isinstance(reason_first, bool):
        raise ValueError(f"{where}: 'reason_first' must be true or false")
    return Constitution(str(document.get("name", Path(where).stem)), principles, reason_first)


def _principle(item: Any, where: str) -> Principle:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a mapping with 'name' and 'question'")
    unknown = set(item) - {"name", "question", "template"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "question"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ValueError(f"{where}.{key}: a non-empty string is required")
    template = item.get("template", TEMPLATE)
    if not isinstance(template, str):
        raise ValueError(f"{where}.template: expected a string")
    missing = [p for p in PLACEHOLDERS if p not in template]
    if missing:
        raise ValueError(f"{where}.template: missing placeholders {missing}")
    return Principle(item["name"], item["question"], template)
