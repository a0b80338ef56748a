"""The compose topology started directly, for bench/chaos_soak.py: Redis, two API workers, nginx.

Redis runs as this process's child (`--requirepass`, `--appendonly yes`, as compose runs it),
so it can be stopped, paused and started again. The workers are `bankassist serve` with the
environment compose gives the `api` service (production, Redis URL with its password, admin
token, audit key, the proxy's address as the only trusted forwarder, JSON logs, telephony off)
plus bench/soak.py's settings (SmolLM2, short replies, no voice, limits raised: every client is
127.0.0.1). nginx, when installed, runs deploy/nginx.conf with the two workers as its upstream;
without it the clients pick a worker in turn (round robin on the client side).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# `bankassist` of this checkout (the current folder comes first on sys.path), not the venv's editable install
CLI = [sys.executable, "-m", "assistant.cli"]
sys.path.insert(0, str(ROOT))
from assistant.config import child_environment, is_placeholder  # noqa: E402


def _secret(n: int) -> str:
    """A random token production accepts (one that happens to start with "dev" would be refused)."""
    while is_placeholder(token := secrets.token_urlsafe(n)):
        pass
    return token


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return None


class Topology:
    """Ports: `base` nginx, `base+1` and `base+2` the workers; Redis on `redis_port`."""

    def __init__(self, run_dir: Path, *, database_url: str, base_port: int = 8140, redis_port: int = 6391,
                 use_nginx: bool = True) -> None:
        self.dir, self.database_url = run_dir, database_url
        self.redis_port, self.ports = redis_port, [base_port + 1, base_port + 2]
        self.proxy_port = base_port
        self.nginx_bin = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        self.use_nginx = use_nginx and self.nginx_bin is not None
        self.redis_password = _secret(18)
        self.redis: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen | None] = [None, None]
        self.nginx: subprocess.Popen | None = None
        (run_dir / "redis").mkdir(parents=True, exist_ok=True)
        self.env = child_environment(
            BANK_ENVIRONMENT="production", BANK_STORAGE__DATABASE_URL=database_url,
            BANK_REDIS__URL=f"redis://:{self.redis_password}@127.0.0.1:{redis_port}/0",
            BANK_SECURITY__ADMIN_TOKEN=_secret(32), BANK_AUDIT__KEY=_secret(32),
            BANK_SECURITY__FORWARDED_ALLOW_IPS="127.0.0.1", BANK_SERVER__LOG_JSON="true", BANK_VOICE__TELEPHONY="false",
            BANK_STORAGE__DATA_DIR=str(run_dir / "data"),  # one folder for both, as compose shares kb-index
            BANK_LLM__MODEL="smollm2-135m", BANK_ANSWERING__MAX_NEW_TOKENS="48", BANK_VOICE__ENABLED="false",
            BANK_SERVER__LOG_LEVEL="WARNING", BANK_BANKING__URL=f"http://127.0.0.1:{base_port + 19}",
            BANK_RATE_LIMIT__IP="100000/minute", BANK_RATE_LIMIT__SESSION="1000/minute",
            BANK_RATE_LIMIT__WS_CONNECT="100000/minute", BANK_RATE_LIMIT__CONVERSATIONS="100000/minute",
            BANK_RATE_LIMIT__TICKETS="100000/minute")

    @property
    def urls(self) -> list[str]:
        """What clients talk to: the proxy, or both workers in turn."""
        if self.use_nginx:
            return [f"http://127.0.0.1:{self.proxy_port}"]
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def bankassist(self, *args: str, stdin: str | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], env=self.env, input=stdin, text=True, capture_output=True,
                              timeout=timeout_s, cwd=ROOT)

    # --- Redis
    def start_redis(self) -> None:
        with open(self.dir / "redis.log", "a") as log:  # the child keeps its own copy of the descriptor
            self.redis = subprocess.Popen(
                ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--requirepass", self.redis_password,
                 "--appendonly", "yes", "--dir", str(self.dir / "redis"), "--save", ""], stdout=log, stderr=log)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.redis_port), "-a", self.redis_password, "--no-auth-warning",
                               "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("redis did not start")

    def stop_redis(self) -> None:
        """SIGTERM, as `docker restart` sends: Redis writes its append-only file and exits."""
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(30)
            self.redis = None

    def pause_redis(self, paused: bool) -> None:
        """SIGSTOP: a Redis that accepts connections but never answers (a hung host)."""
        if self.redis is not None:
            os.kill(self.redis.pid, signal.SIGSTOP if paused else signal.SIGCONT)

    # --- workers
    def start_worker(self, i: int) -> None:
        with open(self.dir / f"worker{i}.log", "a") as log:
            self.workers[i] = subprocess.Popen([*CLI, "serve", "--port", str(self.ports[i])], env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def kill_worker(self, i: int) -> None:
        w = self.workers[i]
        if w is not None:
            w.kill()  # SIGKILL: no graceful shutdown, no commit of what is queued
            w.wait(30)

    def worker_pid(self, i: int) -> int | None:
        w = self.workers[i]
        return w.pid if w is not None and w.poll() is None else None

    def wait_ready(self, i: int, timeout_s: float = 1800) -> float:
        """Seconds until the worker's /healthz says ready."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.workers[i] is not None and self.workers[i].poll() is not None:
                raise RuntimeError(f"worker {i} exited (see {self.dir / f'worker{i}.log'})")
            try:
                if httpx.get(f"http://127.0.0.1:{self.ports[i]}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"worker {i} not ready after {timeout_s} s")

    # --- nginx
    def nginx_conf(self) -> str:
        """deploy/nginx.conf with the two workers as `api`, this run's port and folders."""
        site = (ROOT / "deploy" / "nginx.conf").read_text()
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=2 fail_timeout=5s;\n" for p in self.ports)
        site = re.sub(r"^\s*server api:8000[^\n]*\n", servers, site, flags=re.M)
        site = site.replace("listen 8000;", f"listen 127.0.0.1:{self.proxy_port};")
        site = site.replace("/var/log/nginx/access.log", str(self.dir / "nginx-access.log"))
        temp = "".join(f"    {k}_temp_path {self.dir / 'nginx' / k};\n"
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return (f"daemon off;\nworker_processes 1;\npid {self.dir / 'nginx.pid'};\nerror_log {self.dir / 'nginx-error.log'};\n"
                f"events {{ worker_connections 1024; }}\nhttp {{\n{temp}{site}\n}}\n")

    def start_nginx(self) -> None:
        if not self.use_nginx:
            return
        (self.dir / "nginx").mkdir(exist_ok=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(self.nginx_conf())
        self.nginx = subprocess.Popen([self.nginx_bin, "-p", str(self.dir), "-c", str(conf), "-e", str(self.dir / "nginx-error.log")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            try:
                httpx.get(f"http://127.0.0.1:{self.proxy_port}/healthz", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("nginx did not start")

    def stop_all(self) -> None:
        for p in (self.nginx, *self.workers):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.redis is not None:
            self.pause_redis(False)
            self.stop_redis()
