"""The embeddable chat widget in a real browser (Debian chromium driven by Playwright).

A real server (uvicorn in a thread) over the session's real services (MiniLM, FAISS, SmolLM2,
SQLite). Screenshots land in test-artifacts/ for a person to look at.
"""

import contextlib
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from assistant.api.app import create_app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
GENERATED_QUESTION = "Tell me about the Everyday Checking account."  # no figure asked for: the model answers
AGENT_USER, AGENT_PW = "widget-agent", "widget-pass-1"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing: `make test` installs Debian's chromium package")
    pytest.skip("Debian chromium not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import expect  # noqa: E402  (after the skip: chromium-less machines never need it)


@pytest.fixture(scope="module")
def server(settings, services):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(settings, services), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def faq_titles(services):
    return [e.title for e in services.retriever.faq_entries]


def widget(page):
    return page.locator("bank-chat-widget")


def open_widget(page):
    w = widget(page)
    w.locator(".launcher").click()
    expect(w.locator(".panel")).to_be_visible()
    return w


def finished_replies(w):
    return w.locator(".msg-bot[data-message-id]")


def ask(page, text, timeout=60_000):
    """Type a question, press Enter, wait for the final (authoritative) reply; returns its <li>."""
    w = widget(page)
    before = finished_replies(w).count()
    w.locator("textarea").fill(text)
    w.locator("textarea").press("Enter")
    expect(finished_replies(w)).to_have_count(before + 1, timeout=timeout)
    return finished_replies(w).last


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / name), animations="disabled")


def shadow_active(page) -> str:
    return page.evaluate("() => { const a = document.querySelector('bank-chat-widget').shadowRoot.activeElement;"
                         " return a ? (a.className || a.tagName.toLowerCase()) : ''; }")


# ---------------------------------------------------------------- the route


def test_suggestions_are_faq_titles(client, faq_titles):
    r = client.get("/v1/suggestions")
    assert r.status_code == 200 and r.json() == faq_titles[:4]
    assert client.get("/v1/suggestions?n=2").json() == faq_titles[:2]
    assert client.get("/v1/suggestions?n=0").status_code == 422
    assert client.get("/v1/suggestions?n=21").status_code == 422


# ---------------------------------------------------------------- customer flows


def test_chip_then_streamed_answer_with_sources_feedback_and_keyboard(server, browser, client, faq_titles):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="light")
    page = ctx.new_page()
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    page.goto(server + "/")
    assert page.locator("script[src$='widget.js']").count() == 1  # one tag embeds it
    w = widget(page)
    launcher = w.locator(".launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")

    w = open_widget(page)
    expect(launcher).to_have_attribute("aria-expanded", "true")
    assert shadow_active(page) == "textarea"  # focus moves into the panel
    chips = w.get_by_role("group", name="Suggested questions").get_by_role("button")
    expect(chips.first).to_have_text(faq_titles[0])  # opens with the recommended questions (GET /v1/suggestions)
    page.evaluate("""() => { const r = document.querySelector('bank-chat-widget').shadowRoot; window.sawTyping = false;
        new MutationObserver(() => { if (r.querySelector('.typing')) window.sawTyping = true; })
            .observe(r, {subtree: true, childList: true}); }""")

    # a recommended-question chip: the question is sent, the FAQ answer comes back with its source
    chips.first.click()
    expect(w.locator(".msg-user .bubble").last).to_have_text(faq_titles[0])
    expect(finished_replies(w)).to_have_count(1, timeout=30_000)

    # a question the model answers: streamed deltas, then the reply frame replaces the text
    answer = ask(page, GENERATED_QUESTION)
    parsed = [json.loads(f) for f in frames if isinstance(f, str)]
    final = [f for f in parsed if f["type"] == "reply"][-1]
    assert any(f["type"] == "delta" for f in parsed), "the answer was not streamed"
    assert page.evaluate("window.sawTyping") is True
    expect(answer.locator(".text")).to_have_text(final["reply"])
    assert final["citations"]
    sources = answer.locator("details.sources")
    expect(sources.locator("summary")).to_contain_text("Source")
    expect(sources.locator(".src-title").first).to_be_hidden()
    sources.locator("summary").click()
    expect(sources.locator(".src-title").first).to_have_text(final["citations"][0]["title"])
    expect(sources.locator(".src-snippet").first).not_to_be_empty()
    # the chips after a reply are the reply's own suggestions
    expected_chips = [s for s in final["suggestions"] if s != "Cancel and keep chatting with the assistant"]
    expect(chips).to_have_count(len(expected_chips))
    shot(page, "widget-answer.png")

    # thumbs up is stored with the message
    up = answer.get_by_role("button", name="Helpful", exact=True)
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".thanks")).to_have_text("Thanks for your feedback.")
    cid = page.evaluate("BankChatWidget.conversationId")
    token = page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':token')).map(k => localStorage[k])[0]")
    assert token.startswith("cst_")
    stored = client.get(f"/v1/conversations/{cid}", headers={"authorization": f"Bearer {token}"}).json()["messages"]
    assert [m["feedback"] for m in stored if m["id"] == final["message_id"]] == [1]

    # keyboard: Escape closes and gives focus back to the launcher; Enter reopens into the input
    w.locator("textarea").focus()
    page.keyboard.press("Escape")
    expect(w.locator(".panel")).to_be_hidden()
    assert shadow_active(page) == "launcher"
    page.keyboard.press("Enter")
    expect(w.locator(".panel")).to_be_visible()
    assert shadow_active(page) == "textarea"
    # the new message is announced in the live region
    expect(w.locator("[aria-live=polite]")).to_contain_text("Assistant says:")
    ctx.close()


