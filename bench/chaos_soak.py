"""Chaos soak: the compose topology started directly, under mixed load, with workers killed and Redis restarted.

    .venv/bin/python bench/chaos_soak.py [--minutes 30] [--database-url postgresql://postgres@127.0.0.1:5432/chaos]

Starts Redis (own port, password, append-only), two `bankassist serve` workers on PostgreSQL
and that Redis with compose's settings (bench/chaos_topology.py), and nginx with
deploy/nginx.conf in front when installed (else the clients take the workers in turn). Load:
chat-socket and REST conversations over FAQ and KB questions, customers who ask for a person,
agents who claim, answer and close (bench/chaos_clients.py, bench/chaos_agents.py). Chaos, at
fixed fractions of the run: kill -9 worker 1 and start it again (twice); stop Redis (SIGTERM)
and start it 10 s later (twice); freeze Redis with SIGSTOP for 10 s (a hung Redis; --no-pause
leaves it out). Worker 0 is never killed: its RSS from the end of --warmup to the end of the
run is the memory figure (< 10%).

At the end every acknowledged conversation, message, ticket, claim, agent message and close is
looked up in PostgreSQL (bench/chaos_verify.py): lost must be 0. Errors and timeouts are split
into those inside a chaos window (from the event until recovery + 15 s: expected, clients
retry) and outside (each one is a finding). Also: live agent messages delivered to the
customer's socket across workers, and limit-store failures per worker outside Redis windows
(a limiter that never reconnects would fail open silently). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chaos_agents import agent, handoff_customer  # noqa: E402
from chaos_clients import Context, Ledger, rest_customer, ws_customer  # noqa: E402
from chaos_topology import Topology, rss_mib  # noqa: E402
from chaos_verify import verify  # noqa: E402
from load_faq import QUESTIONS  # noqa: E402
from soak import GENERATED  # noqa: E402

GRACE_S = 15.0
SAMPLE_S = 15.0
# (fraction of the run, action)
SCHEDULE = [(0.20, "kill_worker"), (0.40, "restart_redis"), (0.55, "pause_redis"), (0.70, "kill_worker"),
            (0.85, "restart_redis")]


class Chaos:
    """Runs the schedule; records each event's window (start, end of recovery + GRACE_S)."""

    def __init__(self, topo: Topology, t0: float, seconds: float, pause: bool) -> None:
        self.topo, self.t0, self.seconds = topo, t0, seconds
        self.plan = [(f, a) for f, a in SCHEDULE if pause or a != "pause_redis"]
        self.windows: list[tuple[float, float, str]] = []
        self.log: list[dict] = []

    async def run(self) -> None:
        for fraction, action in self.plan:
            await asyncio.sleep(max(0.0, self.t0 + fraction * self.seconds - time.monotonic()))
            if time.monotonic() >= self.t0 + self.seconds:  # a slow recovery pushed it past the end (short runs)
                self.log.append({"event": action, "skipped": "past the end of the run"})
                continue
            start = time.monotonic()
            recovered = await getattr(self, action)()
            end = time.monotonic()
            self.windows.append((start, end + GRACE_S, action))
            self.log.append({"at_s": round(start - self.t0), "event": action, "recovered_after_s": round(recovered, 1)})

    async def kill_worker(self) -> float:
        self.topo.kill_worker(1)
        await asyncio.sleep(2)  # compose restarts a dead container at once; the image's start takes its time
        self.topo.start_worker(1)
        return 2 + await asyncio.to_thread(self.topo.wait_ready, 1)

    async def restart_redis(self) -> float:
        await asyncio.to_thread(self.topo.stop_redis)
        await asyncio.sleep(10)
        await asyncio.to_thread(self.topo.start_redis)
        return 10.0

    async def pause_redis(self) -> float:
        self.topo.pause_redis(True)
        await asyncio.sleep(10)
        self.topo.pause_redis(False)
        return 10.0

    def inside(self, t: float) -> bool:
        return any(a <= t <= b for a, b, _ in self.windows)


async def limiter_failures(port: int) -> float | None:
    try:
        async with httpx.AsyncClient() as c:
            body = (await c.get(f"http://127.0.0.1:{port}/metrics", timeout=5)).text
    except httpx.HTTPError:
        return None
    m = re.search(r"^bankassist_limit_store_failures_total (\S+)", body, re.M)
    return float(m.group(1)) if m else None


