"""The ways a message can hide its words from a pattern, undone: the readings a guardrail screens.

A rule that looks for "ignore ... instructions" must also see it in "ｉｇｎｏｒｅ" (full-width),
"іgnоrе" (Cyrillic look-alikes), "ig\u200bnore" (zero-width), "1gn0r3" (leetspeak), "i g n o r e",
"ignore-all_previous", rot13, reversed text, and base64, hex, URL or HTML-entity encodings, and in
text smuggled in invisible Unicode tag characters. `readings(text)` returns the message in each of
those forms that differs from it; every transform is a single pass over at most MAX_CHARS characters.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
from urllib.parse import unquote

MAX_CHARS = 4000  # a chat message's limit (assistant/api/schemas.py); longer text is read up to here
_TAGS = range(0xE0020, 0xE007F)  # invisible "tag" characters that mirror ASCII
# Cyrillic and Greek letters drawn like Latin ones (Unicode confusables, the common subset).
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y", "Һ": "H", "Ԁ": "D",
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "υ": "u", "κ": "k", "ρ": "p", "τ": "t", "χ": "x", "ε": "e", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
                       "!": "i", "|": "l", "+": "t"})
_LEET_CHARS = frozenset("013457@$!|+8")
_TOKEN = re.compile(r"[\w@$!|+]+")
_SPLIT = re.compile(r"([ .,;:!?\-_*/]+)")  # "i g n o r e", "s.y.s.t.e.m": one letter, one separator, ...
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"[0-9a-fA-F]{16,}")
_MORSE = re.compile(r"(?:[.\-]{1,6}[ /]+){4,}[.\-]{1,6}")
_NON_WORD = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
_MORSE_CODE = {".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h",
               "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p",
               "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x",
               "-.--": "y", "--..": "z"}
# A message that says it is encoded: then every Caesar shift is read too ("decode with shift 3: ...").
_CIPHER_CUE = re.compile(r"\b(?:caesar|cipher|shift(?:ed)?\s+(?:by\s+)?\d+|rot-?\d+|decode|decrypt|encoded)\b", re.I)


def visible(text: str) -> str:
    """What a reader sees: compatibility forms folded (full-width, mathematical letters, ligatures) and
    invisible format characters dropped (zero-width spaces and joiners, soft hyphens, bidi controls, tags)."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _tags(text: str) -> str:
    return "".join(chr(ord(c) - 0xE0000) for c in text if ord(c) in _TAGS)


def _despaced(text: str) -> str:
    """Runs of 3+ single letters, each followed by the same separator, joined: "i g n o r e   a l l" -> "ignore all"."""
    parts = _SPLIT.split(text)
    words, seps = parts[0::2], parts[1::2]
    out, i = [], 0
    while i < len(words):
        j = i
        if len(words[i]) == 1:
            while j + 1 < len(words) and len(words[j + 1]) == 1 and seps[j] == seps[i]:
                j += 1
        out.append("".join(words[i : j + 1]) if j - i >= 2 else " ".join(words[i : j + 1]))
        i = j + 1
    return " ".join(w for w in out if w)


def _deleet(text: str) -> str:
    """Words that mix letters with digits or symbols read as letters: "1gn0r3" -> "ignore", "$ystem" -> "system";
    a number alone ("$500", "4821") stays as it is."""
    def word(m: re.Match) -> str:
        w = m.group(0)
        return w.translate(_LEET) if any(c.isalpha() for c in w) and any(c in _LEET_CHARS for c in w) else w

    return _TOKEN.sub(word, text)


def _printable(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return text if text and letters >= 0.8 * len(text) else None


def _decoded(text: str) -> list[str]:
    """Base64 (standard or URL-safe), hex, URL-encoded and HTML-entity runs, decoded."""
    out = []
    for m in _BASE64.finditer(text):
        run = m.group(0).replace("-", "+").replace("_", "/").rstrip("=")
        try:
            found = _printable(base64.b64decode(run + "=" * (-len(run) % 4)))
        except (binascii.Error, ValueError):
            found = None
        if found:
            out.append(found)
    out += [s for s in (_printable(bytes.fromhex(m.group(0)[: len(m.group(0)) // 2 * 2])) for m in _HEX.finditer(text)) if s]
    if "%" in text:
        out.append(unquote(text))
    if "&" in text and ";" in text:
        out.append(html.unescape(text))
    morse = [" ".join("".join(_MORSE_CODE.get(c, "") for c in w.split()) for w in m.group(0).split("/"))
             for m in _MORSE.finditer(text)]
    return out + [m for m in morse if m.strip()]


def _shifted(text: str, n: int) -> str:
    return "".join(chr((ord(c) - base + n) % 26 + base) if c.isascii() and c.isalpha() else c
                   for c in text for base in [ord("a") if c.islower() else ord("A")])


def readings(text: str) -> list[str]:
    """The message as seen, then each decoded or undisguised form of it that differs (one line each)."""
    shown = visible(text)
    seen = _SPACES.sub(" ", shown).strip()
    forms = [seen, _tags(text[:MAX_CHARS]), _SPACES.sub(" ", _NON_WORD.sub(" ", seen))]
    if not seen.isascii():
        forms.append(seen.translate(_CONFUSABLES))
    words = forms[-1]
    forms += [_despaced(shown), _deleet(words), codecs.encode(words, "rot13"), words[::-1], *_decoded(seen)]
    if _CIPHER_CUE.search(seen):
        forms += [_shifted(words, n) for n in range(1, 26) if n != 13]
    out: list[str] = []
    for form in forms:
        form = _SPACES.sub(" ", form).strip()
        if form and form not in out:
            out.append(form)
    return out