def test_handoff_with_agent_console_cancel_and_reload(server, browser, services):
    with contextlib.suppress(Exception):  # the session-wide database may already hold her
        services.agents.add(AGENT_USER, AGENT_PW, display_name="Dana")
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    customer = ctx.new_page()
    customer.goto(server + "/")
    w = open_widget(customer)
    ask(customer, "What is the wire cut-off time for domestic wires?")
    cid = customer.evaluate("BankChatWidget.conversationId")

    # ask for a person, change your mind, ask again
    talk = w.get_by_role("button", name="Talk to an agent", exact=True)
    talk.click()
    expect(w.locator(".statusbar")).to_contain_text("Connecting you to an agent…")
    expect(talk).to_be_hidden()
    w.get_by_role("button", name="Cancel and keep chatting with the assistant").click()
    expect(w.locator(".notice").last).to_contain_text("You left the queue")
    expect(w.locator(".statusbar")).to_be_hidden()
    talk.click()
    expect(w.locator(".statusbar")).to_contain_text("Connecting you to an agent…")
    shot(customer, "widget-waiting.png")

    # the agent signs in to the console, claims the ticket, writes
    ticket = services.tickets.open_for(cid)
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    agent = agent_ctx.new_page()
    agent.goto(server + "/agent")
    agent.fill("#username", AGENT_USER)
    agent.fill("#password", AGENT_PW)
    agent.click("#login button[type=submit]")
    agent.locator(f"#queue li[data-id='{ticket.id}']").click()
    agent.locator("#ticket .claim").click()
    expect(w.locator(".statusbar")).to_contain_text("Dana joined")
    expect(w.locator(".notice").last).to_have_text("Dana joined the conversation.")
    agent.locator("#ticket .reply .text:not([disabled])").wait_for()
    agent.fill("#ticket .reply .text", "Hello, this is Dana from Larkspur Bank.")
    agent.click("#ticket .reply button[type=submit]")
    message = w.locator(".msg-agent").last
    expect(message.locator(".bubble")).to_have_text("Hello, this is Dana from Larkspur Bank.", timeout=10_000)
    expect(message.locator(".who")).to_have_text("Dana · Agent")

    # while the agent holds the conversation the bot is silent; the agent sees the message
    bots = w.locator(".msg-bot").count()
    w.locator("textarea").fill("Thanks! Can you check my transfer?")
    w.locator("textarea").press("Enter")
    expect(agent.locator("#ticket .transcript li.user").last).to_have_text("Thanks! Can you check my transfer?")
    expect(w.locator(".typing")).to_have_count(0)
    assert w.locator(".msg-bot").count() == bots
    shot(customer, "widget-agent-message.png")
    shot(agent, "agent-console.png")

    # reload: the panel reopens with the whole history, and live agent messages still arrive
    customer.reload()
    expect(w.locator(".panel")).to_be_visible()
    expect(w.locator(".msg-user .bubble").first).to_have_text("What is the wire cut-off time for domestic wires?")
    expect(w.locator(".msg-agent .bubble")).to_have_text(["Hello, this is Dana from Larkspur Bank."])
    expect(w.locator(".msg-agent .who").first).to_have_text("Dana · Agent")
    expect(w.locator(".msg-bot details.sources").first).to_be_attached()
    expect(w.locator(".statusbar")).to_contain_text("Dana joined")
    assert customer.evaluate("BankChatWidget.conversationId") == cid
    expect(w.locator(".sub")).to_contain_text("online")  # resumed: live agent messages reach this page again
    agent.fill("#ticket .reply .text", "Are you still there?")
    agent.click("#ticket .reply button[type=submit]")
    expect(w.locator(".msg-agent .bubble").last).to_have_text("Are you still there?", timeout=10_000)
    shot(customer, "widget-after-reload.png")

    # the agent closes: the customer is told, and can ask for a person again
    agent.locator("#ticket .close").click()
    expect(w.locator(".notice").last).to_contain_text("The agent closed this conversation")
    expect(w.get_by_role("button", name="Talk to an agent", exact=True)).to_be_visible()
    ctx.close()
    agent_ctx.close()


