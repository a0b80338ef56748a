"""Rate limits, CORS allow-list and security headers on the real app."""

from fastapi.testclient import TestClient

from assistant.api.app import create_app


def strict_client(settings, services, **overrides):
    return TestClient(create_app(settings.model_copy(update=overrides), services))


def test_per_ip_rate_limit_answers_429_with_retry_after(settings, services):
    with strict_client(settings, services, rate_limit_ip="3/minute") as c:
        codes = [c.get("/v1/kb/search", params={"q": "wire"}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = c.get("/v1/kb/search", params={"q": "wire"})
        assert r.json()["detail"] == "too many requests" and int(r.headers["retry-after"]) >= 1
        assert c.get("/healthz").status_code == 200  # health checks are not limited


def test_per_session_message_limit_on_the_chat_socket(settings, services):
    with strict_client(settings, services, rate_limit_session="2/minute") as c, c.websocket_connect("/v1/chat/ws") as ws:
        statuses = []
        for _ in range(3):
            ws.send_json({"message": "What is your routing number?"})
            while (frame := ws.receive_json())["type"] not in ("reply", "error"):
                pass
            statuses.append(frame.get("status", 200))
        assert statuses == [200, 200, 429]


def test_cors_allow_list_and_security_headers(settings, services):
    with strict_client(settings, services, cors_origins=["https://bank.example"]) as c:
        ok = c.options("/v1/chat", headers={"origin": "https://bank.example", "access-control-request-method": "POST"})
        assert ok.headers["access-control-allow-origin"] == "https://bank.example"
        bad = c.options("/v1/chat", headers={"origin": "https://evil.example", "access-control-request-method": "POST"})
        assert "access-control-allow-origin" not in bad.headers
        page = c.get("/")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        api = c.get("/v1/suggestions")
        assert api.headers["x-content-type-options"] == "nosniff" and api.headers["x-frame-options"] == "DENY"
