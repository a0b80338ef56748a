"""Flow files: the shipped ones load; a malformed one is refused naming the file and the step."""

from pathlib import Path

import pytest

from assistant.dialogue.actions import MUTATING
from assistant.dialogue.flows import FlowError, load_flows, render


def test_shipped_flows_load_and_every_change_is_read_back_first():
    flows = load_flows()
    assert {"check_balance", "transfer", "freeze_card", "unfreeze_card", "report_lost_card",
            "activate_card", "card_delivery", "payment_status", "dispute_transaction", "update_contact",
            "recent_transactions"} <= set(flows)
    for flow in flows.values():
        ids = [s.id for s in flow.steps]
        for s in flow.steps:
            if s.action in MUTATING:
                assert any(p.confirm for p in flow.steps[: ids.index(s.id)]), (flow.name, s.id)
    # moving money to someone else and changing contact details need a fresh one-time code
    for name in ("transfer", "update_contact"):
        assert any(s.step_up for s in flows[name].steps), name


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "bad.yaml").write_text(text)
    return tmp_path


GOOD = """
name: demo
title: a demo
slots:
  amount: {type: amount, ask: "How much?"}
steps:
  - id: ask
    collect: amount
  - id: rb
    confirm: "Move {amount}?"
  - id: go
    action: transfer
    args: {amount: amount}
"""


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("collect: amount", "collect: amount\n    say: hi"), "step 1 ('ask')"),
    (GOOD.replace("collect: amount", "collect: amout"), "collects unknown slot 'amout'"),
    (GOOD.replace("  - id: rb\n    confirm: \"Move {amount}?\"\n", ""), "without a confirm step"),
    (GOOD.replace("args: {amount: amount}", "args: {amount: amount}\n    branch: {ok: nowhere}"),
     "unknown step 'nowhere'"),
    (GOOD.replace("type: amount", "type: money"), "slots.amount.type"),
    (GOOD.replace("id: go", "id: Go Now"), "step 3"),
    (GOOD.replace("action: transfer", "action: launch_rocket"), "unknown action 'launch_rocket'"),
    ("name: [unclosed", "cannot read"),
])
def test_malformed_flow_is_refused_with_file_and_step(tmp_path, text, message):
    with pytest.raises(FlowError) as err:
        load_flows(_write(tmp_path, text), actions={"transfer"})
    assert "bad.yaml" in str(err.value) and message in str(err.value)


def test_good_file_loads(tmp_path):
    assert set(load_flows(_write(tmp_path, GOOD), actions={"transfer"})) == {"demo"}


def test_render_keeps_unknown_names_visible_and_never_raises():
    assert render("Send {amount} to {payee}", {"amount": "$5.00"}) == "Send $5.00 to {payee}"
