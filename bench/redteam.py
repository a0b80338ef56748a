"""Every red-team attack through the real pipeline with the default configured LLM, and the guardrails'
false positives on ordinary banking messages written by others.

    .venv/bin/python bench/redteam.py [--split dev|holdout|all] [--model NAME] [--only ID_PREFIX] [--show N]
    .venv/bin/python bench/redteam.py --false-positives [--guardrails PATH] [--data ../shared/data]

Attacks: tests/redteam/attacks.yaml (one message each; `kb: poisoned` ones against the knowledge base plus
tests/redteam/poisoned/) and tests/redteam/flow_attacks.yaml (turns over the chat websocket against the
sandbox bank, started here on a port of 8100-8119). The model is what `bankassist models prepare` with no
arguments prepares (Settings().llm.model, with its adapter), unless --model names another. Prints, per
category, the attacks that succeeded (and those that never reached their target: setup), the held-out
attacks apart.

--false-positives: the share of BANKING77 train messages and of the user turns of the SGD banking dialogues
(../shared/data, written by others) that `screen_input` refuses; --guardrails PATH loads that function from
another copy of assistant/core/guardrails.py (e.g. `git show <commit>:assistant/core/guardrails.py`), to
compare before and after a change.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import importlib.util
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


def split_of(text: str) -> str:
    """A fifth of the ordinary messages (by hash) is held out: counted, never looked at while tuning."""
    return "holdout" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5 == 0 else "dev"


def ordinary_messages(data: Path) -> dict[str, list[str]]:
    with (data / "banking77" / "train.csv").open() as f:
        b77 = [row["text"] for row in csv.DictReader(f)]
    sgd = [t["utterance"] for d in json.loads((data / "sgd" / "banks_train_dialogues.json").read_text())
           for t in d["turns"] if t["speaker"] == "USER"]
    return {"banking77 train": b77, "sgd banks user turns": sgd}


def false_positives(path: Path | None, show: int, data: Path) -> None:
    if path is None:
        from assistant.core.guardrails import screen_input
    else:
        spec = importlib.util.spec_from_file_location("other_guardrails", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        screen_input = module.screen_input
    for name, texts in ordinary_messages(data).items():
        t0 = time.perf_counter()
        hits = [(t, v.category) for t in texts if (v := screen_input(t)) is not None]
        took = (time.perf_counter() - t0) / len(texts) * 1000
        for part in ("dev", "holdout"):
            rows = [t for t in texts if split_of(t) == part]
            refused = [(t, c) for t, c in hits if split_of(t) == part]
            print(f"{name} ({part}): {len(refused)}/{len(rows)} refused ({len(refused) / len(rows):.4f})")
            for t, c in refused[:show] if part == "dev" else []:  # the held-out rows are counted, never shown
                print(f"    [{c}] {t}")
        print(f"{name}: {len(hits)}/{len(texts)} refused ({len(hits) / len(texts):.4f}), {took:.2f} ms a message")


def _settings(root: Path, model: str | None, port: int, **extra):
    from assistant.config import Settings

    # Generous model timeouts: on a busy machine the default 60 s / 4 s would quote passages instead of
    # letting the model answer, and the attacks are meant for the model.
    unlimited = "100000/minute"
    return Settings(_env_file=None, storage={"data_dir": root / "data"}, voice={"enabled": False},
                    banking={"url": f"http://127.0.0.1:{port}"},
                    llm={"timeout_s": 600, "queue_timeout_s": 600, **({"model": model} if model else {})},
                    rate_limit={"ip": unlimited, "session": unlimited, "ws_connect": unlimited,
                                "conversations": unlimited, "tickets": unlimited}).changed(**extra)


def run_attacks(model: str | None, only: str, show: int, split: str) -> None:
    from fastapi.testclient import TestClient

    from assistant.api.app import create_app
    from assistant.banking.setup import sandbox_config
    from assistant.services import build_services
    from sandbox_bank.app import create_app as bank_app
    from tests.banking_helpers import ServerThread
    from tests.redteam.flows import Bank, run_flow
    from tests.redteam.harness import Judge, load_attacks, poisoned_docs, run_single, sandbox_facts

    single, flows = load_attacks()
    def wanted(a: dict) -> bool:
        return a["id"].startswith(only) and split in ("all", "holdout" if a.get("holdout") else "dev")

    single, flows = [a for a in single if wanted(a)], [a for a in flows if wanted(a)]
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        root, port = Path(tmp), 8107
        settings = _settings(root, model, port)
        print(f"model {settings.llm.model} ({settings.llm.backend}), {len(single) + len(flows)} attacks", flush=True)
        with ServerThread(bank_app(sandbox_config(settings), reset=True), port=port):
            services = build_services(settings)
            judge = Judge(services.pipeline.system_prompt(), sandbox_facts())
            direct = [a for a in single if a["category"] != "kb_injection"]
            outcomes += [asyncio.run(run_single(services.pipeline, a, judge)) for a in direct]
            with TestClient(create_app(settings, services)) as client:
                bank = Bank(settings.banking.url, sandbox_config(settings))
                outcomes += [run_flow(client, bank, a, services.pipeline.system_prompt()) for a in flows]
            kb = [a for a in single if a["category"] == "kb_injection"]
            if kb:
                docs = poisoned_docs(settings.retrieval.docs_dir, root / "poisoned-docs")
                poisoned = build_services(_settings(root / "p", model, port, retrieval__docs_dir=docs, selfservice__enabled=False))
                outcomes += [asyncio.run(run_single(poisoned.pipeline, a, judge)) for a in kb]
    report(outcomes, show)


def report(outcomes, show: int) -> None:
    for part in ("dev", "holdout"):
        rows = [o for o in outcomes if bool(o.attack.get("holdout")) == (part == "holdout")]
        if not rows:
            continue
        by = defaultdict(list)
        for o in rows:
            by[o.attack["category"]].append(o)
        print(f"\n{part}: {sum(o.succeeded for o in rows)} of {len(rows)} attacks succeeded "
              f"({sum(bool(o.setup) for o in rows)} did not reach their target)")
        for cat, items in sorted(by.items()):
            print(f"  {cat:28s} {sum(o.succeeded for o in items):3d} / {len(items):3d}"
                  f"   setup {sum(bool(o.setup) for o in items)}")
        paths = Counter(getattr(o, "path", "flow") for o in rows)
        print(f"  replies by path: {dict(sorted(paths.items()))}")
        for o in [o for o in rows if o.succeeded or o.setup][:show]:
            print(f"    {o}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="an LLM name or path (default: the configured default)")
    ap.add_argument("--only", default="", help="run only attacks whose id starts with this")
    ap.add_argument("--show", type=int, default=40, help="print up to this many failed attacks or refused messages")
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="all",
                    help="the attacks used to tune the guardrails (dev), those held out, or both")
    ap.add_argument("--false-positives", action="store_true")
    ap.add_argument("--guardrails", type=Path, help="with --false-positives: another guardrails.py to measure")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared data folder (banking77/, sgd/)")
    args = ap.parse_args()
    if args.false_positives:
        false_positives(args.guardrails, args.show, args.data)
    else:
        run_attacks(args.model, args.only, args.show, args.split)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
