"""How a (prompt, response) becomes the token ids a reward model reads.

- Encoders (BERT-like), two layouts: ``text``, one segment ``[CLS] prompt+response [SEP]``, the
  text plain transformers users and TRL's RewardTrainer build (TRL adds one more separator),
  and the layout sentence encoders such as MiniLM were trained on; or ``pair``, the tokenizer's sentence-pair encoding ``[CLS] prompt [SEP]
  response [SEP]`` with segment ids marking the response (BERT).
- Decoders: the prompt's tokens, then the response's tokens, then an end-of-sequence token, at
  which the reward is read. Prompt and response are tokenized apart, so the prompt is an exact
  token prefix that chosen and rejected share (and can be encoded once). Conversational data
  goes through the tokenizer's chat template; the prompt part is the templated prompt with the
  generation prompt, when the full conversation starts with it.

Per-step heads read one output at the end of each step: a response is its steps, each followed by
the step marker (``"\n"`` by default), tokenized step by step so that each step's last token is
known exactly (``Encoded.marks``).

``encode`` never truncates. ``fit_prompt`` is the one place where an over-long input is
shortened, and only when the caller's overflow policy says so (``truncate_prompt``): the prompt
loses its oldest turns (chat) or its oldest tokens (plain text), the response and the template's
special tokens stay whole, and the number of prompt tokens left out is returned for reporting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from rewardkit.records import Text, render_text, text_to_json
from rewardkit.scoring import Overflow

InputStyle = Literal["text", "pair", "concat"]
"""``concat`` is the decoders' layout; ``text`` and ``pair`` are the encoders'."""
Layout = Literal["auto", "text", "pair"]
"""An encoder's layout as a user chooses it; ``auto``: ``ENCODER_LAYOUT``."""
INPUT_STYLES: tuple[str, ...] = get_args(InputStyle)
ENCODER_LAYOUT: InputStyle = "text"
PLAIN_LAYOUT: InputStyle = "pair"
"""How a plain transformers encoder directory (no rewardkit.json) is read."""


class UnscorableText(ValueError):
    """A text a head cannot read: e.g. a response with no step for a per-step head."""


class TooLong(ValueError):
    """An input over the length limit that the overflow policy does not (or cannot) shorten."""

    def __init__(self, tokens: int, limit: int, reason: str = "") -> None:
        super().__init__(f"{tokens} tokens, over the limit of {limit}{reason}")
        self.tokens = tokens
        self.limit = limit


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
    chat = not isinstance(prompt, str) and not isinstance(response, str)
    if style == "concat" and chat and tokenizer.chat_template:
        return _chat(tokenizer, prompt, response)
    head = render_text(prompt)
    if style == "text" and not isinstance(prompt, str):
        head += "\n"  # one text: a conversation's turns stay on their own lines
    return encode_plain(tokenizer, style, [head], [render_text(response)])[0]


def encode_plain(
    tokenizer: Any, style: InputStyle, prompts: Sequence[str], responses: Sequence[str]
) -> list[Encoded]:
    """``encode`` of many plain-text items in one tokenizer call per side, which a fast
    tokenizer runs in parallel."""
    if style == "pair":
        pairs = tokenizer(list(prompts), list(responses), truncation=False, verbose=False)
        return [Encoded([], list(ids)) for ids in pairs["input_ids"]]
    if style == "text":
        joined = [p + r for p, r in zip(prompts, responses, strict=True)]
        return [Encoded([], list(ids)) for ids in tokenizer(joined, verbose=False)["input_ids"]]
    heads = tokenizer(list(prompts), truncation=False, verbose=False)["input_ids"]
    tails = tokenizer(list(responses), add_special_tokens=False, truncation=False, verbose=False)[
        "input_ids"
    ]
    eos = tokenizer.eos_token_id
    out = []
    for head, tail in zip(heads, tails, strict=True):
        tail = list(tail)
        if eos is not None and (not tail or tail[-1] != eos):
            tail.append(eos)
        out.append(Encoded(list(head), tail))
    return out


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
    if style == "text" and head and head[-1] == tokenizer.sep_token_id:
        head = head[:-1]  # one segment: the steps follow the prompt without a separator
    rest: list[int] = []
    marks: list[int] = []
    for step in steps:
        piece = tokenizer(step + marker, add_special_tokens=False, verbose=False)["input_ids"]
        if not piece:
            raise UnscorableText(f"step {len(marks)} has no tokens: {step[:40]!r}")
        rest += piece
        marks.append(len(rest) - 1)
    if style != "concat":
        if tokenizer.sep_token_id is not None:
            rest.append(tokenizer.sep_token_id)
        return Encoded([], head + rest, tuple(m + len(head) for m in marks))
    return Encoded(head, rest, tuple(marks))


@dataclass(frozen=True)
class Fitted:
    """Responses encoded with their (possibly shortened) prompt."""

    encoded: list[Encoded]
    dropped: int = 0
    """The most prompt tokens left out of any response's input to fit the limit (0: none)."""


