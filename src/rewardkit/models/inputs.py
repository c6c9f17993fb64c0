"""How a (prompt, response) becomes the token ids a reward model reads.

- Encoders (BERT-like, no chat template): the tokenizer's sentence-pair encoding,
  ``[CLS] prompt [SEP] response [SEP]``, so the model sees where the response starts.
- Decoders: conversational data goes through the tokenizer's chat template; plain text is
  prompt + response, then an end-of-sequence token, whose position the reward is read at.

Nothing is ever truncated here: callers compare the length with their limit and report.
"""

from __future__ import annotations

from typing import Any, Literal

from rewardkit.records import Text, render_text, text_to_json

InputStyle = Literal["pair", "concat"]


def encode(tokenizer: Any, style: InputStyle, prompt: Text, response: Text) -> list[int]:
    if style == "pair":
        ids = tokenizer(
            render_text(prompt), render_text(response), truncation=False, verbose=False
        )["input_ids"]
        return list(ids)
    if not isinstance(prompt, str) and not isinstance(response, str) and tokenizer.chat_template:
        messages = text_to_json(prompt) + text_to_json(response)  # type: ignore[operator]
        ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)
        return list(ids)
    ids = list(
        tokenizer(render_text(prompt) + render_text(response), truncation=False, verbose=False)[
            "input_ids"
        ]
    )
    eos = tokenizer.eos_token_id
    if eos is not None and (not ids or ids[-1] != eos):
        ids.append(eos)
    return ids
