"""Chat latency, start-up time and memory on this machine.

    .venv/bin/python bench/chat_latency.py [--turns 50] [--cold] [--json out.json]

Time to first token is measured from the moment the turn is received to the first text
the customer sees (a streamed delta; for the FAQ path the whole reply arrives at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.config import offline_environment  # noqa: E402

offline_environment()

GENERATED = [
    "What is the monthly maintenance fee for Everyday Checking?",
    "How can I avoid the Premier Interest Checking monthly fee?",
    "What APY does High-Yield Savings pay?",
    "What is the penalty for withdrawing a CD early?",
    "How much cash can I take out at an ATM per day with my debit card?",
    "Is there a foreign transaction fee on the debit card?",
    "How much does an outgoing international wire cost?",
    "What time is the cut-off for domestic wires?",
    "How long do I have to report an unauthorized electronic transfer?",
    "What is my liability if my debit card is stolen and I tell you within two days?",
    "How long does the bank take to investigate an error on my account?",
    "What is the overdraft fee and how many can I be charged per day?",
    "How much can I deposit with mobile check deposit?",
    "When will funds from a check deposit be available?",
    "How much deposit insurance does the FDIC provide?",
    "How long does an oral stop payment order last?",
    "What documents do I need to open an account?",
    "What is the APR on the cash rewards credit card?",
    "How do I dispute a charge on my credit card?",
    "How many days before the due date must my credit card statement arrive?",
    "What are the branch hours on Saturday?",
    "How much does a replacement debit card cost?",
    "What is the minimum deposit to open a CD?",
    "How long can I cancel an international remittance transfer?",
    "What is the daily limit for Larkspur Pay?",
]
PLAIN_FAQ = [
    "What is your routing number?", "how do i reset my password", "I lost my debit card",
    "what are your opening hours", "what's the wire cut-off time", "how do I activate my card",
]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def faq_questions(services, n: int) -> list[str]:
    """Plain questions plus FAQ variants written by the KB authors (from the built index)."""
    path = Path(services.settings.index_dir) / "current" / "faq.json"
    variants = [q for _, q in json.loads(path.read_text())["questions"]]
    return (PLAIN_FAQ + variants[1::3])[:n]


def warm_start_seconds(data_dir: str) -> float:
    code = (
        "import time,os; t=time.perf_counter();"
        "from assistant.config import Settings; from assistant.services import build_services;"
        f"build_services(Settings(data_dir={data_dir!r})); print(time.perf_counter()-t)"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def cold_start_seconds(data_dir: str) -> float:
    """Fresh model cache: join + verify + GGUF conversion + load, in a new process."""
    with tempfile.TemporaryDirectory() as cache:
        code = (
            "from assistant.config import Settings; from assistant.services import build_services;"
            f"build_services(Settings(data_dir={data_dir!r}, cache_dir={cache!r}))"
        )
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        return time.perf_counter() - t0


async def run_turns(services, questions: list[str]) -> dict[str, dict[str, list[float]]]:
    from assistant.core.events import Reply, ReplyDelta, UserTurn

    by_path: dict[str, dict[str, list[float]]] = {}
    for q in questions:
        t0 = time.perf_counter()
        first = None
        async for ev in services.pipeline.run(UserTurn(q, "api", None, t0)):
            if isinstance(ev, ReplyDelta) and first is None:
                first = time.perf_counter() - t0
            if isinstance(ev, Reply):
                total = time.perf_counter() - t0
                row = by_path.setdefault(ev.path, {"first": [], "total": []})
                row["first"].append((first if first is not None else total) * 1000)
                row["total"].append(total * 1000)
    return by_path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--turns", type=int, default=50)
    ap.add_argument("--cold", action="store_true", help="also measure a cold start (converts the GGUF again)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from assistant.config import Settings
    from assistant.logging_setup import configure_logging
    from assistant.services import build_services

    configure_logging("WARNING")
    data_dir = tempfile.mkdtemp(prefix="bench-")
    settings = Settings(storage={"data_dir": data_dir})
    t0 = time.perf_counter()
    services = build_services(settings)  # builds the index into the temp dir on the way
    first_start = time.perf_counter() - t0
    half = args.turns // 2
    questions = [q for pair in zip(faq_questions(services, half), GENERATED * 2, strict=False) for q in pair][: args.turns]
    by_path = asyncio.run(run_turns(services, questions))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "model": settings.llm.model, "turns": len(questions), "peak_rss_mib": round(rss_mib),
        "in_process_start_s_incl_index_build": round(first_start, 2),
        "warm_start_s": round(warm_start_seconds(data_dir), 2),
        "paths": {
            path: {"n": len(v["total"]), "first_token_p50_ms": round(pct(v["first"], .5)), "first_token_p95_ms": round(pct(v["first"], .95)),
                   "reply_p50_ms": round(pct(v["total"], .5)), "reply_p95_ms": round(pct(v["total"], .95))}
            for path, v in sorted(by_path.items())
        },
    }
    if args.cold:
        result["cold_start_s"] = round(cold_start_seconds(data_dir), 2)
    print(f"{'path':12s} {'n':>3s} {'first p50':>10s} {'first p95':>10s} {'reply p50':>10s} {'reply p95':>10s}  (ms)")
    for path, r in result["paths"].items():
        print(f"{path:12s} {r['n']:3d} {r['first_token_p50_ms']:10d} {r['first_token_p95_ms']:10d} {r['reply_p50_ms']:10d} {r['reply_p95_ms']:10d}")
    for k in ("peak_rss_mib", "warm_start_s", "cold_start_s", "in_process_start_s_incl_index_build"):
        if k in result:
            print(f"{k}: {result[k]}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