async def sampler(topo: Topology, stop_at: float, samples: list) -> None:
    """Every SAMPLE_S: each worker's pid, RSS and limit-store failure count."""
    while time.monotonic() < stop_at:
        row = {"t": time.monotonic()}
        for i, port in enumerate(topo.ports):
            pid = topo.worker_pid(i)
            row[i] = {"pid": pid, "rss": rss_mib(pid) if pid else None, "store_failures": await limiter_failures(port)}
        samples.append(row)
        await asyncio.sleep(SAMPLE_S)


def _pct(values: list[float], q: float) -> float | None:
    return round(sorted(values)[int(len(values) * q)], 1) if values else None


def memory_report(samples: list, t0: float, warmup_s: float) -> dict:
    """Worker 0 (never killed): RSS at the end of the warm-up, at the end, growth; worker 1 by incarnation."""
    pid0 = samples[0][0]["pid"]
    w0 = [(s["t"], s[0]["rss"]) for s in samples if s[0]["pid"] == pid0 and s[0]["rss"]]
    after = [r for t, r in w0 if t - t0 >= warmup_s] or [w0[-1][1]]
    warm, end = after[0], after[-1]
    lives: dict[int, list[float]] = {}
    for s in samples:
        if s[1]["pid"] and s[1]["rss"]:
            lives.setdefault(s[1]["pid"], []).append(round(s[1]["rss"], 1))
    return {"worker0": {"rss_start_mib": round(w0[0][1], 1), "rss_after_warmup_mib": round(warm, 1),
                        "rss_end_mib": round(end, 1), "rss_peak_mib": round(max(r for _, r in w0), 1),
                        "growth_after_warmup_pct": round((end - warm) / warm * 100, 1),
                        "samples_mib": [round(r) for _, r in w0]},
            "worker1_lives": [{"rss_first_mib": v[0], "rss_last_mib": v[-1], "samples": len(v)} for v in lives.values()]}


def store_failures_outside(samples: list, chaos: Chaos) -> dict:
    """Limit-store failures counted by each worker in sampling intervals that touch no Redis window."""
    redis_windows = [(a, b) for a, b, kind in chaos.windows if "redis" in kind]
    out = {0: 0.0, 1: 0.0}
    for prev, cur in zip(samples, samples[1:], strict=False):
        if any(a <= cur["t"] and prev["t"] <= b for a, b in redis_windows):
            continue
        for i in (0, 1):
            p, c = prev[i], cur[i]
            if p["pid"] == c["pid"] and p["store_failures"] is not None and c["store_failures"] is not None:
                out[i] += c["store_failures"] - p["store_failures"]
    return {f"worker{i}": v for i, v in out.items()}


def load_report(led: Ledger, chaos: Chaos) -> dict:
    outside = [k for t, k in led.errors if not chaos.inside(t)]
    inside = [k for t, k in led.errors if chaos.inside(t)]
    hung_out = [k for t, k, _ in led.hung if not chaos.inside(t)]
    last_redis = max((b for _, b, kind in chaos.windows if "redis" in kind), default=0.0)
    exp = [(t, m) for t, m in led.expected_events if not chaos.inside(t)]
    exp_in = [m for t, m in led.expected_events if chaos.inside(t)]
    after = [(t, m) for t, m in exp if t > last_redis]
    return {"ok": dict(led.ok), "turn_p50_ms": _pct(led.latency_ms, .5), "turn_p95_ms": _pct(led.latency_ms, .95),
            "errors_in_chaos_windows": len(inside), "errors_outside": len(outside),
            "errors_in_windows_by_kind": dict(sorted({k: inside.count(k) for k in set(inside)}.items())),
            "errors_outside_by_kind": dict(sorted({k: outside.count(k) for k in set(outside)}.items())),
            "hung_in_chaos_windows": len(led.hung) - len(hung_out), "hung_outside": len(hung_out),
            "hung_examples": [f"t={t - chaos.t0:.0f}s {k} {d}" for t, k, d in led.hung[:10]],
            "live_agent_messages_outside_windows": {"expected": len(exp), "delivered": sum(m in led.delivered for _, m in exp)},
            "live_agent_messages_in_windows": {"expected": len(exp_in), "delivered": sum(m in led.delivered for m in exp_in)},
            "live_agent_messages_after_last_redis_restart": {"expected": len(after),
                                                             "delivered": sum(m in led.delivered for _, m in after)}}


