"""Facts to ask about, read from the knowledge base: FAQ entries, bullet items, figure sentences.

Every fact's answer is text the model will see in its passage (after the runtime's 500-character
trim), so a reference answer never states a figure its passage lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from finetune.fact_questions import bullet_questions, condition_questions, sentence_questions
from finetune.prompts import ContextPassage, trim
from knowledge_base.chunking import chunk_document
from knowledge_base.documents import load_directory
from knowledge_base.figures import figures

_BULLET = re.compile(r"^\s*[-*]\s+(?P<label>[^:]{3,70}):\s+(?P<value>.+)$")
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])")


@dataclass(frozen=True, slots=True)
class KbChunk:
    chunk_id: str
    doc_id: str
    group: str  # split unit: a product document together with the FAQ entries answered by it
    passage: ContextPassage  # exactly what a prompt shows
    category: str


@dataclass(slots=True)
class Fact:
    fact_id: str
    chunk: KbChunk
    questions: list[str]  # several phrasings, first is the plainest
    answer: str  # without the citation mark
    kind: str  # faq | bullet | sentence | section | condition
    key_figures: set[str] = field(default_factory=set)


@dataclass(slots=True)
class KnowledgeBase:
    chunks: list[KbChunk]
    facts: list[Fact]
    groups: dict[str, list[str]]  # group -> doc ids


def _flat(text: str) -> str:
    return " ".join(text.split())


def _visible(text: str) -> str:
    shown = trim(text)
    return shown[:-2] if shown.endswith(" …") else shown


def _topic(title: str) -> str:
    return re.sub(r"\s*\([^)]*\)", "", title).strip()


_ABBREV = re.compile(r"(?:\b[A-Z]\.|\b(?:P\.O|U\.S|a\.m|p\.m|e\.g|i\.e|No|St|Mr|Ms|Dr|vs))\.?$")


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or _BULLET.match(line):
            continue
        for piece in (p.strip() for p in _SENT_SPLIT.split(line.lstrip("-* ")) if p.strip()):
            if out and _ABBREV.search(out[-1]) and out[-1] in line:
                out[-1] = f"{out[-1]} {piece}"  # "P.O. Box 4100", "4:00 p.m. ET"
            else:
                out.append(piece)
    return out


# A follow-on sentence joins the answer while the two stay this short: "The fee is $10 per cycle." +
# "Larkspur waives it when ..." is one answer; a third sentence is a lecture.
FOLLOW_ON_CHARS = 320


def _with_follow_on(sentence: str, line_sentences: list[str], shown: str) -> str:
    """The sentence and the one after it in the same paragraph (its condition, exception or
    deadline), when that one is shown in the passage and both fit FOLLOW_ON_CHARS."""
    i = line_sentences.index(sentence)
    if i + 1 < len(line_sentences):
        nxt = _flat(line_sentences[i + 1])
        joined = f"{_flat(sentence)} {nxt}"
        if nxt in shown and len(joined) <= FOLLOW_ON_CHARS and not nxt.endswith(":"):
            return joined
    return _flat(sentence)


def _chunk_facts(ch: KbChunk, follow_on: bool = False) -> list[Fact]:
    """`follow_on`: a sentence's answer also carries the next sentence of its paragraph
    (`_with_follow_on`); its key figures stay those of the asked sentence."""
    shown = _visible(ch.passage.text)
    topic, section = _topic(ch.passage.title), ch.passage.section
    facts: list[Fact] = []
    for line in ch.passage.text.splitlines():
        m = _BULLET.match(line)
        if m and figures(m["value"]) and _flat(line.lstrip(" -*")) in shown:
            label, value = m["label"].strip(), _flat(m["value"]).rstrip(".")
            facts.append(Fact(f"{ch.chunk_id}/b{len(facts)}", ch, bullet_questions(label, value, section, topic),
                              f"{label}: {value}.", "bullet", figures(m["value"])))
    heading_used = False
    paragraph: dict[str, list[str]] = {}  # sentence -> the sentences of its line
    for line in ch.passage.text.splitlines():
        own_line = sentences(line)
        for s in own_line:
            paragraph.setdefault(s, own_line)
    for s in sentences(ch.passage.text):
        if not (30 <= len(s) <= 280) or not figures(s) or _flat(s) not in shown:
            continue
        questions, own = sentence_questions(s, topic, section)
        if not own:
            if heading_used or not section:
                continue  # one heading question per chunk: a vague question has one answer
            heading_used = True
        answer = _with_follow_on(s, paragraph[s], shown) if follow_on and s in paragraph else _flat(s)
        facts.append(Fact(f"{ch.chunk_id}/s{len(facts)}", ch, questions, answer, "sentence" if own else "section", figures(s)))
    return facts


# "Larkspur Bank waives the fee for any statement cycle in which ...", "a balance of $1,500 or more
# avoids the monthly fee": the sentence says how to escape a charge.
_CONDITION = re.compile(r"\b(?:waive[sd]?|avoids?)\b", re.I)
_CHARGE = re.compile(r"\b(?:(?:monthly|annual|early (?:withdrawal|closure)) )?(?:maintenance )?(?:fee|penalty)\b", re.I)


def _condition_facts(ch: KbChunk, n: int) -> list[Fact]:
    """A sentence that waives a charge, with the conditions listed under it: customers ask how to
    avoid the fee, and the reply must be the condition's figure, not the fee's or the opening deposit's."""
    shown = _visible(ch.passage.text)
    topic = _topic(ch.passage.title)
    lines = ch.passage.text.splitlines()
    out: list[Fact] = []
    for i, line in enumerate(lines):
        for s in sentences(line):
            if not _CONDITION.search(s) or _flat(s) not in shown:
                continue
            listed: list[str] = []
            if s.endswith(":"):  # "... at least one of these is true:" + the bullets below it
                for nxt in lines[i + 1:]:
                    if not nxt.strip() and not listed:
                        continue
                    if not re.match(r"\s*[-*]\s+", nxt):
                        break
                    listed.append(_flat(nxt.strip().lstrip("-* ")).rstrip("."))
                if not listed or not all(b in shown for b in listed):
                    continue
            text = f"{s} {'; '.join(listed)}." if listed else _flat(s)
            key = figures("; ".join(listed) if listed else s)
            found = [m.group(0).lower() for m in (_CHARGE.search(t) for t in (s, ch.passage.section or "", shown)) if m]
            named = [c for c in found if " " in c.replace("maintenance ", "")]  # "monthly fee" over a bare "fee"
            if not found or not key or len(text) > 420:
                continue
            word = (named or found)[0].replace("maintenance ", "")
            out.append(Fact(f"{ch.chunk_id}/c{n + len(out)}", ch, condition_questions(word, topic), text, "condition", key))
    return out


