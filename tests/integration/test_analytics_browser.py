"""/console/analytics and the widget's survey in a real browser (Debian chromium via Playwright), against
the real app: a supervisor signs in with the keyboard, filters the dashboard, downloads a table, clicks a bar
and reads the conversations behind it; an agent-only account is turned away; axe finds no serious
violations; a customer rates a conversation in the widget."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests.a11y import serious_violations
from tests.analytics_seed import seed
from tests.integration.test_widget_browser import ARTIFACTS, ask, browser, server, widget  # noqa: F401

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

PW = "tangerine-ladder-42"
RANGE = "start=2024-03-01&end=2024-03-14"  # the seeded history, two years back


@pytest.fixture(scope="module")
def history(services):
    return seed(services.conversations._engine, years_back=2)


def account(services, *roles: str) -> str:
    name = f"{roles[0]}-{uuid.uuid4().hex[:6]}"
    services.agents.add(name, PW, role=list(roles))
    return name


def sign_in_with_the_keyboard(page, username: str) -> None:
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.id") != "username":
        page.keyboard.press("Tab")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PW)
    page.keyboard.press("Enter")


def kpi(page, label: str):
    return page.locator(".kpi", has=page.locator(".kpi-label", has_text=label)).locator(".cell-link")


def test_supervisor_filters_exports_and_opens_the_conversations_behind_a_bar(server, browser, services, history):  # noqa: F811
    boss = account(services, "supervisor")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{server}/console/analytics?{RANGE}")
    expect(page.locator("#login")).to_be_visible()
    sign_in_with_the_keyboard(page, boss)
    expect(page.locator("#dashboard[data-loaded]")).to_be_attached(timeout=30_000)
    expect(kpi(page, "Conversations")).to_have_text("6")
    assert page.evaluate("JSON.parse(sessionStorage.getItem('bankassist.staff')).agent.roles") == ["supervisor"]
    assert [a.get_attribute("href") for a in page.locator("nav a").all()] == [
        "/console/analytics", "/console/qa", "/console/kb"]

    # keyboard only: tab to the channel filter, pick web, tab on to the button and submit
    page.locator("#f-granularity").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "f-intent"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "f-channel"
    page.keyboard.press("ArrowDown")  # All channels -> Web
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "apply"
    page.keyboard.press("Enter")
    expect(page.locator("#dashboard[data-loaded]")).to_be_attached(timeout=30_000)
    assert "channel=web" in page.url
    expect(kpi(page, "Conversations")).to_have_text("4")
    expect(page.locator("#fig-channels tbody tr")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "analytics-dashboard.png"), full_page=True, animations="disabled")

    with page.expect_download() as got:
        page.locator("#fig-handoff_reasons .csv").click()
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8"))))
    assert rows == [["Reason", "Hand-offs", "Share of conversations"],
                    ["complaint with negative sentiment", "1", "0.25"], ["explicit request for a human", "1", "0.25"]]

    # click the first bar of the hand-off reasons chart: the conversation handed off for a complaint
    point = page.evaluate("""() => { const c = Chart.getChart(document.querySelector('#fig-handoff_reasons canvas'));
        const bar = c.getDatasetMeta(0).data[0]; const r = c.canvas.getBoundingClientRect();
        return {x: r.left + bar.x, y: r.top + (bar.y + bar.base) / 2}; }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/console/conversations?**", timeout=30_000)
    convo = page.locator("article.convo")
    expect(convo).to_have_count(1)
    expect(convo).to_have_attribute("data-conversation", history["c6"])
    expect(convo).to_contain_text("I want to complain")
    expect(convo).to_contain_text("complaint with negative sentiment")
    expect(page.locator("#title")).to_contain_text("Hand-offs by reason")
    page.screenshot(path=str(ARTIFACTS / "analytics-conversations.png"), full_page=True, animations="disabled")

    # a table cell works the same, from the keyboard: the CSAT score 2 row opens the conversation rated 2
    page.go_back()
    expect(page.locator("#dashboard[data-loaded]")).to_be_attached(timeout=30_000)
    cell = page.locator('#fig-csat button.cell-link[data-key="2"]')
    cell.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/conversations?**", timeout=30_000)
    expect(page.locator("article.convo")).to_have_attribute("data-conversation", history["c2"])
    expect(page.locator("article.convo")).to_contain_text("CSAT 2/5")
    expect(page.locator("article.convo")).to_contain_text("[CARD]")
    ctx.close()


def test_an_agent_only_account_is_turned_away(server, browser, services, client):  # noqa: F811
    agent = account(services, "agent")
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{server}/console/analytics")
    sign_in_with_the_keyboard(page, agent)
    expect(page.locator("#login-error")).to_have_text("This page needs the supervisor role.")
    expect(page.locator("#dashboard")).to_be_hidden()
    token = client.post("/v1/agent/login", json={"username": agent, "password": PW}).json()["token"]
    r = client.get("/v1/analytics/figures/overview", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["detail"] == "this needs the supervisor role"
    ctx.close()


def test_customer_rates_the_conversation_in_the_widget(server, browser, services):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(server + "/")
    w = widget(page)
    w.locator(".launcher").click()
    ask(page, "What is your routing number?")
    cid = page.evaluate("window.BankChatWidget.conversationId")
    w.locator(".end-btn").click()
    survey = w.locator(".survey")
    expect(survey).to_be_visible()
    survey.locator(".primary").click()  # no score chosen yet
    expect(survey.locator(".msg-status")).to_have_text("Please choose a score from 1 to 5.")
    page.keyboard.press("ArrowRight")  # radios: the arrow keys move through 1-5
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    survey.locator("input[type=text]").fill("quick answer")
    survey.locator(".primary").click()
    expect(w.locator(".notice").last).to_contain_text("Thanks for your rating.")
    expect(survey).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "widget-csat.png"), animations="disabled")
    assert services.analytics.transcripts([cid])[0]["csat"] == {"score": 4, "comment": "quick answer"}
    assert page.evaluate("window.BankChatWidget.conversationId") is None  # the next message starts a new chat
    ctx.close()


def test_no_serious_accessibility_violations(server, browser, services, history):  # noqa: F811
    """axe-core on the login form, the dashboard, the conversations page and the widget's survey. axe is
    injected as an inline script, which the pages' CSP forbids: this context lets it in (the tests above run
    under the real CSP)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    page = ctx.new_page()
    page.goto(f"{server}/console/analytics?{RANGE}")
    expect(page.locator("#login")).to_be_visible()
    assert serious_violations(page) == []
    sign_in_with_the_keyboard(page, account(services, "supervisor"))
    expect(page.locator("#dashboard[data-loaded]")).to_be_attached(timeout=30_000)
    assert serious_violations(page) == []
    kpi(page, "Handed off").click()
    page.wait_for_url("**/console/conversations?**", timeout=30_000)
    expect(page.locator("article.convo")).to_have_count(2)
    assert serious_violations(page) == []
    page.goto(server + "/")
    w = widget(page)
    w.locator(".launcher").click()
    ask(page, "What is your routing number?")
    w.locator(".end-btn").click()
    expect(w.locator(".survey")).to_be_visible()
    assert serious_violations(page) == []
    ctx.close()
