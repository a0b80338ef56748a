"""Real browser (Debian chromium driven by Playwright): customer page and agent console.

Screenshots land in test-artifacts/ for a person to look at.
"""

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

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing: `make test` installs Debian's chromium package")
    pytest.skip("Debian chromium not installed (apt-get install -y chromium)", allow_module_level=True)


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


def test_customer_asks_and_agent_answers(server, browser, services):
    try:
        services.agents.add("browser-agent", "browser-pass-1", display_name="Dana")
    except Exception:
        pass
    customer = browser.new_page()
    customer.goto(server + "/")
    customer.fill("#msg", "What is the wire cut-off time for domestic wires?")
    customer.click("form button[type=submit]")
    answer = customer.locator(".msg.bot").last
    answer.locator("details summary").wait_for(timeout=60_000)  # streamed text replaced by the final reply + sources
    assert "Sources" in answer.inner_text()
    customer.screenshot(path=str(ARTIFACTS / "customer-answer.png"), full_page=True)

    customer.get_by_role("button", name="Talk to an agent").click()
    customer.locator(".msg.system", has_text="Connecting you").wait_for()

    agent = browser.new_page()
    agent.goto(server + "/agent")
    agent.fill("#username", "browser-agent")
    agent.fill("#password", "browser-pass-1")
    agent.click("#login button[type=submit]")
    agent.locator("#queue li").last.click()
    agent.locator("#ticket .claim").click()
    agent.locator("#ticket .reply .text:not([disabled])").wait_for()
    agent.fill("#ticket .reply .text", "Hello, this is Dana from Larkspur Bank.")
    agent.click("#ticket .reply button[type=submit]")
    agent.screenshot(path=str(ARTIFACTS / "agent-console.png"), full_page=True)

    customer.locator(".msg.agent", has_text="this is Dana").wait_for(timeout=10_000)
    customer.screenshot(path=str(ARTIFACTS / "customer-agent-message.png"), full_page=True)

    customer.reload()  # the conversation survives a reload: later agent messages still arrive
    customer.wait_for_timeout(500)
    agent.fill("#ticket .reply .text", "Are you still there?")
    agent.click("#ticket .reply button[type=submit]")
    customer.locator(".msg.agent", has_text="still there").wait_for(timeout=10_000)
