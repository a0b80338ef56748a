"""Build the grounded conversation dataset from the knowledge base.

    python -m finetune.build_dataset --out var/finetune/dataset [--seed 13]

Writes train.jsonl, val.jsonl, test.jsonl and manifest.json. The split is by document group
(a product document with the FAQ entries it answers; a regulation alone), so test questions
come from documents the model never saw in training. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from pathlib import Path

from finetune import prompts
from finetune.examples import (
    HANDOFF_QUESTIONS,
    OUT_OF_SCOPE_QUESTIONS,
    SECURITY_QUESTIONS,
    Builder,
    Example,
    Similarity,
)
from finetune.facts import Fact, load_kb
from finetune.phrasing import informal

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "var" / "finetune" / "dataset"
SPLITS = ("train", "val", "test")
# Share of each kind in a split (the rest of a short pool is filled with grounded answers).
MIX = {"answer": 0.58, "unanswerable": 0.19, "multi_turn": 0.09, "out_of_scope": 0.06, "handoff": 0.05, "security": 0.03}
# Training sees fewer "not in the passages" examples than the evaluation asks: at the test mix a
# 64-step run refused 24 % of answerable held-out questions (informal or misspelt ones above all).
TRAIN_MIX = {**MIX, "unanswerable": 0.04}
SPECIFIC = ("faq", "bullet", "sentence", "condition")  # facts whose question names what it asks for


def split_groups(groups: list[str], seed: int, val_frac: float, test_frac: float) -> dict[str, str]:
    order = sorted(groups, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    n_test, n_val = max(1, round(len(order) * test_frac)), max(1, round(len(order) * val_frac))
    return {g: ("test" if i < n_test else "val" if i < n_test + n_val else "train") for i, g in enumerate(order)}


def _canned_split(items: tuple[str, ...], split: str) -> list[str]:
    """Every 4th canned question is held out for test, every 7th for validation."""
    pick = {"test": lambda i: i % 4 == 3, "val": lambda i: i % 7 == 5}
    if split in pick:
        return [q for i, q in enumerate(items) if pick[split](i)]
    return [q for i, q in enumerate(items) if i % 4 != 3 and i % 7 != 5]


def build_split(split: str, facts: list[Fact], builder: Builder, rng: random.Random, phrasings: int,
                loose: int = 1) -> dict[str, list[Example]]:
    """`loose`: customer-voice rewrites (finetune/phrasing.py) per specific fact, on top of `phrasings`
    template questions; unanswerable questions are loose in the same share, so loose wording is
    never a cue to refuse."""
    pools: dict[str, list[Example]] = {k: [] for k in MIX}
    n = 0

    def eid(kind: str) -> str:
        nonlocal n
        n += 1
        return f"{split}-{kind}-{n:05d}"

    for fact in facts:
        k = phrasings if fact.kind in SPECIFIC else 1
        asked = rng.sample(fact.questions, min(k, len(fact.questions)))
        if fact.kind in SPECIFIC:
            asked += [informal(rng.choice(fact.questions), rng) for _ in range(loose)]
        for q in asked:
            pools["answer"].append(builder.answer(fact, q, eid("answer")))
    loose_share = loose / (phrasings + loose) if phrasings + loose else 0.0
    specific = [f for f in facts if f.kind in SPECIFIC and f.key_figures]
    for fact in specific:
        q = rng.choice(fact.questions)
        loose_q = loose_share and rng.random() < loose_share  # no draw at --loose 0: earlier runs rebuild byte for byte
        ex = builder.unanswerable(fact, informal(q, rng) if loose_q else q, eid("unanswerable"))
        if ex is not None:
            pools["unanswerable"].append(ex)
    by_doc: dict[str, list[Fact]] = {}
    for f in specific:
        by_doc.setdefault(f.chunk.doc_id, []).append(f)
    for doc_facts in by_doc.values():
        for a, b in zip(doc_facts, doc_facts[1:], strict=False):
            if a.answer != b.answer:
                pools["multi_turn"].append(builder.follow_up(a, b, a.questions[0], rng.choice(b.questions), eid("multi_turn")))
        if len(specific) > 1:
            other = rng.choice([f for f in specific if f.chunk.doc_id != doc_facts[0].chunk.doc_id] or specific)
            pools["multi_turn"].append(builder.follow_up(doc_facts[0], None, doc_facts[0].questions[0], other.questions[0], eid("multi_turn")))
    canned = {
        "out_of_scope": (OUT_OF_SCOPE_QUESTIONS, (prompts.OUT_OF_SCOPE,)),
        "handoff": (HANDOFF_QUESTIONS, prompts.HANDOFF_ANSWERS),
        "security": (SECURITY_QUESTIONS, (prompts.SECURITY_ANSWER,)),
    }
    for kind, (questions, replies) in canned.items():
        for _ in range(2 if split == "train" else 1):  # two contexts per question in training
            for q in _canned_split(questions, split):
                pools[kind].append(builder.canned(kind, q, rng.choice(replies), eid(kind)))
    for pool in pools.values():
        rng.shuffle(pool)
    return pools


def take(pools: dict[str, list[Example]], size: int, rng: random.Random, mix: dict[str, float] = MIX) -> list[Example]:
    """A sample of `size` with the mix's shares, specific questions first among answers."""
    out: list[Example] = []
    answers = sorted(pools["answer"], key=lambda e: e.source not in SPECIFIC and rng.random() > 0.35)
    for kind, share in mix.items():
        if kind != "answer":
            out += pools[kind][: round(size * share)]
    rest = [e for e in answers if e not in out]
    out += rest[: max(0, size - len(out))]
    rng.shuffle(out)
    return out


