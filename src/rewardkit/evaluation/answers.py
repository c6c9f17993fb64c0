"""Final answers out of worked solutions, normalised so that equal answers compare equal.

- ``gsm8k``: the number after GSM8K's ``####`` (or a final ``A:`` line, as in OpenAI's example
  model solutions, or "The answer is ..."), without ``$``, thousands separators or a trailing
  period; integral values print as integers (``18.00`` is ``18``).
- ``math``: the content of the last ``\\boxed{...}`` (or ``\\fbox{...}``), normalised as the
  MATH dataset's own checker does (Hendrycks et al. 2021, ``is_equiv``): no spaces, ``\\left``,
  ``\\right``, units in ``\\text{...}``, degrees or dollars; ``dfrac``/``tfrac`` are ``frac``;
  ``\\frac12`` and ``1/2`` are ``\\frac{1}{2}``; ``0.5`` is ``\\frac{1}{2}``; ``x = 3`` is ``3``.

    answer("... #### 1,234", "gsm8k")          # '1234'
    answer("so $\\boxed{\\dfrac{1}{2}}$.", "math")  # '\\frac{1}{2}'
    is_correct(response, gold, "math")         # gold: a bare answer or a whole solution
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

AnswerStyle = Literal["gsm8k", "math"]

_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+")


def _plain_number(text: str) -> str:
    """'$1,234.00.' -> '1234'; text that is no number is returned stripped."""
    cleaned = text.strip().rstrip(".").replace("$", "").replace(",", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return cleaned
    return str(int(value)) if value.is_integer() else repr(value)


def gsm8k_answer(text: str) -> str | None:
    if "####" in text:
        return _plain_number(text.rsplit("####", 1)[1].strip().split("\n")[0])
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines and lines[-1].startswith("A:"):
        return _plain_number(lines[-1][2:])
    said = re.findall(r"answer is:?\s*\$?(" + _NUMBER.pattern + ")", text, flags=re.IGNORECASE)
    return _plain_number(said[-1]) if said else None


def boxed_content(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``/``\\fbox{...}``, braces matched; None if none."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    open_at = text.find("{", start)
    if open_at < 0:  # '\\boxed 5'
        rest = text[start:].split(" ", 1)
        return rest[1].split("$")[0].strip() if len(rest) == 2 else None
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_at + 1 : i]
    return None


def _fix_fracs(text: str) -> str:
    """'\\frac12' -> '\\frac{1}{2}', '\\frac1{2}' -> '\\frac{1}{2}'."""
    head, *parts = text.split("\\frac")
    out = head
    for part in parts:
        out += "\\frac"
        if part.startswith("{") or len(part) < 2:
            out += part
            continue
        a, b, rest = part[0], part[1], part[2:]
        out += "{" + a + "}" + (b + rest if b == "{" else "{" + b + "}" + rest)
    return out


def _slash_fraction(text: str) -> str:
    match = re.fullmatch(r"(-?\d+)/(\d+)", text)
    return f"\\frac{{{match.group(1)}}}{{{match.group(2)}}}" if match else text


def normalize_math(answer: str) -> str:
    text = answer.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    text = text.replace("tfrac", "frac").replace("dfrac", "frac")
    text = text.replace("\\left", "").replace("\\right", "")
    text = text.replace("^{\\circ}", "").replace("^\\circ", "")
    text = text.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    text = re.sub(r"\\text\{\s*[a-zA-Z ]*\}$", "", text.strip())  # a trailing unit
    text = re.sub(r"\\(?:text|mbox|mathrm)\{([^{}]*)\}", r"\1", text)
    text = text.replace(" .", " 0.").replace("{.", "{0.")
    if text.startswith("."):
        text = "0" + text
    left, eq, right = text.partition("=")
    if eq and len(left.strip()) <= 2 and "=" not in right:
        text = right
    text = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text)
    text = text.replace(" ", "").rstrip(".")
    text = _fix_fracs(text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    return (
        _plain_number(_slash_fraction(text)) if _NUMBER.fullmatch(text) else _slash_fraction(text)
    )


def math_answer(text: str) -> str | None:
    boxed = boxed_content(text)
    return None if boxed is None else normalize_math(boxed)


EXTRACTORS: dict[str, Callable[[str], str | None]] = {"gsm8k": gsm8k_answer, "math": math_answer}
NORMALIZERS: dict[str, Callable[[str], str]] = {"gsm8k": _plain_number, "math": normalize_math}


def answer(text: str, style: AnswerStyle) -> str | None:
    """A solution's normalised final answer, None when it states none."""
    if style not in EXTRACTORS:
        raise ValueError(f"unknown answer style {style!r}; known: {', '.join(EXTRACTORS)}")
    return EXTRACTORS[style](text)


def gold_answer(gold: str, style: AnswerStyle) -> str:
    """The gold as a normalised answer: extracted from a whole solution, or normalised as is."""
    found = answer(gold, style)
    return found if found is not None else NORMALIZERS[style](gold)


def is_correct(response: str, gold: str, style: AnswerStyle) -> bool:
    found = answer(response, style)
    return found is not None and found == gold_answer(gold, style)
