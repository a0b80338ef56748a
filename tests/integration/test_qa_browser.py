"""/console/qa in a real browser (Debian chromium via Playwright): a reviewer signs in, opens a
conversation from the risk queue, overrides an item, and the agreement figure changes; the page has
no serious axe-core violations and works from the keyboard alone."""

import re

import pytest

from tests.a11y import serious_violations
from tests.integration.test_qa_api import PW, agent_conversation, staff
from tests.integration.test_widget_browser import ARTIFACTS, browser, server  # noqa: F401

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402


@pytest.fixture
def scored(client, services):
    """A new closed conversation with an agent part, scored (it lands in the queue: a critical fail)."""
    cid, agent, _ = agent_conversation(client, services, [
        "hello", "Can you confirm your PIN so I can check the card?", "Done, bye."])
    _, boss = staff(client, services, "supervisor")
    client.post("/v1/qa/score", json={"idle_minutes": 0}, headers=boss)
    rows = client.get(f"/v1/qa/scores?agent={agent}", headers=boss).json()
    if not rows:  # the suite's older conversations filled the batch (oldest first): score this one
        services.qa.score_conversation(cid)
        rows = client.get(f"/v1/qa/scores?agent={agent}", headers=boss).json()
    return rows[0]["id"]


def login(page, server, username):  # noqa: F811
    page.goto(server + "/console/qa")
    page.fill("#username", username)
    page.fill("#password", PW)
    page.click("#login button[type=submit]")
    expect(page.locator("#console")).to_be_visible()


def test_reviewer_overrides_an_item_and_the_agreement_changes(server, browser, client, services, scored):  # noqa: F811
    reviewer, _ = staff(client, services, "qa_reviewer")
    # bypass_csp lets the test inject axe-core; the page itself keeps its CSP
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    login(page, server, reviewer)
    rate, count = page.locator("#agreement-rate"), page.locator("#agreement-count")
    expect(rate).not_to_have_text("–")
    before = count.inner_text()  # "N of M reviewed items ...": the rate alone can repeat (16/17 then 32/34)
    page.locator(f"#queue button[data-score='{scored}']").click()
    expect(page.locator("#items tbody tr")).not_to_have_count(0)
    assert page.locator("#transcript mark").count() >= 1  # evidence spans are highlighted
    row = page.locator("#items tbody tr", has=page.locator("th", has_text="Greeted the customer"))
    scorer_said = row.locator("td").nth(1).locator("span").first.inner_text()
    other = "fail" if scorer_said == "pass" else "pass"
    row.locator(f"input[value={other}]").check()
    page.click("#save-review")
    expect(page.locator("#status")).to_contain_text("1 overridden")
    expect(count).not_to_have_text(before)
    assert re.match(r"\d+\.\d%", rate.inner_text())
    page.screenshot(path=str(ARTIFACTS / "console-qa.png"), full_page=True, animations="disabled")
    assert serious_violations(page) == []
    page.context.close()


def test_keyboard_only_review(server, browser, client, services, scored):  # noqa: F811
    reviewer, _ = staff(client, services, "qa_reviewer")
    # bypass_csp lets the test inject axe-core; the page itself keeps its CSP
    page = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    page.goto(server + "/console/qa")
    assert serious_violations(page) == []  # the sign-in view too
    page.locator("#username").focus()
    page.keyboard.type(reviewer)
    page.keyboard.press("Tab")
    page.keyboard.type(PW)
    page.keyboard.press("Enter")
    expect(page.locator("#console")).to_be_visible()
    queue_button = page.locator(f"#queue button[data-score='{scored}']")
    expect(queue_button).to_be_visible()
    for _ in range(60):  # Tab until the queue entry has the focus, then open it with Enter
        page.keyboard.press("Tab")
        if queue_button.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("the queue entry is not reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#review-title")).to_be_focused()
    first_radio = page.locator("#items tbody tr").first.locator("input:checked")
    first_radio.focus()
    page.keyboard.press("ArrowRight")  # a radio group moves and checks with the arrow keys
    page.locator("#save-review").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Review saved")
    page.context.close()