def test_network_drop_queues_messages_and_resumes(server, browser, faq_titles):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    state = {"down": False, "sockets": []}

    def route(ws):
        if state["down"]:
            ws.close()
            return
        ws.connect_to_server()
        state["sockets"].append(ws)

    page.route_web_socket("**/v1/chat/ws", route)
    page.goto(server + "/")
    w = open_widget(page)
    ask(page, "What is your routing number?")
    cid = page.evaluate("BankChatWidget.conversationId")

    state["down"] = True
    for ws in state["sockets"]:
        ws.close()
    expect(w.locator(".conn")).to_be_visible()
    expect(w.locator(".sub")).to_contain_text("Reconnecting")
    w.locator("textarea").fill("How do I report a lost card?")
    w.locator("textarea").press("Enter")
    pending = w.locator(".msg-user").last
    expect(pending.locator(".state")).to_contain_text("Not sent yet")
    shot(page, "widget-offline.png")

    state["down"] = False
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(pending.locator(".state")).to_be_hidden(timeout=15_000)
    expect(finished_replies(w)).to_have_count(2, timeout=30_000)
    expect(w.locator(".conn")).to_be_hidden()
    assert page.evaluate("BankChatWidget.conversationId") == cid  # the same conversation carried on

    # a stored id the server no longer knows: start fresh (greeting and recommended questions)
    page.evaluate(f"localStorage.setItem('bank-chat:{server}:cid', 'no-such-conversation')")
    page.reload()
    expect(w.locator(".panel")).to_be_visible()
    expect(w.get_by_role("group", name="Suggested questions").get_by_role("button").first).to_have_text(faq_titles[0])
    expect(w.locator(".msg")).to_have_count(1)
    assert page.evaluate(f"localStorage.getItem('bank-chat:{server}:cid')") is None
    # "Talk to an agent" before any conversation: the request opens one, then the handoff follows
    w.get_by_role("button", name="Talk to an agent", exact=True).click()
    expect(w.locator(".msg-user .bubble").last).to_have_text("I'd like to talk to an agent.")
    expect(w.locator(".statusbar")).to_contain_text("Connecting you to an agent…", timeout=30_000)
    assert page.evaluate("BankChatWidget.conversationId") not in (None, cid, "no-such-conversation")
    w.get_by_role("button", name="Cancel and keep chatting with the assistant").click()
    expect(w.locator(".statusbar")).to_be_hidden()
    ctx.close()


HOSTILE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Hostile host</title>
<style>
  * { color: red !important; font-size: 40px; font-family: serif !important; }
  div, button, li, ol, p, textarea, section { margin: 13px !important; padding: 17px !important; border: 4px dashed lime !important; }
  .panel, .launcher, .bubble, .chip { display: none !important; background: yellow !important; }
  bank-chat-widget { display: none; }
