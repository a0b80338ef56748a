"""Items decided by rules: patterns on the replies (RE2, linear time) and facts the runtime stored
(paths, citations, tickets, when the customer was proven)."""

from __future__ import annotations

from assistant.qa.deciders.base import Decider, Outcome, PartView, Regex, Tools, compile_i, sentences
from assistant.qa.scorecard import Item, Method
from assistant.qa.transcript import FACT_PATHS, QaMessage
from knowledge_base.figures import supported

RULE = frozenset({Method.RULE})

# Account-specific content: a card or account by its last digits, a balance, a payment or transfer
# of an amount, the customer's own transactions. "Cards take 7 business days" is not.
ACCOUNT = compile_i(
    r"\b(ending(?: in)?|last (?:four|4)(?: digits)?(?: of)?)\s*\d{4}\b|\b(card|account)\s+ending\b"
    r"|\byour\s+(?:\w+\s+){0,3}(balance|account has|account ending|transactions?|payments?|transfer|withdrawal|card)\b[^.?!]{0,60}\$\s?\d"
    r"|\b(you have|there is|there's|balance(?: is| of)?|available)\s+\$\s?\d"
    r"|\b(payments?|transfer|withdrawal|deposit|charge)s?\s+of\s+\$\s?\d|\$\s?[\d,]+\.\d\d\s+(at|to|from|in)\s+[A-Z]"
    r"|\bI can see\b[^.?!]{0,80}\b(your|payment|transfer|card|withdrawal|account)"
)
# Acting on the account: "I've blocked the card", "Your transfer was successful", "Transferring $50 from your checking".
ACTION = compile_i(
    r"\b(I'?ve|I have|we'?ve|we have|I'?ll|I will)\s+(just\s+|now\s+|successfully\s+)?(blocked|frozen|froze|cancel+ed|ordered|raised|opened"
    r"|logged|updated|changed|reset|credit(ed)?|refund(ed)?|made the transfer|sent (the|your|\$)|transferred|requested|closed)\b"
    r"|\b(transfer|payment|dispute|claim)\s+(is|was|has been)\s+(successful\w*|completed|confirmed|made|done|sent|open)\b"
    r"|\b(transfer|transferring|send|sending)\s+\$\s?\d|\bfrom your (checking|savings)( account)?\b"
    r"|\byour (passcode|password|PIN|card) (is|has been) (reset|blocked|frozen|cancel+ed)\b|\b(requested|made) (transfer|payment)\b"
    r"|\b(that|it) was a \$\s?\d|\bcase reference\b"
)
# In a self-service flow's reply every amount or card number is the customer's own (flows read the bank).
FLOW_ACCOUNT = compile_i(r"\$\s?[\d,]+\.\d\d|\bending \d{4}\b")
# An agent's or the bot's own words that the customer is now proven.
AGENT_VERIFIED = compile_i(r"\b(you'?re|you are|you've been|you have been|now)\s+(now\s+)?(verified|signed in)\b|\bverified your identity\b"
                           r"|\bidentity (is )?(confirmed|verified)\b|\bthanks?,? (that|the code) (matches|checks out)\b")
# The customer reads back the one-time code the agent asked for: "482913" (or "[CODE]" once redacted).
CODE_GIVEN = compile_i(r"^\W*(\d{4,8}|\[CODE\])\W*$|\bcode is \[CODE\]")
VERIFY_ASKED = compile_i(r"\bsign in\b|\bone-time code\b|\bcode\b[^.?!]{0,40}\bphone\b|\bverif")

# A request for a secret: a request cue and a secret in one sentence, no "never/don't share".
SECRET = compile_i(r"\b(full|whole|long|16[- ]digit|complete)\s+(card\s+)?(number|card number)\b|\bcard number\b|\bPIN\b|\bpasscode\b"
                   r"|\bpassword\b|\bCVV\b|\bCVC\b|\bsecurity code\b|\bone[- ]time (pass)?code\b|\bOTP\b|\bverification code\b|\b\d-digit code\b|\bthe code\b")
ASK = compile_i(r"\b(what is|what's|tell me|give me|send me|read (me|out)|I need|I'll need|we need|please (enter|type|send|share|provide|confirm|give|read|tell)"
                r"|can you (confirm|give|tell|provide|read|share|send|type)|could you (confirm|give|tell|provide|read|share|send|type)|confirm your|provide your|enter (the|your)|type (the|your|it))\b")
NOT_ASKING = compile_i(r"\b(never|don't|do not|won't|will not|not)\b[^.?!]{0,30}\b(ask|share|send|give|need)\b|\bdon't share\b|\bnever share\b")
LAST_DIGITS = compile_i(r"\blast (four|4)\b")
REFERENCE = compile_i(r"\b[A-Z]{1,5}-[A-Z0-9]*\d[A-Z0-9]*\b")  # a case reference ("DSP-69D265U7") is not a figure
GENERIC_REASONS = frozenset({"", "agent", "unknown", "other", "none", "handoff"})


def identity_before_account(view: PartView, item: Item, tools: Tools) -> Outcome:
    """Fail at the first account-specific reply given before the customer was proven."""
    agent_ok_from: int | None = None
    first_ok: Outcome | None = None
    asked = False
    for m in view.messages:
        if view.part == "bot" and m.path != "flow":  # knowledge-base answers are about products, never the account
            continue
        if m.role == view.speaker and VERIFY_ASKED.search(m.text):
            asked = True
        proof = (m.role == view.speaker and AGENT_VERIFIED.search(m.text)) or (m.role == "user" and CODE_GIVEN.search(m.text))
        if asked and proof and agent_ok_from is None:
            agent_ok_from = m.id
        if m.role != view.speaker:
            continue
        hit = ACCOUNT.search(m.text) or ACTION.search(m.text) or (FLOW_ACCOUNT.search(m.text) if view.part == "bot" else None)
        if hit is None:
            continue
        proven = view.transcript.verified_before(m) or (agent_ok_from is not None and agent_ok_from <= m.id)
        if not proven:
            return Outcome.at("fail", m, hit.span(), "account details before the customer was proven")
        first_ok = first_ok or Outcome.at("pass", m, hit.span(), "account details after the customer was proven")
    return first_ok or Outcome.na("nothing account-specific said")


