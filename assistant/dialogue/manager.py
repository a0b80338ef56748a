"""The one place that decides what a turn is for, as pure functions of the turn's facts.

`decide(TurnFacts)` returns a Route: a flow route (start, fill or correct a slot, confirm, code,
cancel, digression, re-ask), a hand-off, a request to verify identity, or "knowledge".
`decide_knowledge(KnowledgeFacts, Found | None)` then chooses the knowledge route in two phases:
before retrieval (refuse, advice, not offered, rephrase, FAQ answer, small talk, hand-off, or
"retrieve"), then with the retrieval's facts (refuse, clarify, no answer, quoted or generated KB
answer, hand-off). Tested as tables in tests/unit/test_dialogue_manager.py; executors only execute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RouteKind = Literal[
    "handoff", "cancel", "code", "confirm", "deny", "slot_fill", "slot_correct", "flow_start", "verify",
    "digression", "reprompt", "knowledge",
    # the knowledge path's routes (decide_knowledge); "retrieve": decide again with the retrieval's facts
    "retrieve", "faq", "kb_quote", "kb_generate", "clarify", "no_answer", "refuse", "advice", "not_offered",
    "rephrase", "small_talk",
]


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What is known of a turn before anything is done about it."""

    active_flow: str | None = None
    awaiting: str | None = None  # slot | confirm | code | identity
    awaited_slot: str | None = None
    fills: frozenset[str] = frozenset()  # slots of the active flow this message gives a value for
    problems: frozenset[str] = frozenset()  # slots it speaks of with a value that does not fit
    changes: frozenset[str] = frozenset()  # of `fills`, those whose value differs from the one held
    cancel: bool = False  # "forget it", "never mind"
    yes_no: bool | None = None
    digits: bool = False  # a code-like run of digits
    new_flow: str | None = None  # a flow this message asks for (trigger matched)
    new_flow_requires_identity: bool = True
    new_flow_worded: bool = False  # worded like the flow's own example ("what's my balance?"), not only its intent
    urgent: bool = False  # a lost card or fraud: the answer now, and a person offered
    faq_hit: bool = False  # an approved FAQ answer matches
    question_form: bool = False  # phrased as a question ("how long do I have to dispute a charge?")
    verified: bool = False
    human_request: bool = False  # a clear request for a person ("can I talk to a real person")
    human_weak: bool = False  # the request-for-a-person cue fired, but weakly: it yields to any flow action
    question: bool = False  # asks about a rule, a fee, a figure: a knowledge-base question


@dataclass(frozen=True, slots=True)
class Route:
    kind: RouteKind
    reason: str
    flow: str | None = None
    offer: str | None = None  # an answer that also offers a person, and why ("urgent: lost_or_stolen_card")


FLOW_WORK = frozenset({"cancel", "code", "confirm", "deny", "slot_fill", "slot_correct", "flow_start", "verify"})


def decide(f: TurnFacts) -> Route:
    if f.active_flow is not None:
        route = _in_flow(f)
        # A customer answering the flow's question ("yes please", a code, an amount) is not asking for a
        # person, whatever a classifier reads into two words; a clear request otherwise wins.
        if route is not None and route.kind in FLOW_WORK:
            return route
        if f.human_request:  # a weak cue here is as likely a mistyped answer: the flow asks again
            return Route("handoff", "explicit request for a human", f.active_flow)
        if route is not None:
            return route
    if f.new_flow is None:  # the knowledge path applies the hand-off policy (an FAQ first for a weak request)
        return Route("knowledge", "no flow: answer from the knowledge base")
    if f.active_flow is None and not f.verified and (f.urgent or f.faq_hit or (f.question_form and not f.new_flow_worded)):
        # Not signed in: a question gets the knowledge base's answer ("how long do I have to dispute a billing
        # error?" reads as a dispute), not a request to sign in, unless worded like a flow ("what's my balance?").
        return Route("knowledge", "not signed in: the knowledge base answers this question")
    if f.human_request:
        return Route("handoff", "explicit request for a human", f.active_flow)
    if f.new_flow is not None:
        if f.new_flow_requires_identity and not f.verified:
            return Route("verify", f"{f.new_flow} needs a verified customer", f.new_flow)
        return Route("flow_start", f"asked for {f.new_flow}", f.new_flow)
    return Route("knowledge", "no flow: answer from the knowledge base")


