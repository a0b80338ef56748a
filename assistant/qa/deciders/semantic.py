"""Items decided by the MiniLM encoder (the project's embedder) against example sentences
(assistant/qa/prototypes.yaml), with a few unambiguous phrases as a fast path. Without an encoder
the phrases decide alone.

Example: "Hi, Sam here." matches the greeting phrase; "Thanks for holding, this is Dana." is near the
greeting examples; "Cards take 7 business days." is nearer the counter-examples: no greeting.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import yaml

from assistant.nlu.sentiment import LexiconSentiment
from assistant.qa.deciders.base import Outcome, PartView, Tools, compile_i, sentences
from assistant.qa.scorecard import Item, Method
from assistant.qa.transcript import FACT_PATHS, QaMessage

PROTOTYPES = Path(__file__).resolve().parents[1] / "prototypes.yaml"
EMBEDDING = frozenset({Method.EMBEDDING})
EMBEDDING_OR_LLM = frozenset({Method.EMBEDDING, Method.LLM})

GREET = compile_i(r"^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening|day)|welcome|greetings"
                  r"|thanks? (you )?for (waiting|holding|your patience|contacting))\b")
CLOSE = compile_i(r"\b(thanks?|thank you|have a (good|great|nice|lovely)|take care|bye|goodbye|anything else"
                  r"|glad|you're welcome|my pleasure|safe travels|good luck)\b")
EMPATHY = compile_i(r"\b(sorry|apologi[sz]e|apologies|I understand|understand (your|how|the)|frustrat\w*|I know how"
                    r"|that must be|worrying|I hear you)\b")
COMPLAINT = compile_i(r"\b(complain\w*|ridiculous|unacceptable|worst|terrible|useless|fed up|rip ?off|angry|furious"
                      r"|disgust\w*|awful|annoy\w*|joke|nobody helps|forever)\b|!!|\?\?")
PROMISE = compile_i(r"\b(guarantee\w*|promise\w*|definitely|certainly|100%|for sure|can'?t lose|never pay"
                    r"|I'?ll (refund|credit|waive|reimburse)|refund (that|the|it|your)|waive\w*|credit your account)\b")
DECLINED_PROMISE = compile_i(r"\b(can'?t|cannot|not|isn'?t|won'?t|no guarantee)\b[^.?!]{0,25}\b(guarantee\w*|promise|refund|approved|say)\b")
NEXT = compile_i(r"\b(will|we'll|you'll|within|email|call|visit|try again|you can|please|done|sorted|blocked|frozen"
                 r"|updated|reset|arrive|requested|raised|opened|apply|on its way|agent|connecting)\b")
DEAD_END_PATHS = frozenset({"clarify", "error", "rephrase"})


@cache
def _examples() -> dict[str, dict[str, list[str]]]:
    return yaml.safe_load(PROTOTYPES.read_text(encoding="utf-8"))


def similarity(tools: Tools, kind: str, texts: list[str]) -> np.ndarray | None:
    """Per text: max cosine to the kind's `pos` examples minus max cosine to its `neg` examples."""
    if tools.encode is None or not texts:
        return None
    key = ("prototypes", kind)
    if key not in tools.cache:
        ex = _examples()[kind]
        tools.cache[key] = (tools.encode(ex["pos"]), tools.encode(ex["neg"]))
    pos, neg = tools.cache[key]
    v = tools.encode(texts)
    return (v @ pos.T).max(axis=1) - (v @ neg.T).max(axis=1)


def _best(tools: Tools, kind: str, m: QaMessage, margin: float = 0.0) -> tuple[tuple[int, int], float] | None:
    """The message's sentence most like the kind's examples, when it is more like them than the counter-examples."""
    parts = sentences(m.text)
    scores = similarity(tools, kind, [s for _, _, s in parts])
    if scores is None:
        return None
    i = int(np.argmax(scores))
    return ((parts[i][0], parts[i][1]), float(scores[i])) if scores[i] > margin else None


def _phrase_or_embedding(tools: Tools, kind: str, m: QaMessage, phrase, margin: float = 0.0):
    hit = phrase.search(m.text)
    if hit is not None:
        return hit.span(), None
    return _best(tools, kind, m, margin)