def _secret_request(m: QaMessage) -> tuple[int, int] | None:
    for start, end, sentence in sentences(m.text):
        if not SECRET.search(sentence) or NOT_ASKING.search(sentence):
            continue
        if LAST_DIGITS.search(sentence) and "card number" not in sentence.lower():
            continue
        if ASK.search(sentence) or (sentence.endswith("?") and "your" in sentence.lower()):
            return start, end
    return None


def no_secret_request(view: PartView, item: Item, tools: Tools) -> Outcome:
    """The bot's self-service step-up (path "flow") asks for the code the bank sent: sanctioned."""
    for m in view.replies():
        if m.role == "assistant" and m.path == "flow":
            continue
        span = _secret_request(m)
        if span is not None:
            return Outcome.at("fail", m, span, "asked the customer for a secret")
    return Outcome("pass", note="no request for a card number, PIN, password or code")


def _disclosures(item: Item) -> list[tuple[str, Regex, Regex]]:
    key = ("disclosures", id(item))
    cached = _COMPILED.get(key)
    if cached is None:
        cached = [(d["name"], compile_i(d["event"]), compile_i(d["required"])) for d in item.params.get("disclosures", [])]
        _COMPILED[key] = cached
    return cached


_COMPILED: dict[tuple[str, int], list[tuple[str, Regex, Regex]]] = {}


def required_disclosures(view: PartView, item: Item, tools: Tools) -> Outcome:
    """For each disclosure whose event happens in a reply, a reply from then on must state what it requires."""
    replies = view.replies()
    outcome: Outcome | None = None
    for name, event, required in _disclosures(item):
        for i, m in enumerate(replies):
            hit = event.search(m.text)
            if hit is None:
                continue
            given = next(((r, g) for r in replies[i:] if (g := required.search(r.text))), None)
            if given is None:
                return Outcome.at("fail", m, hit.span(), f"{name}: not disclosed")
            outcome = outcome or Outcome.at("pass", given[0], given[1].span(), f"{name} disclosed")
            break
    return outcome or Outcome.na("no event that needs a disclosure")


def _kb_answers(view: PartView) -> list[QaMessage]:
    """Bot replies stating knowledge-base facts: FAQ, quoted and generated answers, and a flow step
    that quotes the knowledge base (it carries citations: a dispute's timelines)."""
    return [m for m in view.replies() if m.path in FACT_PATHS or m.citations]


def cited_sources(view: PartView, item: Item, tools: Tools) -> Outcome:
    facts = _kb_answers(view)
    if not facts:
        return Outcome.na("no knowledge-base answer")
    for m in facts:
        if not m.citations:
            return Outcome.at("fail", m, None, f"{m.path} reply without a citation")
    return Outcome.at("pass", facts[0], None, f"{len(facts)} answer(s), all cited")


def _figure_spans(text: str) -> list[tuple[int, int, str]]:
    from knowledge_base import figures as f

    out = []
    for pattern in (f._NUMBER, f._WORD_RE):  # noqa: SLF001 - the guard's own patterns, so both judge alike
        for m in pattern.finditer(text):
            out.append((m.start(), m.end(), m.group(0)))
    return out


def figures_in_citations(view: PartView, item: Item, tools: Tools) -> Outcome:
    """Every figure of a knowledge-base answer must be stated by a document it cites (the guard's figures)."""
    from knowledge_base.figures import answer_figures, figures

    checked: Outcome | None = None
    for m in _kb_answers(view):
        stated = answer_figures(REFERENCE.sub(" ", m.text))
        if not stated:
            continue
        evidence = [t for c in m.citations if (t := tools.kb_text(c.doc_id))]
        known = supported(evidence)
        missing = sorted(x for x in stated if x not in known)
        if missing:
            span = next(((s, e) for s, e, raw in _figure_spans(m.text) if figures(raw) & set(missing)), None)
            return Outcome.at("fail", m, span, f"figure(s) {', '.join(missing)} not in the cited documents")
        checked = checked or Outcome.at("pass", m, None, "every figure is in a cited document")
    return checked or Outcome.na("no figure in a knowledge-base answer")


def handoff_reason(view: PartView, item: Item, tools: Tools) -> Outcome:
    ticket = view.transcript.handoff
    if ticket is None:
        return Outcome.na("no hand-off")
    replies = view.replies()
    where = next((m for m in replies if m.path == "handoff"), None) or (replies[-1] if replies else None)
    ok = ticket.reason.strip().lower() not in GENERIC_REASONS
    note = f"ticket {ticket.id} reason: {ticket.reason[:80]!r}" if ok else f"ticket {ticket.id} has no specific reason"
    if where is None:
        return Outcome("pass" if ok else "fail", note=note)
    return Outcome.at("pass" if ok else "fail", where, None, note)


CHECKS: dict[str, tuple[frozenset[Method], Decider]] = {
    "identity_before_account": (RULE, identity_before_account),
    "no_secret_request": (RULE, no_secret_request),
    "required_disclosures": (RULE, required_disclosures),
    "cited_sources": (RULE, cited_sources),
    "figures_in_citations": (RULE, figures_in_citations),
    "handoff_reason": (RULE, handoff_reason),
}
