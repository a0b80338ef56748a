"""A signed-in customer moves money with step-up in the real widget (Debian chromium via Playwright),
against the sandbox bank over HTTP: the confirmation is a button, and the ledger shows one transfer."""

import httpx
import pytest

from tests.integration.test_widget_browser import ARTIFACTS, ask, browser, finished_replies, server, widget  # noqa: F401

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


def test_signed_in_customer_transfers_with_step_up_and_sees_the_confirmation(server, browser, settings):  # noqa: F811
    bank = httpx.Client(base_url=settings.banking.url, timeout=10)
    bank.post("/sandbox/reset").raise_for_status()
    before = {t["id"] for t in bank.get("/v1/customers/cus_alex/transfers").json()}
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    page.goto(server + "/")
    page.select_option("#demo-customer", "cus_alex")
    page.click("#demo-sign-in")  # the demo page plays the bank's logged-in site: it signs this conversation
    w = widget(page)
    expect(finished_replies(w)).to_have_count(1, timeout=60_000)
    expect(w.locator(".verified")).to_be_visible()

    reply = ask(page, "send $25 to my sister")
    expect(reply).to_contain_text("Please confirm")
    expect(reply).to_contain_text("Maria Lopez")
    confirm = w.locator(".chip", has_text="Yes, confirm")
    expect(confirm).to_be_visible()
    count = finished_replies(w).count()
    confirm.click()  # the read-back's confirmation is a button as well as text
    expect(finished_replies(w)).to_have_count(count + 1, timeout=60_000)
    expect(finished_replies(w).last).to_contain_text("one-time code")

    code = bank.get("/sandbox/outbox/cus_alex").json()[0]["code"]
    done = ask(page, code)
    expect(done).to_contain_text("Reference")
    page.screenshot(path=str(ARTIFACTS / "selfservice-transfer.png"), animations="disabled")

    new = [t for t in bank.get("/v1/customers/cus_alex/transfers").json() if t["id"] not in before]
    assert len(new) == 1 and new[0]["amount"]["amount_cents"] == 2500 and new[0]["payee_id"]
    ctx.close()