def _in_flow(f: TurnFacts) -> Route | None:
    flow = f.active_flow
    if f.cancel and not f.fills:
        return Route("cancel", "customer cancelled", flow)
    if f.awaiting == "code":
        if f.digits:
            return Route("code", "one-time code given", flow)
        if f.new_flow is None and not f.question:
            return Route("reprompt", "waiting for the one-time code", flow)
    if f.awaiting == "confirm":
        if f.changes:
            return Route("slot_correct", f"changed {', '.join(sorted(f.changes))} before confirming", flow)
        if f.yes_no is True:
            return Route("confirm", "customer confirmed the read-back", flow)
        if f.yes_no is False:
            return Route("deny", "customer declined the read-back", flow)
    if f.awaiting == "slot" and f.awaited_slot is not None:
        if f.awaited_slot in f.fills:
            return Route("slot_fill", f"gave {f.awaited_slot}", flow)
        if f.awaited_slot in f.problems and f.new_flow is None:
            return Route("reprompt", f"{f.awaited_slot} does not fit", flow)
    if f.changes and f.new_flow in (None, flow):
        return Route("slot_correct", f"changed {', '.join(sorted(f.changes))}", flow)
    if f.new_flow is not None and f.new_flow != flow:
        if not f.verified and f.new_flow_requires_identity:
            return Route("verify", f"{f.new_flow} needs a verified customer", f.new_flow)
        return Route("flow_start", f"switched from {flow} to {f.new_flow}", f.new_flow)
    if f.question:
        return Route("digression", "a knowledge question inside a flow", flow)
    if f.awaiting == "identity":
        return None  # not verified yet: the message is answered as any other, the flow waits
    return Route("reprompt", "the message does not answer the flow's question", flow)


@dataclass(frozen=True, slots=True)
class KnowledgeFacts:
    """A turn on the knowledge path, before retrieval: the screens, the hand-off policy's reading of the
    NLU (assistant/handoff/policy.py `before_retrieval`), the FAQ match and the question's wording."""

    attack: str | None = None  # the guardrail category of an attack (assistant/core/guardrails.py)
    nlu_route: str = ""  # the NLU's own route: rephrase | advice | not_offered | clarify | ""
    policy: str = "answer"  # answer | small_talk | handoff | refuse | rephrase | decline
    policy_reason: str = ""
    offer_agent: bool = False  # the policy answers and offers a person (a confident urgent intent)
    faq_first: bool = False  # an approved FAQ answer (and an offer) replaces the policy's hand-off
    kb_first: bool = False  # ... and so does a KB answer when the customer asks about the rule
    faq: bool = False  # an approved FAQ answer matches (above the threshold, not a follow-up)
    asks_figure: bool = False  # "how long do I have to cancel a remittance?"
    asks_rule: bool = False  # "can I cancel it after I send it?"
    doubt_reason: str = "low confidence: clarify"  # the policy's word on a clarifying question now
    doubt_offer: bool = False  # ... after repeated doubt it offers a person first


@dataclass(frozen=True, slots=True)
class Found:
    """What retrieval found, as the knowledge routes read it."""

    passages: bool = True  # any passage above the relevance floor
    kb_knows: bool = False  # the best passage is relevant enough to overrule the scope head or a hand-off
    leans_on_history: bool = False  # the query was read with an earlier question
    on_topic: bool = False  # a follow-up that stayed with the documents the last reply cited
    low_confidence: bool = False  # a doubtful intent and weak retrieval (policy `is_low_confidence`)
    quote_allowed: bool = True  # the setting: questions that want the source's words get them
    asks_figure: bool = False  # of the query searched: a time, an amount, a rate
    asks_yes_no: bool = False
    asks_meaning: bool = False
    quoted_category: bool = False  # the best passage is of a category quoted as written (regulations)