async def run(topo: Topology, args: argparse.Namespace, agents: list[tuple[str, str]]) -> dict:
    seconds = args.minutes * 60
    t0 = time.monotonic()
    led = Ledger()
    ctx = Context(topo.urls, QUESTIONS + GENERATED, led, t0 + seconds)
    chaos, samples = Chaos(topo, t0, seconds, pause=not args.no_pause), []
    clients = ([ws_customer(ctx, args.think) for _ in range(args.ws)] + [rest_customer(ctx, args.think) for _ in range(args.rest)]
               + [handoff_customer(ctx, args.think) for _ in range(args.handoff)] + [agent(ctx, u, p) for u, p in agents])
    await asyncio.gather(chaos.run(), sampler(topo, t0 + seconds, samples), *clients)
    warmup_s = min(args.warmup * 60, seconds / 3)
    return {"minutes": args.minutes, "proxy": "nginx (deploy/nginx.conf)" if topo.use_nginx else "client round robin",
            "clients": {"ws": args.ws, "rest": args.rest, "handoff": args.handoff, "agents": len(agents), "think_s": args.think},
            "chaos": chaos.log, "load": load_report(led, chaos), "memory": memory_report(samples, t0, warmup_s),
            "limit_store_failures_outside_redis_windows": store_failures_outside(samples, chaos), "_ledger": led}


def start(topo: Topology, n_agents: int) -> list[tuple[str, str]]:
    """The index and the reranker's vectors first (`make setup` does the same: `kb build`), so that a
    worker's start is the start of a deployed image, then Redis, both workers, the agents, nginx."""
    built = topo.bankassist("kb", "build", "--if-missing", timeout_s=3600)
    if built.returncode != 0:
        raise RuntimeError(f"kb build: {built.stderr.strip()[-500:]}")
    topo.start_redis()
    topo.start_worker(0)
    topo.start_worker(1)
    print(f"workers ready in {topo.wait_ready(0):.0f} s and {topo.wait_ready(1):.0f} s", file=sys.stderr)
    agents = []
    for i in range(n_agents):
        user, password = f"chaos-{secrets.token_hex(3)}-{i}", secrets.token_urlsafe(16)
        done = topo.bankassist("agents", "add", user, "--password-stdin", stdin=password + "\n")
        if done.returncode != 0:
            raise RuntimeError(f"agents add: {done.stderr.strip()}")
        agents.append((user, password))
    topo.start_nginx()
    return agents


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=3, help="minutes before the memory baseline (at most a third of the run)")
    ap.add_argument("--ws", type=int, default=6, help="chat-socket customers")
    ap.add_argument("--rest", type=int, default=3, help="REST customers")
    ap.add_argument("--handoff", type=int, default=3, help="customers who ask for a person")
    ap.add_argument("--agents", type=int, default=2)
    ap.add_argument("--think", type=float, default=3.0)
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/chaos")
    ap.add_argument("--base-port", type=int, default=8140, help="nginx; the workers take the next two")
    ap.add_argument("--redis-port", type=int, default=6391)
    ap.add_argument("--no-nginx", action="store_true", help="clients take the workers in turn")
    ap.add_argument("--no-pause", action="store_true", help="leave out the SIGSTOP of Redis")
    args = ap.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="chaos-soak-"))
    print(f"logs in {run_dir}", file=sys.stderr)
    topo = Topology(run_dir, database_url=args.database_url, base_port=args.base_port, redis_port=args.redis_port,
                    use_nginx=not args.no_nginx)
    try:
        result = asyncio.run(run(topo, args, start(topo, args.agents)))
    finally:
        topo.stop_all()
    led = result.pop("_ledger")
    result["verify"] = verify(args.database_url, led)  # after every process stopped: what is stored, stays
    growth = result["memory"]["worker0"]["growth_after_warmup_pct"]
    result["pass"] = {"lost_0": result["verify"]["lost_total"] == 0, "memory_growth_under_10pct": growth < 10}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
