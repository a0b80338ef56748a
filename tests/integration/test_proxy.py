"""deploy/nginx.conf in a real nginx in front of the API under uvicorn, as `bankassist serve` runs it.

The client cannot choose the address the limits count (a forged X-Forwarded-For is replaced by
the peer's address), and /metrics and the API docs are not served through the proxy. The models
are not loaded (no lifespan): /v1 answers 503 after the per-client limit, which is what counts here.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant.api.app import create_app
from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def serve(app, port: int) -> uvicorn.Server:
    """`app` under uvicorn in a thread (no lifespan: the models are not loaded), as `bankassist serve` runs it."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None,
                                           proxy_headers=True, forwarded_allow_ips="127.0.0.1"))
    threading.Thread(target=server.run, daemon=True).start()
    wait_for(f"http://127.0.0.1:{port}/healthz")
    return server


def start_proxy(tmp_path: Path, upstreams: list[str]) -> tuple[subprocess.Popen, int]:
    """nginx with our site config, its upstream `api:8000` replaced by `upstreams` (same parameters)."""
    proxy_port = free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    line = "    server api:8000 max_fails=2 fail_timeout=5s;\n"
    assert line in site
    site = site.replace(line, "".join(line.replace("api:8000", u) for u in upstreams))
    site = site.replace("listen 8000;", f"listen 127.0.0.1:{proxy_port};")
    site = site.replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(f"{k}_temp_path {tmp_path / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off; pid {tmp_path / 'nginx.pid'}; error_log {tmp_path / 'error.log'};\n"
        + f"events {{}}\nhttp {{ {temp} include {tmp_path / 'site.conf'}; }}\n")
    proxy = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(f"http://127.0.0.1:{proxy_port}/healthz")
    return proxy, proxy_port


@pytest.fixture
def proxied(tmp_path):
    """nginx (our site config, upstream pointed at a local port) -> uvicorn -> the app."""
    api_port = free_port()
    # The proxy reaches the API from 127.0.0.1 here, so that is the one trusted address (compose: the proxy's).
    settings = Settings(
        _env_file=None, storage={"data_dir": tmp_path}, rate_limit={"ip": "3/minute"},
        security={"forwarded_allow_ips": "127.0.0.1"},
    )
    server = serve(create_app(settings), api_port)
    proxy, proxy_port = start_proxy(tmp_path, [f"127.0.0.1:{api_port}"])
    try:
        yield f"http://127.0.0.1:{proxy_port}", f"http://127.0.0.1:{api_port}"
    finally:
        proxy.terminate()
        proxy.wait(10)
        server.should_exit = True


def test_a_forged_forwarded_for_does_not_escape_the_per_client_limit(proxied):
    via_proxy, _ = proxied
    codes = [httpx.get(f"{via_proxy}/v1/suggestions", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
             for i in range(5)]
    assert codes == [503, 503, 503, 429, 429]  # 503: models not loaded; the limit runs before that


def test_metrics_and_api_docs_are_refused_by_the_proxy_and_served_inside(proxied):
    via_proxy, direct = proxied
    for path in ("/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/%6detrics"):
        assert httpx.get(via_proxy + path).status_code == 403, path
    assert httpx.get(direct + "/metrics").status_code == 200  # Prometheus scrapes the replicas directly
    assert httpx.get(direct + "/openapi.json").status_code == 200


def test_a_replica_still_loading_its_models_is_passed_over(tmp_path):
    """Compose restarts a killed replica at once; for the minute it loads its models it answers 503.
    nginx sends what it may resend (GET, a websocket handshake) to the other replica, and leaves the
    loading one out after max_fails 503s, so POSTs reach the ready one too (bench/chaos_soak.py)."""
    from fastapi import FastAPI

    ready = FastAPI()

    @ready.api_route("/{path:path}", methods=["GET", "POST"])
    def answer(path: str) -> dict:
        return {"replica": "ready"}

    loading_port, ready_port = free_port(), free_port()
    settings = Settings(_env_file=None, storage={"data_dir": tmp_path}, security={"forwarded_allow_ips": "127.0.0.1"})
    servers = [serve(create_app(settings), loading_port), serve(ready, ready_port)]
    proxy, proxy_port = start_proxy(tmp_path, [f"127.0.0.1:{loading_port}", f"127.0.0.1:{ready_port}"])
    try:
        url = f"http://127.0.0.1:{proxy_port}"
        assert [httpx.get(f"{url}/v1/suggestions").status_code for _ in range(6)] == [200] * 6
        assert [httpx.post(f"{url}/v1/chat", json={"message": "hi"}).status_code for _ in range(6)] == [200] * 6
    finally:
        proxy.terminate()
        proxy.wait(10)
        for server in servers:
            server.should_exit = True