RETRIEVE = Route("retrieve", "the route depends on what the knowledge base holds")


def screened(k: KnowledgeFacts) -> bool:
    """An attack, advice or a product the bank does not offer never reaches a flow."""
    return k.attack is not None or k.nlu_route in ("advice", "not_offered")


def decide_knowledge(k: KnowledgeFacts, found: Found | None = None) -> Route:
    """The knowledge path's route; "retrieve" when it depends on retrieval and `found` is not given."""
    if k.attack is not None:
        return Route("refuse", f"guardrail: {k.attack}")
    if k.policy == "rephrase":
        return Route("rephrase", k.policy_reason)
    if k.policy == "decline":
        return Route("not_offered" if k.nlu_route == "not_offered" else "advice", k.policy_reason)
    if k.policy == "handoff":
        return _instead_of_handoff(k, found)
    if k.faq:  # an approved answer beats a classifier's doubt ("close acount online" is no goodbye)
        return Route("faq", "an approved answer matches", offer=k.policy_reason if k.offer_agent else None)
    if k.policy == "small_talk":
        return Route("small_talk", k.policy_reason)
    if found is None:
        return RETRIEVE
    if k.policy == "refuse":
        # The scope head learnt banking from BANKING77; a passage this relevant overrules it, and a follow-up
        # belongs to the conversation's topic (docs/decisions/0007-scope-and-handoff-overrides.md).
        if not found.kb_knows and not found.leans_on_history:
            return Route("refuse", "out of scope")
        return _kb_answer(k, found, None, "in scope by the knowledge base")
    return _kb_answer(k, found, k.policy_reason if k.offer_agent else None, "")


def _instead_of_handoff(k: KnowledgeFacts, found: Found | None) -> Route:
    """A hand-off the FAQ or the KB may replace with its answer and an offer to connect (decision 0007):
    "how long do I have to cancel a remittance?" asks about a rule, not for the action itself."""
    if k.faq_first and k.faq:
        return Route("faq", f"an approved answer instead of a hand-off ({k.policy_reason})", offer=k.policy_reason)
    if not ((k.faq_first and k.asks_figure) or (k.kb_first and k.asks_rule)):
        return Route("handoff", k.policy_reason)
    if found is None:
        return RETRIEVE
    if not found.kb_knows:
        return Route("handoff", k.policy_reason)
    if k.faq:
        return Route("faq", f"an approved answer instead of a hand-off ({k.policy_reason})", offer=k.policy_reason)
    return _kb_answer(k, found, k.policy_reason, f"instead of a hand-off ({k.policy_reason})")


def _kb_answer(k: KnowledgeFacts, found: Found, offer: str | None, why: str) -> Route:
    """Clarify, say there is no answer, quote the passages or generate from them."""
    # A follow-up on the last reply's documents needs no clarifying question: the conversation says what "it" is.
    if found.low_confidence and not found.on_topic:
        return Route("clarify", k.doubt_reason, offer=k.doubt_reason if k.doubt_offer else None)
    if not found.passages:
        return Route("no_answer", "no passage is relevant enough")
    quote = _quote_reason(found)
    if quote is not None:  # a small model's paraphrase may reverse the rule (docs/decisions/0004-quoted-answers.md)
        return Route("kb_quote", f"{quote}, {why}" if why else quote, offer=offer)
    return Route("kb_generate", why or "grounded in the passages", offer=offer)


def _quote_reason(found: Found) -> str | None:
    if not found.quote_allowed:
        return None
    for reason, hit in (("asks for a figure", found.asks_figure), ("a yes/no question", found.asks_yes_no),
                        ("asks what a term means", found.asks_meaning), ("a passage quoted as written", found.quoted_category)):
        if hit:
            return reason
    return None


def recorded(route: Route) -> tuple[str, str]:
    """The route {kind, reason} a knowledge-path reply records: a hand-off as "handoff", every answer as
    "knowledge" with its precise route leading the reason ("kb_quote: asks for a figure")."""
    if route.kind == "handoff":
        return "handoff", route.reason
    return "knowledge", f"{route.kind}: {route.reason}"
