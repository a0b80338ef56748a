"""How often a message starts a self-service flow, on data written apart from the flows.

    .venv/bin/python bench/flow_triggers.py [--banking77 ../shared/data/banking77/train.csv] [--split dev|holdout|all]

- BANKING77 train rows (Casanueva et al. 2020, CC-BY-4.0) whose intent docs/banking77-routes.md maps to
  a flow: the share that starts that flow (recall) and any flow (reach);
- BANKING77 rows of intents mapped to a KB answer or a hand-off: the share that starts a flow anyway;
- the KB eval questions (knowledge_base/eval/questions.yaml, written for retrieval): the share that starts a flow.
Each message is matched as a signed-in customer's first message would be (no customer data:
an amount or a choice counts as evidence, a payee name does not). Split: a row is `holdout` when
sha256(text) % 5 == 0; tune on dev, report holdout once.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_B77 = ROOT.parent / "shared" / "data" / "banking77" / "train.csv"


def split_of(text: str) -> str:
    return "holdout" if int(hashlib.sha256(text.encode()).hexdigest(), 16) % 5 == 0 else "dev"


def routes() -> dict[str, tuple[str, str]]:
    out = {}
    for line in (ROOT / "docs/banking77-routes.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("intent", "---"):
            out[cells[0]] = (cells[1], cells[2])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--banking77", type=Path, default=DEFAULT_B77)
    ap.add_argument("--split", choices=("dev", "holdout", "all"), default="dev")
    ap.add_argument("--show", type=int, default=8)
    args = ap.parse_args()
    import yaml

    from assistant.banking.setup import build_banking_backend
    from assistant.config import Settings
    from assistant.dialogue.actions import CustomerData
    from assistant.handoff.policy import HandoffPolicy
    from assistant.logging_setup import configure_logging
    from assistant.services import build_embedder, build_nlu, build_selfservice
    from knowledge_base.retriever import LiveRetriever

    configure_logging("WARNING")
    settings = Settings(_env_file=None)
    embedder = build_embedder(settings)
    retriever = LiveRetriever(settings.index_dir, embedder)
    nlu = build_nlu(settings, embedder, HandoffPolicy.load(settings.handoff.policy))
    selfservice = build_selfservice(settings, retriever, sessionmaker_stub(), build_banking_backend(settings))

    def flow_for(text: str) -> str | None:
        v = embedder.encode([text])[0]
        faq = retriever.faq_candidates(v, 1)
        sig = nlu.classify(text, embedding=v)
        m = selfservice.match(text, v, sig.intent, sig.confidence, faq[0].score if faq else 0.0, CustomerData())
        return m.flow if m else None

    keep = (lambda t: True) if args.split == "all" else (lambda t: split_of(t) == args.split)
    table = routes()
    rows = [(r["text"], r["category"]) for r in csv.DictReader(args.banking77.open())] if args.banking77.exists() else []
    rows = [(t, c) for t, c in rows if keep(t)]
    hits, misses, false = Counter(), [], []
    for text, intent in rows:
        route, where = table[intent]
        got = flow_for(text)
        if route == "flow":
            hits["flow rows"] += 1
            hits["right flow"] += got == where
            hits["any flow"] += got is not None
            if got != where:
                misses.append((intent, text, got))
        else:
            hits["other rows"] += 1
            if got is not None:
                hits["other started a flow"] += 1
                false.append((intent, text, got))
    kb = [q["q"] for q in yaml.safe_load((ROOT / "knowledge_base/eval/questions.yaml").read_text()) if keep(q["q"])]
    kb_false = [(q, f) for q in kb if (f := flow_for(q))]
    print(f"BANKING77 train ({args.split}): flow intents {hits['flow rows']} rows, right flow "
          f"{hits['right flow'] / max(hits['flow rows'], 1):.3f}, any flow {hits['any flow'] / max(hits['flow rows'], 1):.3f}; "
          f"other intents {hits['other rows']} rows, started a flow {hits['other started a flow'] / max(hits['other rows'], 1):.3f}")
    print(f"KB eval questions ({args.split}): {len(kb)}, started a flow {len(kb_false) / max(len(kb), 1):.3f}")
    for intent, text, got in misses[: args.show]:
        print(f"  missed {intent}: {text!r} -> {got}")
    for intent, text, got in false[: args.show]:
        print(f"  false {intent}: {text!r} -> {got}")
    for q, f in kb_false[: args.show]:
        print(f"  kb false: {q!r} -> {f}")
    return 0


def sessionmaker_stub():
    """The matcher needs no database; the store is built but never used here."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(bind=create_engine("sqlite://"))


if __name__ == "__main__":
    raise SystemExit(main())
