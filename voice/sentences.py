"""Cut streamed reply text into sentences, so the first one can be spoken while the rest is generated."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or ; :) followed by a space, unless the dot belongs to an
# abbreviation ("p.m.", "e.g.", "Mr.") or a single initial ("U.S.").
_END = re.compile(r"[.!?;:](?=\s)|\n")
_ABBREV = re.compile(r"(?i)(?:\b(?:a\.m|p\.m|e\.g|i\.e|etc|vs|mr|mrs|ms|dr|st|no|approx|inc|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|dept)\.|\b[A-Z]\.)$")


class SentenceChunker:
    """feed(text) -> complete sentences; flush() -> what is left. `min_chars` keeps tiny fragments together."""

    def __init__(self, min_chars: int = 12) -> None:
        self._buf = ""
        self.min_chars = min_chars

    def feed(self, text: str) -> list[str]:
        self._buf += text
        out: list[str] = []
        start = 0
        for m in _END.finditer(self._buf):
            end = m.end()
            candidate = self._buf[start:end]
            if m.group(0) == "." and _ABBREV.search(candidate):
                continue
            if len(candidate.strip()) < self.min_chars:
                continue
            out.append(candidate.strip())
            start = end
        self._buf = self._buf[start:]
        return out

    def flush(self) -> str:
        rest, self._buf = self._buf.strip(), ""
        return rest


def split_sentences(text: str) -> list[str]:
    c = SentenceChunker()
    out = c.feed(text + " ")
    rest = c.flush()
    return out + ([rest] if rest else [])


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def unspoken_remainder(final_text: str, spoken: list[str]) -> list[str]:
    """Sentences of the authoritative final reply that were not already spoken, in order.

    The streamed text is usually a prefix of the final reply; when the grounding guard
    replaced it, the final sentences that match what was spoken are skipped and the rest said.
    """
    final = split_sentences(final_text)
    done = {_norm(s) for s in spoken}
    i = 0
    while i < len(final) and _norm(final[i]) in done:
        i += 1
    return final[i:]


# Clause breaks: space after , ; ) or before ( or around a dash. The last two are tried from the start
# of a run of space only (a match could start nowhere inside one that failed), so a long run is one try.
_CLAUSE = re.compile(r"(?<=[,;)])\s+|(?<!\s)\s+(?=\()|(?<!\s)\s+[—–]\s+")


def speakable_pieces(sentence: str, max_chars: int = 90, min_chars: int = 20) -> list[str]:
    """A long sentence cut at clause boundaries (commas, parentheses, dashes) into pieces.

    Time to first audio is the synthesis time of the first piece, and barge-in marks get finer;
    a sentence that is already short stays whole so its intonation is kept.
    """
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    for part in _CLAUSE.split(sentence):
        if pieces and (len(pieces[-1]) < min_chars or len(pieces[-1]) + len(part) < max_chars // 2):
            pieces[-1] += " " + part
        else:
            pieces.append(part)
    if len(pieces) > 1 and len(pieces[-1]) < min_chars:
        last = pieces.pop()  # popped first: `pieces[-2] += pieces.pop()` stores into the piece before that
        pieces[-1] += " " + last
    return [p.strip() for p in pieces if p.strip()]