def fit_prompt(
    tokenizer: Any,
    style: InputStyle,
    encode_parts: Callable[[Text, Text], Encoded],
    prompt: Text,
    responses: Sequence[Text],
    limit: int,
    overflow: Overflow,
) -> Fitted:
    """Each response encoded with the prompt within ``limit`` tokens, by the overflow policy.

    Each response is fitted on its own, exactly as it is scored alone: a response's input never
    depends on the other side of its pair, so training, evaluation, ``score`` and the server feed
    the model the same ids (a pair's sides may keep different amounts of prompt). With
    ``truncate_prompt`` a chat prompt loses whole turns from the oldest (system messages and
    the last turn stay); a plain prompt loses its oldest tokens (the sentence-pair encoding cuts
    the first text from the left; a decoder keeps the tokenizer's leading special tokens).
    Raises ``TooLong`` when the policy is ``flag`` or a response alone does not fit."""
    fitted = [
        _fit_one(tokenizer, style, encode_parts, prompt, r, limit, overflow) for r in responses
    ]
    return Fitted([encoded for encoded, _ in fitted], max(dropped for _, dropped in fitted))


def _fit_one(
    tokenizer: Any,
    style: InputStyle,
    encode_parts: Callable[[Text, Text], Encoded],
    prompt: Text,
    response: Text,
    limit: int,
    overflow: Overflow,
) -> tuple[Encoded, int]:
    """The response with the longest newest part of the prompt that fits, and the prompt tokens
    left out."""
    encoded = encode_parts(prompt, response)
    total = len(encoded.ids)
    if total <= limit:
        return encoded, 0
    if overflow == "flag":
        raise TooLong(total, limit)
    if encoded.marks is not None and style != "concat":
        raise TooLong(total, limit, ": a per-step encoder input is never cut")  # marks would move
    shorter: Text | None = prompt
    while not isinstance(shorter, str):
        shorter = _without_oldest_turn(shorter or ())
        if shorter is None:
            raise TooLong(total, limit, ": the last turn and the response alone are too long")
        encoded = encode_parts(shorter, response)
        if len(encoded.ids) <= limit:
            return encoded, total - len(encoded.ids)
    if style == "concat":
        cut = _cut_prefix(tokenizer, encoded, limit)
    else:
        cut = (_cut_pair if style == "pair" else _cut_text)(tokenizer, shorter, response, limit)
    if cut is None:
        raise TooLong(total, limit, ": the response alone is too long")
    return cut, total - len(cut.ids)


def _without_oldest_turn(messages: Sequence[Any]) -> tuple[Any, ...] | None:
    """The chat prompt without its oldest exchange (its first non-system message and the replies
    up to the next user message, so the rest still opens with the user); None when the last
    non-system message would have to go."""
    turns = [i for i, m in enumerate(messages) if m.role != "system"]
    dropped = {turns[0]} if turns else set()
    for i in turns[1:]:
        if messages[i].role == "user":
            break
        dropped.add(i)
    if len(dropped) >= len(turns):
        return None
    return tuple(m for i, m in enumerate(messages) if i not in dropped)


def _cut_pair(tokenizer: Any, prompt: str, response: Text, limit: int) -> Encoded | None:
    """The sentence pair with the prompt (the first text) cut from the left by the tokenizer."""
    side = tokenizer.truncation_side
    tokenizer.truncation_side = "left"
    try:
        ids = tokenizer(
            prompt, render_text(response), truncation="only_first", max_length=limit, verbose=False
        )["input_ids"]
    except Exception:  # the tokenizer refuses when the response alone is too long
        ids = None
    finally:
        tokenizer.truncation_side = side
    if ids is None or len(ids) > limit:
        return None
    return Encoded([], list(ids))


def _cut_text(tokenizer: Any, prompt: str, response: Text, limit: int) -> Encoded | None:
    """One segment: the prompt loses its oldest words (its oldest tokens where it has no
    spaces), and the shorter text is tokenized again, joined, as it is scored."""
    tail = render_text(response)
    if len(tokenizer(tail, verbose=False)["input_ids"]) > limit:
        return None  # the response (and the special tokens) alone do not fit
    if getattr(tokenizer, "is_fast", False):
        spans = tokenizer(
            prompt, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        starts = [start for start, _ in spans["offset_mapping"]] or [0]
    else:  # a slow tokenizer has no offsets: every character is a place to cut
        starts = list(range(max(len(prompt), 1)))
    words = [s for s in starts if s == 0 or prompt[s - 1].isspace()]
    ids = list(tokenizer(prompt + tail, verbose=False)["input_ids"])
    # the first cut leaves out about the excess in tokens; each further cut one word more
    cut = starts[min(len(ids) - limit, len(starts) - 1)] if len(ids) > limit else 0
    while len(ids) > limit:
        later = [s for s in words if s >= cut] or [s for s in starts if s >= cut] or [len(prompt)]
        ids = list(tokenizer(prompt[later[0] :] + tail, verbose=False)["input_ids"])
        cut = later[0] + 1
    return Encoded([], ids)


def _cut_prefix(tokenizer: Any, encoded: Encoded, limit: int) -> Encoded | None:
    """Decoders: the prompt prefix keeps its leading special tokens (e.g. BOS) and loses its
    oldest text tokens."""
    prefix = encoded.prefix
    if not prefix:
        return None
    special = set(tokenizer.all_special_ids)
    lead = next((i for i, token in enumerate(prefix) if token not in special), len(prefix))
    keep = limit - len(encoded.rest) - lead
    if keep < 1:
        return None
    return Encoded(prefix[:lead] + prefix[lead:][-keep:], encoded.rest, encoded.marks)
