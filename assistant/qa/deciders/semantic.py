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

from assistant.nlu.sentiment import PROFANITY
from assistant.qa.deciders.base import Decider, Outcome, PartView, Tools, compile_i, sentences
from assistant.qa.scorecard import Item, Method
from assistant.qa.transcript import FACT_PATHS, QaMessage

PROTOTYPES = Path(__file__).resolve().parents[1] / "prototypes.yaml"
EMBEDDING = frozenset({Method.EMBEDDING})
EMBEDDING_OR_LLM = frozenset({Method.EMBEDDING, Method.LLM})

QUOTE_LEAD = compile_i(r"^(I could not find a direct answer to that\.\s*)?(Here is what our|The closest I found is in our)[^:]{0,300}:\s*")
NO_DIRECT_ANSWER = compile_i(r"\bcould not find a direct answer\b")
AGENT_OFFER = compile_i(r"\b(connect you with|talk to|speak to|one of our agents|an agent)\b")
GREET = compile_i(r"^\W*(hi|hello|hey|hiya|good (morning|afternoon|evening|day)|welcome|greetings"
                  r"|thanks? (you )?for (waiting|holding|your patience|contacting))\b")
CLOSE = compile_i(r"\b(thanks?|thank you|have an? (good|great|nice|lovely|awesome|terrific|fantastic|wonderful)|take care"
                  r"|anything else|glad|you're welcome|my pleasure|safe travels|good luck|enjoy)\b")
EMPATHY = compile_i(r"\b(sorry|apologi[sz]e|apologies|I understand|understand (your|how|the)|frustrat\w*|I know how"
                    r"|that must be|worrying|I hear you)\b")
COMPLAINT = compile_i(
    r"\b(I'?m|im|I am|I feel|feeling)\s+(so |really |very |quite |getting )?(scared|upset|unhappy|not happy|angry|annoyed"
    r"|frustrated|furious|fed up|disappointed|sick of)\b|\bworried\b"
    r"|\b(complain\w*|ridiculous|unacceptable|worst|terrible|useless|rip ?off|unfair|disgust\w*|awful|annoying|joke"
    r"|nobody helps|forever|don'?t like your|hate|what the hell|damn|can'?t you understand|seriously|fed up|had enough"
    r"|how many times|(already|keep) (told|telling|asked|asking|said|explained)|waste of (my )?time|are you (kidding|serious)"
    r"|makes no sense|not listening)\b|!!|\?\?|\bstill\b[^.?!]{0,40}!|\b(it'?s|it has) been\b[^.?!]{0,30}\balready\b"
)
PROMISE = compile_i(r"\b(guarantee\w*|promise\w*|definitely|certainly|100%|for sure|can'?t lose|never pay"
                    r"|I'?ll (refund|credit|waive|reimburse)|refund (that|the|it|your)|waive\w*|credit your account)\b")
DECLINED_PROMISE = compile_i(r"\b(can'?t|cannot|not|isn'?t|won'?t|no guarantee)\b[^.?!]{0,25}\b(guarantee\w*|promise|refund|approved|say)\b")
NEXT = compile_i(r"\b(will|we'll|you'll|within|email|call|visit|try again|you can|please|done|sorted|blocked|frozen"
                 r"|updated|reset|arrive|requested|raised|opened|apply|on its way|agents?|connecting|made|completed|confirmed"
                 r"|success\w*|booked|playing|starts?|sent|cancel+ed|ordered|refund|credit)\b")
STALL = compile_i(r"\b(still (checking|looking)|one moment|hold on|bear with me|let me (check|look))\b")
DEAD_END_PATHS = frozenset({"clarify", "error", "rephrase", "refused"})
# A closing line with nothing else in it: the end of the conversation, not its outcome.
_CLOSING_PHRASES = (
    r"(ok|okay|great|perfect|sure|no problem|sounds good)", r"((you'?re|you are) )?(very )?welcome", r"no worries",
    r"thanks?( you)?( so much| very much)?( for [^.!?,]{0,50})?", r"have an? [^.!?,]{0,30}", r"take care", r"bye( for now)?",
    r"goodbye", r"enjoy [^.!?,]{0,40}", r"good luck[^.!?,]{0,40}", r"(is there )?anything else[^.!?]{0,40}",
    r"(do you need|would you like|can I help( you)? with|is there) [^.!?]{0,40}", r"glad [^.!?,]{0,40}", r"my pleasure",
    r"safe travels",
)
_ONE = "(" + "|".join(_CLOSING_PHRASES) + ")"
# A sentence made only of closing phrases: "Thanks, have a good day!", "You're welcome. Is there anything else?"
CLOSING_SENTENCE = compile_i(rf"^\W*{_ONE}([\s,;:!-]+(and )?{_ONE})*\W*$")


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


def upset(tools: Tools, m: QaMessage, margin: float) -> bool:
    """Upset: feeling or complaint words, exasperation, swearing (the hand-off rules' own list), or a
    sentence clearly nearer the upset examples. A plain "no, thanks" is not upset, so the
    lexicon's negative label alone does not count."""
    if COMPLAINT.search(m.text) or PROFANITY.search(m.text):
        return True
    return _best(tools, "upset", m, margin) is not None