def _faq_facts(doc, faq, chunks_by_doc: dict[str, list[KbChunk]]) -> list[Fact]:
    """An FAQ's questions, answered from the FAQ passage itself and from its answer document."""
    out: list[Fact] = []
    questions = list(dict.fromkeys(faq.questions))
    own = chunks_by_doc.get(doc.doc_id, [])
    if own:
        shown = _visible(own[0].passage.text)
        kept = [s for s in sentences(faq.answer) if " ".join(s.split()) in shown][:2]
        if kept:
            answer = " ".join(kept)
            out.append(Fact(f"{doc.doc_id}/faq", own[0], questions, answer, "faq", figures(answer)))
    answer_sents = sentences(faq.answer)
    if not answer_sents or not figures(answer_sents[0]):
        return out  # the approved answer leads without a figure: no way to check a chunk supports it
    for ch in chunks_by_doc.get(faq.answer_doc or "", []):
        have = figures(_visible(ch.passage.text))
        kept = []
        for s in answer_sents[:2]:  # the answer's leading sentences, as far as the chunk supports them
            if not figures(s) <= have:
                break
            kept.append(s)
        if kept:
            answer = " ".join(kept)
            out.append(Fact(f"{doc.doc_id}/via/{ch.chunk_id}", ch, questions, answer, "faq", figures(answer)))
            break
    return out


def load_kb(docs_dir: Path, *, conditions: bool = False, follow_on: bool = False) -> KnowledgeBase:
    """`conditions`: also the facts of `_condition_facts` (how to avoid a fee); off rebuilds the
    datasets of runs 1-7 byte for byte. `follow_on`: sentence answers carry the paragraph's next
    sentence (`_with_follow_on`); off rebuilds run 8's."""
    loaded = load_directory(docs_dir)
    if not loaded.documents:
        raise FileNotFoundError(f"no knowledge-base documents under {docs_dir}")
    ids = {d.doc_id for d in loaded.documents}
    faq_by_id = {f.faq_id: f for f in loaded.faqs}
    group_of = {}
    for d in loaded.documents:
        faq = faq_by_id.get(d.doc_id)
        group_of[d.doc_id] = faq.answer_doc if faq and faq.answer_doc in ids else d.doc_id
    chunks: list[KbChunk] = []
    for d in loaded.documents:
        for c in chunk_document(d):
            chunks.append(KbChunk(c.chunk_id, d.doc_id, group_of[d.doc_id],
                                  ContextPassage(d.doc_id, c.title, c.section, c.text), d.category))
    by_doc: dict[str, list[KbChunk]] = {}
    for ch in chunks:
        by_doc.setdefault(ch.doc_id, []).append(ch)
    facts: list[Fact] = []
    for d in loaded.documents:
        faq = faq_by_id.get(d.doc_id)
        if faq is not None:
            facts.extend(_faq_facts(d, faq, by_doc))
        else:
            for ch in by_doc.get(d.doc_id, []):
                own = _chunk_facts(ch, follow_on)
                facts.extend(own)
                if conditions:
                    facts.extend(_condition_facts(ch, len(own)))
    groups: dict[str, list[str]] = {}
    for doc_id, g in group_of.items():
        groups.setdefault(g, []).append(doc_id)
    return KnowledgeBase(chunks, facts, groups)
