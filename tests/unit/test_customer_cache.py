"""The customer's lists kept per conversation (assistant/dialogue/customer_cache.py) and the flows a
turn reads them for (FlowMatcher.candidates): the bank is asked only for what a turn can use (issue #26)."""

import zlib

import numpy as np

from assistant.dialogue.actions import AccountInfo, CardInfo, CustomerData, parts_for
from assistant.dialogue.customer_cache import CustomerCache
from assistant.dialogue.flows import load_flows
from assistant.dialogue.matcher import FlowMatcher


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


ACCOUNTS = CustomerData(accounts=(AccountInfo("a1", "checking", "4821"),), parts=frozenset({"accounts"}))
CARDS = CustomerData(cards=(CardInfo("c1", "1234", "debit", "active"),), parts=frozenset({"cards"}))


def test_lists_serve_the_same_customer_in_the_same_conversation_until_they_expire():
    clock = Clock()
    cache = CustomerCache(60, clock=clock)
    assert cache.put("alex", "c1", ACCOUNTS, clock()) == ACCOUNTS
    assert cache.get("alex", "c1") == ACCOUNTS
    assert cache.get("alex", "c2") is None  # another conversation reads the bank
    assert cache.get("priya", "c1") is None  # another customer signed in here: the same
    clock.now += 59
    joined = cache.put("alex", "c1", CARDS, clock(), cache.get("alex", "c1"))
    assert joined.parts == {"accounts", "cards"} and joined.accounts and joined.cards
    clock.now += 1  # the accounts are 60 s old: the whole entry goes, though the cards are fresh
    assert cache.get("alex", "c1") is None


def test_an_action_on_money_or_a_card_drops_every_conversation_of_that_customer():
    clock = Clock()
    cache = CustomerCache(60, clock=clock)
    for cid in ("c1", "c2"):
        cache.put("alex", cid, ACCOUNTS, clock())
    cache.put("priya", "c3", ACCOUNTS, clock())
    read_at = clock()
    clock.now += 1
    cache.changed("alex")
    assert cache.get("alex", "c1") is None and cache.get("alex", "c2") is None
    assert cache.get("priya", "c3") == ACCOUNTS
    # a read that began before the change (a turn in flight) is not kept
    cache.put("alex", "c1", ACCOUNTS, read_at)
    assert cache.get("alex", "c1") is None
    clock.now += 1
    cache.put("alex", "c1", ACCOUNTS, clock())
    assert cache.get("alex", "c1") == ACCOUNTS


def test_no_ttl_keeps_nothing_and_the_oldest_entries_go_first():
    assert CustomerCache(0).put("alex", "c1", ACCOUNTS, 0.0) == ACCOUNTS
    small = CustomerCache(60, max_entries=2)
    for cid in ("c1", "c2", "c3"):
        small.put("alex", cid, ACCOUNTS, small.clock())
    assert small.get("alex", "c1") is None and small.get("alex", "c3") == ACCOUNTS


def test_only_the_slot_kinds_read_are_asked_for():
    assert parts_for(["amount", "destination", "account"]) == {"accounts", "payees"}
    assert parts_for(["card", "choice"]) == {"cards"} and parts_for(["merchant", "date"]) == {"merchants"}
    assert parts_for(["amount", "text", "contact"]) == frozenset()


def test_a_flow_left_out_of_the_candidates_could_not_have_been_matched_with_its_evidence():
    """`match` reads slots (the evidence) of its nearest flow only; whatever that evidence says about a flow
    `candidates` leaves out, the match is the same, so the turn need not read that flow's lists."""
    rng = np.random.default_rng(3)
    flows = load_flows()
    names = sorted(flows)

    def embed(texts):
        return np.stack([np.random.default_rng(zlib.crc32(t.encode())).normal(size=16) for t in texts])

    matcher = FlowMatcher(flows, embed, min_similarity=0.6, min_intent_confidence=0.6)
    seen_left_out = seen_kept = 0
    for _ in range(400):
        example = matcher._vectors[rng.integers(len(matcher._vectors))]
        vector = example + rng.normal(scale=rng.uniform(0.05, 1.5), size=example.shape)
        intent = rng.choice([None, "check_balance", "card_linking", "greeting"])
        confidence, faq, margin = float(rng.uniform(0, 1)), float(rng.uniform(0, 0.9)), float(rng.choice([0, 0.05]))
        kept = matcher.candidates(vector, intent)
        for flow in names:
            if flow in kept:
                seen_kept += 1
                continue
            seen_left_out += 1
            with_evidence = matcher.match(vector, intent, confidence, faq_score=faq, margin=margin,
                                          evidence=lambda f, flow=flow: f == flow)
            without = matcher.match(vector, intent, confidence, faq_score=faq, margin=margin)
            assert with_evidence == without
            assert with_evidence is None or with_evidence.flow in kept
    assert seen_left_out and seen_kept


def test_no_flows_no_candidates():
    matcher = FlowMatcher({}, lambda texts: np.zeros((len(texts), 4)), min_similarity=0.6, min_intent_confidence=0.6)
    assert matcher.candidates(np.ones(4), "check_balance") == set()