def greeting(view: PartView, item: Item, tools: Tools) -> Outcome:
    replies = view.replies()
    if not replies:
        return Outcome.na("the agent said nothing")
    first = replies[0]
    found = _phrase_or_embedding(tools, "greeting", first, GREET, item.params.get("margin", 0.05))
    if found is None:
        return Outcome.at("fail", first, None, "no greeting in the first message")
    return Outcome.at("pass", first, found[0], "greeted", found[1])


def polite_close(view: PartView, item: Item, tools: Tools) -> Outcome:
    replies = view.replies()
    if not replies:
        return Outcome.na("the agent said nothing")
    last = replies[-1]
    found = _phrase_or_embedding(tools, "polite_close", last, CLOSE, item.params.get("margin", 0.05))
    if found is None:
        return Outcome.at("fail", last, None, "the last message is not a polite close")
    return Outcome.at("pass", last, found[0], "closed politely", found[1])


_SENTIMENT = LexiconSentiment()


def upset(tools: Tools, m: QaMessage, margin: float) -> bool:
    s = _SENTIMENT.analyze(m.text)
    if s.label == "negative" or s.frustration >= 0.5 or COMPLAINT.search(m.text):
        return True
    return _best(tools, "upset", m, margin) is not None


def empathy(view: PartView, item: Item, tools: Tools) -> Outcome:
    if item.decided_by is Method.LLM and tools.judge is not None:
        return tools.judge.decide(view, item)
    trigger = next((m for m in view.customer() if upset(tools, m, item.params.get("upset_margin", 0.1))), None)
    if trigger is None:
        return Outcome.na("the customer was not upset")
    reply = view.next_reply(trigger)
    if reply is None:
        return Outcome.at("fail", trigger, None, "upset customer, no reply")
    found = _phrase_or_embedding(tools, "empathy", reply, EMPATHY, item.params.get("margin", 0.05))
    if found is None:
        return Outcome.at("fail", reply, None, "no acknowledgement of the customer's upset")
    return Outcome.at("pass", reply, found[0], "acknowledged", found[1])


def _quoted(tools: Tools, m: QaMessage, sentence: str) -> bool:
    """A sentence of the cited documents is the policy speaking, not a promise."""
    words = " ".join(sentence.lower().split())
    return any(words[:60] in " ".join((tools.kb_text(c.doc_id) or "").lower().split()) for c in m.citations)


def no_unallowed_promise(view: PartView, item: Item, tools: Tools) -> Outcome:
    margin = item.params.get("margin", 0.0)
    for m in view.replies():
        for start, end, s in sentences(m.text):
            if not PROMISE.search(s) or DECLINED_PROMISE.search(s) or _quoted(tools, m, s):
                continue
            scores = similarity(tools, "promise", [s])
            if scores is None or scores[0] > margin:
                return Outcome.at("fail", m, (start, end), "a promise the policy does not give",
                                  None if scores is None else float(scores[0]))
    return Outcome("pass", note="no promise of approval, returns or refunds")


def resolution_or_next_step(view: PartView, item: Item, tools: Tools) -> Outcome:
    if item.decided_by is Method.LLM and tools.judge is not None:
        return tools.judge.decide(view, item)
    replies = view.replies()
    if not replies:
        return Outcome.na("no reply in this part")
    last = replies[-1]
    if view.part == "bot":
        if last.path == "handoff" or view.transcript.handoff is not None:
            return Outcome.at("pass", last, None, "handed to a person")
        if last.path in DEAD_END_PATHS:
            return Outcome.at("fail", last, None, f"ended on a {last.path} reply")
        if last.path in FACT_PATHS or last.path == "flow":
            return Outcome.at("pass", last, None, f"ended on a {last.path} answer")
    found = _phrase_or_embedding(tools, "next_step", last, NEXT, item.params.get("margin", 0.0))
    if found is None:
        return Outcome.at("fail", last, None, "no resolution or next step at the end")
    return Outcome.at("pass", last, found[0], "resolved or next step given", found[1])


CHECKS = {
    "greeting": (EMBEDDING, greeting),
    "polite_close": (EMBEDDING, polite_close),
    "empathy": (EMBEDDING_OR_LLM, empathy),
    "no_unallowed_promise": (EMBEDDING, no_unallowed_promise),
    "resolution_or_next_step": (EMBEDDING_OR_LLM, resolution_or_next_step),
}
