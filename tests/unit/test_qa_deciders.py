"""Each scorecard item's decider on small transcripts: the result and the evidence (message id and
character span) that decided it. Rule items need no model; embedding items are checked with their
phrase path here and with the real MiniLM encoder in tests/integration/test_qa_scoring.py."""

from datetime import UTC, datetime, timedelta

import pytest

from assistant.qa.deciders import CHECKS, PartView, Tools
from assistant.qa.scorer import Scorer, load_default
from assistant.qa.transcript import Citation, QaMessage, QaTicket, Transcript

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
CARD = load_default()


def conv(*turns, verified_at=None, tickets=(), part="agent") -> Transcript:
    """turns: (role, text) or (role, text, extra fields); message ids from 1, a minute apart."""
    msgs = []
    for i, t in enumerate(turns, 1):
        role, text, *extra = t
        msgs.append(QaMessage(id=i, role=role, part=part, text=text, at=T0 + timedelta(minutes=i), **(extra[0] if extra else {})))
    return Transcript(conversation_id="c1", messages=msgs, verified_at=verified_at, tickets=list(tickets))


def decide(item_id: str, t: Transcript, part: str = "agent", tools: Tools | None = None):
    item = CARD.item(item_id)
    _, decider = CHECKS[item.check]
    return decider(PartView(t, part, t.part(part)), item, tools or Tools())


def span_text(t: Transcript, outcome) -> str:
    m = next(m for m in t.messages if m.id == outcome.message_id)
    return m.text[outcome.start:outcome.end]


def test_greeting_passes_on_the_greeting_and_fails_on_a_bare_answer():
    t = conv(("agent", "Hi there, I'm Dana. Let me look."))
    o = decide("greeting", t)
    assert o.result == "pass" and o.message_id == 1 and span_text(t, o) == "Hi"
    t = conv(("agent", "Sure, which account do you want to check?"))
    o = decide("greeting", t)
    assert o.result == "fail" and (o.message_id, o.start, o.end) == (1, 0, len(t.messages[0].text))


def test_polite_close_reads_the_last_agent_message():
    t = conv(("agent", "Hello."), ("user", "thanks"), ("agent", "Glad I could help. Have a good evening!"))
    o = decide("polite_close", t)
    assert o.result == "pass" and o.message_id == 3 and span_text(t, o) == "Glad"
    t = conv(("agent", "Hello, thanks for waiting."), ("user", "how long"), ("agent", "A few days."))
    o = decide("polite_close", t)
    assert o.result == "fail" and o.message_id == 3


def test_account_details_before_sign_in_fail_after_sign_in_pass():
    lines = (("user", "my card payment looks wrong"), ("agent", "Let me look. I can see a payment of $64.20 at Shell yesterday."))
    t = conv(*lines)
    o = decide("identity_before_account", t)
    assert o.result == "fail" and o.message_id == 2 and span_text(t, o).startswith("I can see a payment")
    assert decide("identity_before_account", conv(*lines, verified_at=T0)).result == "pass"
    assert decide("identity_before_account", conv(("agent", "Cards take 7 business days."))).result == "na"


def test_an_agent_confirming_sign_in_counts_as_proof():
    t = conv(("agent", "Before I look, please sign in to online banking in this chat."), ("user", "done"),
             ("agent", "Thank you, you're verified."), ("agent", "Your card ending 1234 is active."))
    o = decide("identity_before_account", t)
    assert o.result == "pass" and o.message_id == 4 and span_text(t, o) == "card ending"


@pytest.mark.parametrize("text, asked", [
    ("To find the card I need the full 16 digit card number and the expiry date please.", True),
    ("Can you confirm your PIN so I can check it?", True),
    ("What is your online banking password?", True),
    ("Please read me the 6-digit one-time code so I can reset your access.", True),
    ("For your security, please don't share full card numbers, PINs or passwords in chat.", False),
    ("We will never ask for your PIN or password.", False),
    ("Can you tell me the last four digits of the card?", False),
])
def test_requests_for_secrets(text, asked):
    t = conv(("agent", "Hello."), ("agent", text))
    o = decide("no_secret_request", t)
    assert o.result == ("fail" if asked else "pass")
    if asked:
        assert o.message_id == 2 and span_text(t, o) == text


def test_the_bots_step_up_asking_for_the_code_it_sent_is_sanctioned():
    t = conv(("user", "send $25 to my sister"), ("assistant", "I've sent a one-time code to your phone. Please type the code here.",
             {"path": "flow"}), part="bot")
    assert decide("no_secret_request", t, "bot").result == "pass"


def test_promises_fail_and_policy_statements_do_not():
    t = conv(("agent", "Hi."), ("agent", "No problem, I'll refund the monthly fee for the trouble."))
    o = decide("no_unallowed_promise", t)
    assert o.result == "fail" and o.message_id == 2 and span_text(t, o).startswith("No problem, I'll refund")
    t = conv(("agent", "Hi."), ("agent", "Under our fee schedule I can't refund this fee."),
             ("agent", "A recall isn't guaranteed."))
    assert decide("no_unallowed_promise", t).result == "pass"