def build(kb_dir: Path, out: Path, *, seed: int = 13, sizes: dict[str, int] | None = None,
          val_frac: float = 0.1, test_frac: float = 0.2, phrasings: int = 2, loose: int = 1,
          train_unanswerable: float = TRAIN_MIX["unanswerable"], train_follow_up_refusals: float | None = None,
          conditions: bool = False, follow_on: bool = False) -> dict:
    """`train_follow_up_refusals`: at most this share of the training split are follow-ups refused
    because no passage answers them (None: as many as the documents give, about 6 %).
    `conditions`: also ask how to avoid a fee (finetune/facts.py `_condition_facts`), in every split.
    `follow_on`: sentence answers carry the next sentence of their paragraph (`_with_follow_on`)."""
    sizes = {"train": 1200, "val": 80, "test": 64, **(sizes or {})}
    kb = load_kb(kb_dir, conditions=conditions, follow_on=follow_on)
    assign = split_groups(list(kb.groups), seed, val_frac, test_frac)
    sim = Similarity(kb.chunks)
    manifest: dict = {"seed": seed, "kb_dir": str(kb_dir), "val_frac": val_frac, "test_frac": test_frac,
                      "phrasings": phrasings, "loose": loose,
                      **({"conditions": True} if conditions else {}), **({"follow_on": True} if follow_on else {}), "groups": {}, "counts": {}, "available": {}}
    out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        rng = random.Random(f"{seed}:{split}")
        groups = {g for g, s in assign.items() if s == split}
        # Training prompts only ever show training documents; test prompts may show any document.
        pool = groups if split == "train" else set(kb.groups)
        builder = Builder(sim, rng, pool)
        facts = [f for f in kb.facts if f.chunk.group in groups]
        pools = build_split(split, facts, builder, rng, phrasings, loose)
        if split == "train" and train_follow_up_refusals is not None:
            refused = [e for e in pools["multi_turn"] if e.refuse][: round(sizes[split] * train_follow_up_refusals)]
            pools["multi_turn"] = [e for e in pools["multi_turn"] if not e.refuse or e in refused]
        chosen = take(pools, sizes[split], rng, {**TRAIN_MIX, "unanswerable": train_unanswerable} if split == "train" else MIX)
        with (out / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            for ex in chosen:
                fh.write(json.dumps({**ex.to_json(), "split": split}, ensure_ascii=False) + "\n")
        manifest["groups"][split] = sorted(groups)
        manifest["available"][split] = {k: len(v) for k, v in pools.items()}
        manifest["counts"][split] = dict(Counter(e.kind for e in chosen)) | {"total": len(chosen)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finetune.build_dataset", description=__doc__.split("\n")[1])
    ap.add_argument("--kb-dir", type=Path, default=ROOT / "knowledge_base" / "docs")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--train-size", type=int, default=1200)
    ap.add_argument("--val-size", type=int, default=80)
    ap.add_argument("--test-size", type=int, default=64)
    ap.add_argument("--phrasings", type=int, default=2, help="phrasings per specific fact")
    ap.add_argument("--loose", type=int, default=1,
                    help="customer-voice rewrites (typos, loose synonyms, chatty openings) per specific fact; 0 for none")
    ap.add_argument("--train-unanswerable", type=_share, default=TRAIN_MIX["unanswerable"],
                    help="share of 'not in the passages' examples in the training split (validation and test keep MIX)")
    ap.add_argument("--train-follow-up-refusals", type=_share,
                    help="at most this share of the training split are refused follow-ups (default: all there are)")
    ap.add_argument("--conditions", action="store_true",
                    help="also questions that ask how to avoid a fee, answered with the waiver's conditions")
    ap.add_argument("--follow-on", action="store_true",
                    help="answer a sentence question with that sentence and the next one of its paragraph")
    args = ap.parse_args(argv)
    try:
        m = build(args.kb_dir, args.out, seed=args.seed, phrasings=args.phrasings, loose=args.loose, train_unanswerable=args.train_unanswerable,
                  train_follow_up_refusals=args.train_follow_up_refusals, conditions=args.conditions, follow_on=args.follow_on,
                  sizes={"train": args.train_size, "val": args.val_size, "test": args.test_size})
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for split in SPLITS:
        print(f"{split:5s} {m['counts'][split]['total']:5d} examples from {len(m['groups'][split])} document groups: "
              + ", ".join(f"{k}={v}" for k, v in sorted(m["counts"][split].items()) if k != "total"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
