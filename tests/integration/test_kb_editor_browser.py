"""/console/kb in a real browser (Debian chromium via Playwright) over the real services on a copy of the KB.

An editor drafts an FAQ from a knowledge gap, tries it, submits it; an approver publishes it and
the chat answers with it within seconds. The page has no serious axe-core violations in each
state and works from the keyboard alone. The gaps come from GET /v1/analytics/gaps (the analytics
pages' contract), served here by the browser's request routing.
"""

import json
import socket
import threading
import time
import uuid

import httpx
import pytest
import uvicorn

from assistant.api.app import create_app
from tests.a11y import serious_violations
from tests.integration.test_widget_browser import ARTIFACTS, browser  # noqa: F401  (skips without chromium)

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

PW = "tangerine-ladder-42"
PARKING = ["is there free parking at the branch", "where do i park when i visit a branch?",
           "do your branches have a car park for customers"]
GAP = {"gaps": [{"id": "gap-parking", "name": "Parking at branches", "count": 7, "examples": PARKING,
                 "conversation_ids": ["c-1", "c-2"]}]}
ANSWER = "Every Larkspur branch has free customer parking for 90 minutes; ask a teller to validate your ticket."


@pytest.fixture(scope="module")
def kb_server(kb_services):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(kb_services.settings, kb_services), host="127.0.0.1", port=port,
                                        log_config=None))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def accounts(kb_services):
    names = {}
    for who, role in (("editor", "kb_editor"), ("approver", "kb_approver"), ("agent", "agent")):
        names[who] = f"{who}-{uuid.uuid4().hex[:6]}"
        kb_services.agents.add(names[who], PW, display_name=who.title(), role=[role])
    return names


def serve_gaps(page, status=200):
    page.route("**/v1/analytics/gaps", lambda route: route.fulfill(status=status, content_type="application/json",
                                                                    body=json.dumps(GAP if status == 200 else {"detail": "Not Found"})))


def sign_in(page, server, username):
    page.goto(server + "/console/kb")
    page.fill("#username", username)
    page.fill("#password", PW)
    page.click("#login button[type=submit]")


def no_serious(page, state):
    found = serious_violations(page)
    assert found == [], f"{state}: {found}"


def test_editor_drafts_from_a_gap_approver_publishes_and_the_chat_answers(kb_server, browser, accounts):  # noqa: F811
    # bypass_csp: axe-core is injected as an inline script, which the page's CSP (script-src 'self') refuses
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = ctx.new_page()
    serve_gaps(page)
    page.goto(kb_server + "/console/kb")
    no_serious(page, "sign-in form")
    sign_in(page, kb_server, accounts["editor"])
    expect(page.locator("#gaps-panel")).to_be_visible()
    expect(page.locator("#gaps")).to_contain_text("Parking at branches")
    no_serious(page, "workspace")

    page.get_by_role("button", name="Draft an FAQ from the gap Parking at branches").click()
    draft = page.locator("#pane .draft")
    expect(draft.locator(".title")).to_contain_text("Draft #")
    title = draft.locator("input[name=title]")
    assert title.input_value().rstrip("?").lower() in [q.rstrip("?").lower() for q in PARKING]
    assert len(draft.locator("textarea[name=questions]").input_value().splitlines()) == 2
    expect(draft.locator(".sources h3")).to_contain_text("Parking at branches")  # the gap and its conversations stay with the draft
    expect(draft.locator(".sources h3")).to_contain_text("2 conversations")
    draft.locator("textarea[name=answer]").fill(ANSWER)
    draft.locator("button.save").click()
    expect(page.locator("#status")).to_have_text("Saved.")
    no_serious(page, "draft")

    draft = page.locator("#pane .draft")
    draft.locator(".try-form input[name=question]").fill(PARKING[1])
    draft.locator(".try-form button").click()
    expect(draft.locator(".try-answer .answer")).to_have_text(ANSWER, timeout=60_000)
    expect(draft.locator(".try-answer")).to_contain_text("this draft")
    assert httpx.post(kb_server + "/v1/chat", json={"message": PARKING[1]}, timeout=60).json()["reply"] != ANSWER
    expect(draft.locator("button.publish")).to_be_hidden()  # an editor has no publish button
    draft.locator("button.submit").click()
    expect(page.locator("#status")).to_have_text("Submitted for review.")
    doc_id = page.locator("#pane .draft .title").inner_text().split(": ", 1)[1]
    page.click("#logout")

    sign_in(page, kb_server, accounts["approver"])
    page.locator("#drafts button", has_text=doc_id).click()
    draft = page.locator("#pane .draft")
    expect(draft.locator(".meta")).to_contain_text("submitted")
    page.locator("#pane details.diff-box summary").click()
    expect(draft.locator(".diff")).to_contain_text(ANSWER)
    no_serious(page, "draft under review")
    page.screenshot(path=str(ARTIFACTS / "console-kb-draft.png"), animations="disabled", full_page=True)
    draft.locator("button.publish").click()
    expect(page.locator("#status")).to_have_text("Published. The assistant answers with it now.", timeout=120_000)
    published_at = time.monotonic()
    for question in PARKING:
        reply = httpx.post(kb_server + "/v1/chat", json={"message": question}, timeout=60).json()
        assert reply["reply"] == ANSWER and reply["citations"][0]["doc_id"] == doc_id, reply
    assert time.monotonic() - published_at < 10

    page.fill("#doc-filter", doc_id)
    page.locator("#docs button", has_text=doc_id).click()
    expect(page.locator("#pane .versions tbody tr")).to_have_count(1)
    no_serious(page, "document with versions")
    page.screenshot(path=str(ARTIFACTS / "console-kb.png"), animations="disabled")
    ctx.close()


def tab_to(page, selector, limit=120):
    """Press Tab until the focused element matches `selector`: it is reachable from the keyboard."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_keyboard_only(kb_server, browser, accounts):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    serve_gaps(page, status=404)
    page.goto(kb_server + "/console/kb")
    tab_to(page, "#username")
    page.keyboard.type(accounts["editor"])
    page.keyboard.press("Tab")
    page.keyboard.type(PW)
    page.keyboard.press("Enter")
    expect(page.locator("#workspace")).to_be_visible()
    expect(page.locator("#gaps-panel")).to_be_hidden()  # no analytics route: no panel

    tab_to(page, "#fromq-text")
    page.keyboard.type("can i open an account for my cat\nhow do i get a bank account for my pet cat")
    tab_to(page, "#fromq button")
    page.keyboard.press("Enter")
    expect(page.locator("#pane .draft .title")).to_be_focused()
    tab_to(page, "#pane textarea[name=answer]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Accounts are opened for people and businesses only, not for pets.")
    tab_to(page, "#pane button.save")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Saved.")
    tab_to(page, "#pane button.submit")
    page.keyboard.press("Space")
    expect(page.locator("#status")).to_have_text("Submitted for review.")
    expect(page.locator("#pane .draft .meta")).to_contain_text("submitted")
    ctx.close()


def test_a_role_without_permission_is_turned_away(kb_server, browser, accounts):  # noqa: F811
    page = browser.new_page()
    sign_in(page, kb_server, accounts["agent"])
    expect(page.locator("#login-error")).to_contain_text("kb_editor or kb_approver role")
    expect(page.locator("#workspace")).to_be_hidden()
    page.close()