def test_a_quoted_policy_sentence_is_not_a_promise():
    policy = "You can cancel a Larkspur Global Send transfer for a full refund, including the $5 fee, within 30 minutes."
    t = conv(("user", "can I cancel"), ("assistant", policy, {"path": "extractive", "citations": [Citation(doc_id="remit")]}), part="bot")
    tools = Tools(kb_text=lambda d: "## Cancel\n" + policy if d == "remit" else None)
    assert decide("no_unallowed_promise", t, "bot", tools).result == "pass"


def test_a_dispute_needs_its_timeline():
    t = conv(("agent", "Right, I've raised a dispute on that transaction for you."), ("agent", "That's done now."))
    o = decide("required_disclosures", t)
    assert o.result == "fail" and o.message_id == 1 and span_text(t, o) == "raised a dispute"
    t = conv(("agent", "I've opened a dispute for it."), ("agent", "We investigate within 10 business days."))
    o = decide("required_disclosures", t)
    assert o.result == "pass" and o.message_id == 2 and span_text(t, o) == "within 10 business days"
    assert decide("required_disclosures", conv(("agent", "Your balance is fine."))).result == "na"


def test_empathy_when_the_customer_is_upset():
    t = conv(("user", "this is the worst bank ever, nobody helps"), ("agent", "Cards take 7 business days."))
    o = decide("empathy", t)
    assert o.result == "fail" and o.message_id == 2
    t = conv(("user", "this is ridiculous, I've been waiting forever"), ("agent", "I completely understand, and I apologise."))
    o = decide("empathy", t)
    assert o.result == "pass" and span_text(t, o) == "I understand" or span_text(t, o).lower().startswith("apolog")
    assert decide("empathy", conv(("user", "what is my balance"), ("agent", "Hello."))).result == "na"


def test_resolution_or_next_step():
    t = conv(("user", "where is it"), ("agent", "Sorry, still checking."))
    assert decide("resolution_or_next_step", t).result == "fail"
    t = conv(("user", "ok"), ("agent", "They will email you with an update within 2 business days."))
    o = decide("resolution_or_next_step", t)
    assert o.result == "pass" and o.message_id == 2
    bot = conv(("user", "hm"), ("assistant", "Could you tell me which card?", {"path": "clarify"}), part="bot")
    assert decide("resolution_or_next_step", bot, "bot").result == "fail"


def test_bot_answers_cite_and_their_figures_are_in_the_cited_documents():
    fee = "The Everyday Checking monthly fee is $10, waived with $500 in direct deposits."
    t = conv(("user", "fee?"), ("assistant", fee, {"path": "faq", "citations": [Citation(doc_id="chk")]}),
             ("user", "and savings?"), ("assistant", "Savings costs $7 a month.", {"path": "generated", "citations": [Citation(doc_id="chk")]}),
             part="bot")
    tools = Tools(kb_text=lambda d: "Everyday Checking: $10 per statement cycle. Waived with $500." if d == "chk" else None)
    assert decide("cited_sources", t, "bot").result == "pass"
    o = decide("figures_in_citations", t, "bot", tools)
    assert o.result == "fail" and o.message_id == 4 and span_text(t, o) == "7"
    uncited = conv(("user", "fee?"), ("assistant", fee, {"path": "extractive"}), part="bot")
    o = decide("cited_sources", uncited, "bot")
    assert o.result == "fail" and o.message_id == 2


def test_handoff_reason_on_the_ticket():
    ticket = QaTicket(id=7, reason="customer asked for a person", status="closed")
    t = conv(("user", "agent please"), ("assistant", "I'm connecting you with one of our agents.", {"path": "handoff"}),
             tickets=[ticket], part="bot")
    o = decide("handoff_reason", t, "bot")
    assert o.result == "pass" and o.message_id == 2
    t2 = t.model_copy(update={"tickets": [ticket.model_copy(update={"reason": ""})]})
    assert decide("handoff_reason", t2, "bot").result == "fail"
    assert decide("handoff_reason", conv(("assistant", "Hi", {"path": "faq"}), part="bot"), "bot").result == "na"


def test_the_scorer_weighs_applicable_items_and_lists_critical_fails():
    t = conv(("user", "card?"), ("agent", "Hello! What's your PIN?"), ("agent", "Thanks, have a great day."))
    scored = Scorer(CARD).score(t)
    by = {(i.item_id, i.part): i.outcome.result for i in scored.items}
    assert by[("no_secret_request", "agent")] == "fail" and by[("greeting", "agent")] == "pass"
    assert all(part == "agent" for _, part in by)  # no bot reply: no bot part
    assert [i.item_id for i in scored.critical_fails] == ["no_secret_request"]
    assert 0 < scored.score < 100
