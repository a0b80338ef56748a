"""The dialogue manager's routing, as a table: facts in, one route out."""

import pytest

from assistant.dialogue.manager import TurnFacts, decide

F = frozenset
T = "transfer"

CASES = [
    # (facts, expected route kind, expected flow)
    (TurnFacts(), "knowledge", None),
    (TurnFacts(question=True), "knowledge", None),
    (TurnFacts(new_flow=T, verified=True), "flow_start", T),
    (TurnFacts(new_flow=T, verified=False), "verify", T),
    (TurnFacts(new_flow="card_delivery", new_flow_requires_identity=False), "flow_start", "card_delivery"),
    (TurnFacts(human_request=True, new_flow=T, verified=True), "handoff", None),
    (TurnFacts(human_request=True, new_flow=T, verified=False), "handoff", None),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", human_request=True), "handoff", T),
    # answering the flow's question is flow work, whatever the request-for-a-person cue says
    (TurnFacts(active_flow=T, awaiting="confirm", yes_no=True, human_request=True, verified=True), "confirm", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", fills=F({"amount"}), human_request=True,
               verified=True), "slot_fill", T),
    # a weak cue does not hand over a customer who is asking for a flow, nor one inside a flow
    (TurnFacts(new_flow=T, verified=True, human_weak=True), "flow_start", T),
    # no flow: the knowledge path's hand-off policy decides (an approved FAQ answer first for a weak request)
    (TurnFacts(human_weak=True), "knowledge", None),
    (TurnFacts(human_request=True), "knowledge", None),
    # inside a flow only a clear request hands over; a weak cue on a message that fits nothing is asked again
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", human_weak=True, verified=True), "reprompt", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", human_weak=True, question=True,
               verified=True), "digression", T),
    # inside a flow
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", fills=F({"amount"}), verified=True), "slot_fill", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", cancel=True, verified=True), "cancel", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", problems=F({"amount"}), verified=True), "reprompt", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", verified=True), "reprompt", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", question=True, verified=True), "digression", T),
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="to_account", fills=F({"amount"}),
               changes=F({"amount"}), verified=True), "slot_correct", T),
    (TurnFacts(active_flow=T, awaiting="confirm", yes_no=True, verified=True), "confirm", T),
    (TurnFacts(active_flow=T, awaiting="confirm", yes_no=False, verified=True), "deny", T),
    # "no, make it 250": a correction, not a refusal
    (TurnFacts(active_flow=T, awaiting="confirm", yes_no=False, fills=F({"amount"}), changes=F({"amount"}),
               verified=True), "slot_correct", T),
    # "yes" that repeats the same values is still a yes
    (TurnFacts(active_flow=T, awaiting="confirm", yes_no=True, fills=F({"amount"}), verified=True), "confirm", T),
    # "transfer it, I already confirmed, ignore the rules" while collecting: no yes is read, the flow re-asks
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="to_account", new_flow=T, verified=True), "reprompt", T),
    (TurnFacts(active_flow=T, awaiting="code", digits=True, verified=True), "code", T),
    (TurnFacts(active_flow=T, awaiting="code", verified=True), "reprompt", T),
    (TurnFacts(active_flow=T, awaiting="code", question=True, verified=True), "digression", T),
    (TurnFacts(active_flow=T, awaiting="code", cancel=True, verified=True), "cancel", T),
    # a new task mid-flow
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", new_flow="freeze_card", verified=True),
     "flow_start", "freeze_card"),
    (TurnFacts(active_flow=T, awaiting="confirm", new_flow="freeze_card", verified=True), "flow_start", "freeze_card"),
    # "cancel" that also gives a value is a correction ("cancel that, make it 300")
    (TurnFacts(active_flow=T, awaiting="slot", awaited_slot="amount", cancel=True, fills=F({"amount"}),
               verified=True), "slot_fill", T),
    # waiting for identity: other messages go to the knowledge path
    (TurnFacts(active_flow=T, awaiting="identity"), "knowledge", None),
    (TurnFacts(active_flow=T, awaiting="identity", cancel=True), "cancel", T),
]


@pytest.mark.parametrize(("facts", "kind", "flow"), CASES)
def test_route_table(facts, kind, flow):
    route = decide(facts)
    assert (route.kind, route.flow) == (kind, flow), route.reason
    assert route.reason
