"""How a (prompt, response) becomes the token ids a reward model reads.

- Encoders (BERT-like): the tokenizer's sentence-pair encoding, ``[CLS] prompt [SEP] response
  [SEP]``, so the model sees where the response starts (and, for BERT, segment ids mark it).
- Decoders: the prompt's tokens, then the response's tokens, then an end-of-sequence token, at
  which the reward is read. Prompt and response are tokenized apart, so the prompt is an exact
  token prefix that chosen and rejected share (and can be encoded once). Conversational data
  goes through the tokenizer's chat template; the prompt part is the templated prompt with the
  generation prompt, when the full conversation starts with it.

Per-step heads read one output at the end of each step: a response is its steps, each followed by
the step marker (``"\n"`` by default), tokenized step by step so that each step's last token is
known exactly (``Encoded.marks``).

Nothing is ever truncated here: callers compare the length with their limit and report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rewardkit.records import Text, render_text, text_to_json

InputStyle = Literal["pair", "concat"]


class UnscorableText(ValueError):
    """A text a head cannot read: e.g. a response with no step for a per-step head."""


@dataclass(frozen=True)
class Encoded:
    prefix: list[int]
    """The shared prefix: for decoders, the prompt's tokens; empty when nothing can be shared."""
    rest: list[int]
    """The rest of the sequence."""
    marks: tuple[int, ...] | None = None
    """Per-step reads: the position in ``rest`` of each step's last token."""

    @property
    def ids(self) -> list[int]:
        return self.prefix + self.rest


def encode(tokenizer: Any, style: InputStyle, prompt: Text, response: Text) -> Encoded:
    if style == "pair":
        ids = tokenizer(
            render_text(prompt), render_text(response), truncation=False, verbose=False
        )["input_ids"]
        return Encoded([], list(ids))
    if not isinstance(prompt, str) and not isinstance(response, str) and tokenizer.chat_template:
        return _chat(tokenizer, prompt, response)
    head = list(tokenizer(render_text(prompt), truncation=False, verbose=False)["input_ids"])
    tail = list(
        tokenizer(render_text(response), add_special_tokens=False, truncation=False, verbose=False)[
            "input_ids"
        ]
    )
    eos = tokenizer.eos_token_id
    if eos is not None and (not tail or tail[-1] != eos):
        tail.append(eos)
    return Encoded(head, tail)


def _chat(tokenizer: Any, prompt: Text, response: Text) -> Encoded:
    messages = text_to_json(prompt) + text_to_json(response)  # type: ignore[operator]
    full = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False))
    head = list(
        tokenizer.apply_chat_template(
            text_to_json(prompt), tokenize=True, return_dict=False, add_generation_prompt=True
        )
    )
    if full[: len(head)] == head and len(head) < len(full):
        return Encoded(head, full[len(head) :])
    return Encoded([], full)


def split_steps(response: Text, marker: str) -> list[str]:
    """A response's steps: its text cut at each marker, empty pieces dropped."""
    return [step for step in render_text(response).split(marker) if step.strip()]


def encode_steps(
    tokenizer: Any, style: InputStyle, prompt: Text, steps: list[str], marker: str
) -> Encoded:
    """The prompt, then each step followed by the marker, with the position of each step's last
    token; encoders close the sequence with their separator as a sentence pair would."""
    if not steps:
        raise UnscorableText(f"no steps: a per-step head reads text cut into steps by {marker!r}")
    head = list(tokenizer(render_text(prompt), truncation=False, verbose=False)["input_ids"])
    rest: list[int] = []
    marks: list[int] = []
    for step in steps:
        piece = tokenizer(step + marker, add_special_tokens=False, verbose=False)["input_ids"]
        if not piece:
            raise UnscorableText(f"step {len(marks)} has no tokens: {step[:40]!r}")
        rest += piece
        marks.append(len(rest) - 1)
    if style == "pair":
        if tokenizer.sep_token_id is not None:
            rest.append(tokenizer.sep_token_id)
        return Encoded([], head + rest, tuple(m + len(head) for m in marks))
    return Encoded(head, rest, tuple(marks))