</style></head>
<body><h1>Some other site</h1><p class="bubble" id="host-bubble">The host's own .bubble</p>
<ol class="thread"><li class="msg">host li</li></ol>
<script src="{api}/static/widget.js" data-title="Larkspur Assistant" data-theme="light"></script>
</body></html>"""
DARK_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Dark host</title></head>
<body><script src="{api}/static/widget.js" data-theme="dark"></script></body></html>"""


@pytest.fixture(scope="module")
def host_site(server):
    """Another origin (a bank's CMS, say) that embeds the widget with one tag from the API's origin."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pages = {"/hostile": HOSTILE_PAGE, "/dark": DARK_PAGE}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "not found").replace("{api}", server).encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_hostile_host_css_does_not_leak_either_way(host_site, browser):
    """Cross-origin embed: data-api defaults to the script's origin and the socket chat works there."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="light")
    page = ctx.new_page()
    page.goto(host_site + "/hostile")
    w = widget(page)
    launcher = w.locator(".launcher")
    expect(launcher).to_be_visible()
    box = launcher.bounding_box()
    assert round(box["width"]) == 60 and round(box["height"]) == 60
    w = open_widget(page)
    ask(page, "What is your routing number?")

    def style(selector, prop):
        return page.evaluate(f"""() => getComputedStyle(document.querySelector('bank-chat-widget').shadowRoot
            .querySelector({selector!r})).{prop}""")

    assert style(".msg-user .bubble", "color") == "rgb(255, 255, 255)"
    assert style(".msg-bot .bubble", "color") == "rgb(28, 34, 48)"
    assert style(".msg-bot .bubble", "fontSize") == "15px"
    assert style(".msg-bot .bubble", "fontFamily").split(",")[0].strip() == "system-ui"
    assert style(".msg-bot .bubble", "borderTopStyle") == "none"
    assert style(".panel", "display") == "flex"
    # ...and nothing of the widget's leaks out onto the host's elements with the same class names
    host = page.evaluate("""() => { const s = getComputedStyle(document.getElementById('host-bubble'));
        return [s.color, s.fontSize, s.borderTopLeftRadius, s.backgroundColor]; }""")
    assert host == ["rgb(255, 0, 0)", "40px", "0px", "rgb(255, 255, 0)"]
    shot(page, "widget-hostile-host.png")
    ctx.close()


def test_mobile_full_screen_and_dark_mode_screenshots(server, host_site, browser):
    mobile = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                 has_touch=True, color_scheme="light")
    page = mobile.new_page()
    page.goto(server + "/")
    shot(page, "widget-mobile-closed.png")
    w = open_widget(page)
    ask(page, "What is your routing number?")
    box = w.locator(".panel").bounding_box()
    assert (box["x"], box["y"], round(box["width"]), round(box["height"])) == (0, 0, 390, 844)
    expect(w.locator(".launcher")).to_be_hidden()  # the header's close button takes over
    shot(page, "widget-mobile.png")
    w.get_by_role("button", name="Close chat", exact=True).click()
    expect(w.locator(".panel")).to_be_hidden()
    mobile.close()

    dark = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="dark")
    page = dark.new_page()
    page.goto(server + "/")
    w = open_widget(page)
    ask(page, "What is your routing number?")
    w.locator("details.sources summary").first.click()
    bg = page.evaluate("getComputedStyle(document.querySelector('bank-chat-widget').shadowRoot.querySelector('.panel'))"
                       ".backgroundColor")
    assert bg == "rgb(26, 24, 38)"
    shot(page, "widget-dark.png")
    dark.close()

    # data-theme="dark" wins over a light system preference
    light = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="light")
    page = light.new_page()
    page.goto(host_site + "/dark")
    open_widget(page)
    bg = page.evaluate("getComputedStyle(document.querySelector('bank-chat-widget').shadowRoot.querySelector('.panel'))"
                       ".backgroundColor")
    assert bg == "rgb(26, 24, 38)"
    light.close()
