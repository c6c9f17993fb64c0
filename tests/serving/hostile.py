"""Hostile request bodies for the reward server's routes, as hypothesis strategies.

Each example is a ``Hostile``: the route, the raw bytes, and what the server must answer: a
valid body with unusual text (non-BMP characters, valid surrogate pairs, NUL) must score (200);
a body whose strings are valid JSON but not text (lone surrogates) must be 422 naming the
problem; broken JSON must be 422; everything else only has to stay out of 5xx. The same bodies
go to the FastAPI app and the Ray Serve deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


@dataclass(frozen=True)
class Hostile:
    kind: str
    route: str
    body: bytes
    expect: int | None = None
    """The status the server must answer; None: anything but a 5xx."""

    def __repr__(self) -> str:  # short, for failure messages
        return f"Hostile({self.kind}, {self.route}, {self.body[:80]!r}, expect={self.expect})"


ROUTES = ("/score", "/get_reward")
# short, so every item stays within a tiny model's 64 tokens whatever the tokenizer makes of it
valid_text = st.text(st.characters(codec="utf-8"), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)


def dumps(value: Any) -> bytes:
    """JSON as ASCII: non-BMP characters and lone surrogates become \\uXXXX escapes (the way a
    Python or JavaScript client sends them)."""
    return json.dumps(value, ensure_ascii=True).encode()


def body_for(route: str, prompt: Any, response: Any) -> dict[str, Any]:
    if route == "/score":
        return {"items": [{"prompt": prompt, "response": response}]}
    return {"query": [response], "prompts": [prompt]}


@st.composite
def unusual_but_valid(draw: st.DrawFn) -> Hostile:
    """Valid text that is rare on the wire: emoji and other non-BMP characters (escaped as a
    surrogate pair, or sent as raw UTF-8), NUL, chat messages; all of it must score."""
    route = draw(st.sampled_from(ROUTES))
    text = draw(valid_text) + draw(st.sampled_from(["", "\x00", "\U0001f600", "\U00010348"]))
    response = draw(valid_text) + draw(st.sampled_from(["\U0001f680", "\x00", "a\U0010fffd"]))
    chat = route == "/score" and draw(st.booleans())
    prompt: Any = [{"role": "user", "content": text}] if chat else text
    raw_utf8 = draw(st.booleans())
    body = body_for(route, prompt, response)
    data = json.dumps(body, ensure_ascii=False).encode() if raw_utf8 else dumps(body)
    return Hostile("valid", route, data, 200)


@st.composite
def lone_surrogate(draw: st.DrawFn) -> Hostile:
    """One high (D800-DBFF) or low (DC00-DFFF) surrogate alone, anywhere in one text field: valid
    JSON, not text. One half alone leaves an odd count of halves, so at least one is unpaired
    whatever the text around it."""
    route = draw(st.sampled_from(ROUTES))
    half = chr(draw(st.integers(0xD800, 0xDFFF)))
    text = draw(valid_text)
    cut = draw(st.integers(0, len(text)))
    bad = text[:cut] + half + text[cut:]
    where = draw(st.sampled_from(["prompt", "response", "chat"] if route == "/score" else
                                 ["prompt", "response", "label"]))  # fmt: skip
    if where == "chat":
        body = body_for(route, [{"role": "user", "content": bad}], "r")
    elif where == "label":
        body = {"query": ["q"], "labels": [bad]}
    else:
        body = body_for(
            route, bad if where == "prompt" else "p", bad if where == "response" else "r"
        )
    return Hostile(f"lone surrogate in {where}", route, dumps(body), 422)


@st.composite
def broken_json(draw: st.DrawFn) -> Hostile:
    """Invalid escapes (\\x, a short \\u), a raw control character in a string, truncation, an
    empty body: the JSON parser refuses them (422)."""
    route = draw(st.sampled_from(ROUTES))
    valid = dumps(body_for(route, draw(valid_text), draw(valid_text) + "END"))
    how = draw(st.sampled_from(["escape", "truncated", "empty", "control"]))
    if how == "escape":  # just before the closing quote, so no text can complete the escape
        escape = draw(st.sampled_from([b"\\x41", b"\\u12", b"\\u12G4", b"\\uZZZZ", b"\\", b"\\q"]))
        data = valid.replace(b'END"', b"END" + escape + b'"', 1)
    elif how == "truncated":
        data = valid[: draw(st.integers(1, len(valid) - 1))]
    elif how == "control":
        data = valid.replace(b'"prompt', b'"\x00prompt', 1).replace(b'["', b'["\x01', 1)
    else:
        data = b""
    return Hostile(f"broken json ({how})", route, data, 422)


@st.composite
def odd_json(draw: st.DrawFn) -> Hostile:
    """JSON that parses but stretches the parser or the schema: huge numbers (1e400 is inf,
    10**1000 a 1001-digit int, 10**5000 past Python's digit limit), duplicate keys, deep
    nesting, wrong types, any JSON value. No promise but: not a 5xx."""
    route = draw(st.sampled_from(ROUTES))
    ok = dumps(body_for(route, "p", "r"))[1:-1]
    depth = draw(st.integers(1, 50_000))
    number = draw(st.sampled_from([b"1e400", b"-1e400", b"1" + b"0" * 1000, b"9" * 5000, b"NaN"]))
    data = draw(
        st.sampled_from(
            [
                b'{"items": ' + number + b"}",
                b'{"query": [' + number + b"], " + b'"labels": [' + number + b"]}",
                b'{"query": ["q"], "labels": [' + number + b"]}",
                b"{" + ok + b", " + ok + b"}",  # duplicate keys: the last one wins
                b'{"items": ' + b"[" * depth + b"]" * depth + b"}",
                b"[" * depth + b"]" * depth,
                b'{"items": [{"prompt": ' + b"[" * depth + b"]" * depth + b', "response": "r"}]}',
                number,
            ]
        )
    )
    if draw(st.booleans()):
        data = (
            dumps(draw(json_values))
            if draw(st.booleans())
            else dumps({"items": draw(json_values), "query": draw(json_values)})
        )
    return Hostile("odd json", route, data)


@st.composite
def not_utf8(draw: st.DrawFn) -> Hostile:
    """Bytes that are not UTF-8: random bytes, or a valid body with an invalid byte inside a
    string (the parser refuses them: 400 or 422)."""
    route = draw(st.sampled_from(ROUTES))
    if draw(st.booleans()):
        data = draw(st.binary(max_size=200))
    else:
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
        data = dumps(body_for(route, "p", "REPLACE")).replace(b"REPLACE", b"a" + bad)
    return Hostile("not utf-8", route, data)


SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
hostile = st.one_of(unusual_but_valid(), lone_surrogate(), broken_json(), odd_json(), not_utf8())


def sample(strategy: st.SearchStrategy[Hostile], n: int) -> list[Hostile]:
    """A fixed list of n examples (the same every run), for a server too slow to start per
    example (Ray)."""
    found: list[Hostile] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=SLOW_OK,
    )
    @given(strategy)
    def collect(example: Hostile) -> None:
        found.append(example)

    collect()
    return found[:n]


def every_kind(n: int) -> list[Hostile]:
    """n examples with each kind at least a few times."""
    kinds = [unusual_but_valid(), lone_surrogate(), broken_json(), odd_json(), not_utf8()]
    return [example for kind in kinds for example in sample(kind, n // len(kinds))]


KNOWN = [
    Hostile("not json", "/score", b"{not json", 422),
    Hostile("a list", "/score", b"[1, 2, 3]", 422),
    Hostile("wrong type", "/score", b'{"items": "nope"}', 422),
    Hostile("missing field", "/score", b'{"items": [{"prompt": "p"}]}', 422),
    Hostile("extra field", "/score", b'{"items": [{"prompt": "p", "response": "r", "x": 1}]}', 422),
    Hostile(
        "unknown role",
        "/score",
        b'{"items": [{"prompt": [{"role": "god", "content": "x"}], "response": "r"}]}',
        422,
    ),
    Hostile("deep nesting", "/score", b"[" * 50_000 + b"]" * 50_000),
    Hostile(
        "big and wrong",
        "/score",
        json.dumps({"items": [{"prompt": "p" * 400_000, "response": 5}]}).encode(),
        422,
    ),
    Hostile("utf-16 bytes", "/score", b"\xff\xfe\x00"),
    Hostile(
        "lone surrogate in a key", "/score", b'{"items": [{"\\ud800": "p", "response": "r"}]}', 422
    ),
    Hostile(
        "surrogate as raw bytes",
        "/score",
        b'{"items": [{"prompt": "\xed\xa0\x80", "response": "r"}]}',
        422,
    ),
    Hostile(
        "a surrogate pair",
        "/score",
        b'{"items": [{"prompt": "\\ud83d\\ude00", "response": "r"}]}',
        200,
    ),
]
"""Fixed cases, each once: bodies the strategies make rarely or never."""