def empathy(view: PartView, item: Item, tools: Tools) -> Outcome:
    if item.decided_by is Method.LLM and tools.judge is not None:
        return tools.judge.decide(view, item)
    margin = item.params.get("upset_margin", 0.3)
    # An upset message the part never answered (the bot is silent while a person is on the way) asks nothing of it.
    answered = ((m, r) for m in view.customer() if (r := view.next_reply(m)) is not None)
    pair = next(((m, r) for m, r in answered if upset(tools, m, margin)), None)
    if pair is None:
        return Outcome.na("the customer was not upset")
    _trigger, reply = pair
    found = _phrase_or_embedding(tools, "empathy", reply, EMPATHY, item.params.get("margin", 0.05))
    if found is None:
        return Outcome.at("fail", reply, None, "no acknowledgement of the customer's upset")
    return Outcome.at("pass", reply, found[0], "acknowledged", found[1])


def _quoted(tools: Tools, m: QaMessage, sentence: str) -> bool:
    """A sentence of the cited documents is the policy speaking, not a promise. A quoted answer's
    first sentence carries its lead ("Here is what our ... says: Under 12 CFR ..."): the text after
    a colon is tried too."""
    if not m.citations:
        return False
    docs = [" ".join((tools.kb_text(c.doc_id) or "").lower().split()) for c in m.citations]
    words = " ".join(sentence.lower().split())
    tries = [words] + [words.split(": ", i)[-1] for i in (1, 2) if ": " in words]
    return any(t[:60] in d for t in tries for d in docs if t)


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


CUSTOMER_CLOSING = compile_i(r"\b(that('?s| is| will be| would be| was) (all|it)|nothing else|i'?m good|no,? thanks?|no thank|bye|that'?s everything)\b")


def _closing(m: QaMessage) -> bool:
    """A line that only ends the conversation ("You're welcome. Is there anything else?", "No, that's all. Thanks.")."""
    parts = sentences(m.text)
    if parts and all(CLOSING_SENTENCE.search(s) for _, _, s in parts):
        return True
    return m.role == "user" and len(m.text.split()) <= 12 and CUSTOMER_CLOSING.search(m.text) is not None


def _request_for(view: PartView, reply: QaMessage) -> QaMessage | None:
    """The customer's message a reply answers: the last one before it that is not a closing line."""
    before = [m for m in view.customer() if m.id < reply.id]
    asked = [m for m in before if not _closing(m)] or before
    return asked[-1] if asked else None


def _addresses(tools: Tools, request: QaMessage | None, reply: QaMessage, floor: float) -> bool:
    """The answer has a sentence about what was asked (MiniLM cosine >= floor); True without an encoder.
    A quoted answer's lead names the documents' titles ("Here is what our Business Checking ...
    information says:"), which echo any question: it is left out."""
    if tools.encode is None or request is None:
        return True
    body = QUOTE_LEAD.sub("", reply.text, count=1)
    parts = [s for _, _, s in sentences(body)] or [reply.text]
    vectors = tools.encode([request.text] + parts)
    return float((vectors[1:] @ vectors[0]).max()) >= floor


def _bot_outcome(view: PartView, item: Item, tools: Tools, last: QaMessage) -> Outcome | None:
    handed = next((m for m in reversed(view.replies()) if m.path == "handoff"), None)
    if handed is not None or view.transcript.handoff is not None:
        return Outcome.at("pass", handed or last, None, "handed to a person")
    if last.path in DEAD_END_PATHS:
        return Outcome.at("fail", last, None, f"ended on a {last.path} reply")
    if last.path in FACT_PATHS:
        if (hit := NO_DIRECT_ANSWER.search(last.text)) and not AGENT_OFFER.search(last.text):
            return Outcome.at("fail", last, hit.span(), "no direct answer and no way forward")
        if not _addresses(tools, _request_for(view, last), last, item.params.get("relevance", 0.45)):
            return Outcome.at("fail", last, None, "the answer is not about what was asked")
        return Outcome.at("pass", last, None, f"answered ({last.path})")
    return None


def resolution_or_next_step(view: PartView, item: Item, tools: Tools) -> Outcome:
    if item.decided_by is Method.LLM and tools.judge is not None:
        return tools.judge.decide(view, item)
    replies = view.replies()
    if not replies:
        return Outcome.na("no reply in this part")
    last = next((m for m in reversed(replies) if not _closing(m)), replies[-1])
    if view.part == "bot" and (decided := _bot_outcome(view, item, tools, last)) is not None:
        return decided
    return _statement_outcome(last)


def _statement_outcome(last: QaMessage) -> Outcome:
    """The last substantive reply: a next step or a result passes; stalling, or a question left
    hanging (the customer never got further), fails; any other statement answers the request."""
    hit = NEXT.search(last.text)
    if hit is not None:
        return Outcome.at("pass", last, hit.span(), "resolved or next step given")
    stall = STALL.search(last.text)
    if stall is not None:
        return Outcome.at("fail", last, stall.span(), "ended while still looking into it")
    if last.text.rstrip().endswith("?"):
        return Outcome.at("fail", last, None, "ended on an unanswered question")
    return Outcome.at("pass", last, None, "ended on an answer")


CHECKS: dict[str, tuple[frozenset[Method], Decider]] = {
    "greeting": (EMBEDDING, greeting),
    "polite_close": (EMBEDDING, polite_close),
    "empathy": (EMBEDDING_OR_LLM, empathy),
    "no_unallowed_promise": (EMBEDDING, no_unallowed_promise),
    "resolution_or_next_step": (EMBEDDING_OR_LLM, resolution_or_next_step),
}
