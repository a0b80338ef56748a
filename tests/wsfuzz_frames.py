"""Hypothesis strategies of websocket frames: what a careless or hostile client sends.

A frame is ("text", str) or ("bytes", bytes). Each socket draws a script: an opening (valid or
not), fuzzed frames built from its own valid frames (wrong types, missing or unknown fields,
unknown message types) and from generic junk (malformed or deeply nested JSON, huge strings,
binary where text is expected, unicode edge cases), then an ending: a probe the socket must
answer, or an early close by the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hypothesis import strategies as st

Frame = tuple[str, str | bytes]
# A zero-width joiner, a right-to-left override, a BOM, NUL, a line separator, a non-BMP emoji, a
# combining accent, a noncharacter, a case-folding trap: text that breaks naive length or ASCII checks.
UNICODE_EDGES = ["\u200d", "\u202e", "\ufeff", "\x00", "\u2028", "\U0001f4b3", "e\u0301", "\uffff", "\u0130", "\U0010fffd"]
BROKEN_JSON = ['{', '}', '[', '{"type":', '{"type": "message", ', 'null', '[]', '""', '1e999', '-', 'NaN', 'true',
               '{"a":}', "{'type': 'x'}", '{"type": "message"}}', '\ufeff{}', '{"type": 1, "type": "resume"}']

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def _dumps(value) -> str:
    return json.dumps(value, allow_nan=True)


def unicode_text() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(UNICODE_EDGES) | st.text(max_size=8), min_size=1, max_size=12).map("".join)


def huge_text() -> st.SearchStrategy[str]:
    """Strings of 10 kB to 2 MB (past every documented frame limit, under the server's 16 MB)."""
    return st.tuples(st.sampled_from(["a", "\u00e9", "\U0001f4b3", " ", "{", "4111 "]),
                     st.integers(10_000, 2_000_000)).map(lambda t: t[0] * (t[1] // len(t[0].encode())))


def deep_json() -> st.SearchStrategy[str]:
    """JSON nested 100 to 100,000 levels (a recursive parser's stack, a validator's recursion)."""
    return st.tuples(st.sampled_from(['[', '{"a":', '{"type":']), st.integers(100, 100_000)).map(
        lambda t: t[0] * t[1] + ("1" if t[0] == "[" else '"x"') + ("]" if t[0] == "[" else "}") * t[1])


def junk_text() -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=200), st.sampled_from(BROKEN_JSON), unicode_text(), huge_text(), deep_json(),
                     json_values.map(_dumps))


def junk_bytes() -> st.SearchStrategy[bytes]:
    return st.binary(max_size=2_000) | st.integers(60_000, 300_000).map(lambda n: b"\x01" * n) | st.just(b"")


def mutated(template: dict) -> st.SearchStrategy[dict]:
    """A valid frame with one field's value of another type, a field dropped, or a field added."""
    keys = sorted(template)
    retyped = st.tuples(st.sampled_from(keys), json_values).map(lambda kv: {**template, kv[0]: kv[1]})
    dropped = st.sampled_from(keys).map(lambda k: {x: v for x, v in template.items() if x != k})
    added = st.tuples(st.text(min_size=1, max_size=12), json_values).map(lambda kv: {**template, kv[0]: kv[1]})
    texts = st.tuples(st.sampled_from(keys), unicode_text() | huge_text()).map(lambda kv: {**template, kv[0]: kv[1]})
    return st.one_of(retyped, dropped, added, texts)


def fuzzed_frames(valid: list[dict], *, binary: st.SearchStrategy[bytes] | None = None) -> st.SearchStrategy[Frame]:
    """One frame: a valid one, a mutated valid one, an unknown type, generic junk, or binary."""
    as_text = st.sampled_from(valid).flatmap(mutated) | st.sampled_from(valid)
    unknown = st.tuples(st.sampled_from(valid), json_values | st.text(max_size=20)).map(
        lambda t: {**t[0], "type": t[1], "event": t[1]})
    texts = st.one_of(as_text.map(_dumps), unknown.map(_dumps), junk_text())
    binary = junk_bytes() if binary is None else binary
    return st.one_of(texts.map(lambda t: ("text", t)), binary.map(lambda b: ("bytes", b)))


@dataclass
class Script:
    opening: list[Frame]
    frames: list[Frame]
    close_code: int | None  # the client closes early with this code; None: it sends the probe instead
    query: dict = field(default_factory=dict)

    def describe(self) -> str:
        def short(f: Frame) -> str:
            data = f[1]
            return f"{f[0]}[{len(data)}]" + (f":{data[:40]!r}" if len(data) <= 80 else "")
        return (f"query={self.query} opening={[short(f) for f in self.opening]} frames={[short(f) for f in self.frames]} "
                f"close={self.close_code}")


CLIENT_CLOSE_CODES = st.sampled_from([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 3000, 4000, 4999])


def scripts(openings: st.SearchStrategy[list[Frame]], frames: st.SearchStrategy[Frame], *,
            query: st.SearchStrategy[dict] | None = None, max_frames: int = 6) -> st.SearchStrategy[Script]:
    """A script: its opening, up to `max_frames` fuzzed frames, and a probe (3 in 4) or an early close."""
    ending = st.sampled_from(["probe", "probe", "probe", "close"]).flatmap(
        lambda e: st.none() if e == "probe" else CLIENT_CLOSE_CODES)
    return st.builds(Script, openings, st.lists(frames, max_size=max_frames), ending,
                     st.just({}) if query is None else query)
