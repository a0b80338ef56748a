"""Item agreement of the automatic QA scorer with the hand labels of tests/qa/labelled/.

    python bench/qa_agreement.py --split dev            # while tuning
    python bench/qa_agreement.py --split holdout        # once, at the end
    python bench/qa_agreement.py --split dev --judge empathy,resolution_or_next_step   # the LLM as judge

An item is one (conversation, part, scorecard item) triple with a label: pass, fail or n/a.
Agreement = the share of items where the scorer's result equals the label; "applicable" counts
only items the labeller did not mark n/a. Scorer: the default scorecard, the MiniLM encoder (ONNX,
as the API runs it) and the knowledge-base documents for the figure check.

The set stores references to BANKING77 and SGD sentences, not their text: the texts are rebuilt from
--data (default BANK_NLU__SHARED_DATA_DIR, ../shared/data); without it the bench stops and names the path.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LABELLED = ROOT / "tests" / "qa" / "labelled"


def load_set(folder: Path = LABELLED, data: Path | None = None) -> tuple[list[dict], dict]:
    """Conversations with every `ref` replaced by its sentence, and the labels. Raises
    bench.dataset_refs.MissingData (naming the file) when the data sets are not there."""
    from bench.dataset_refs import DatasetTexts, default_data_dir, with_text

    texts = DatasetTexts(data or default_data_dir())
    convs = yaml.safe_load((folder / "conversations.yaml").read_text(encoding="utf-8"))
    for c in convs:
        c["transcript"]["messages"] = [with_text(m, texts) for m in c["transcript"]["messages"]]
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    return convs, labels


def build_scorer(judge_items: set[str], llm: str):
    from assistant.config import Settings
    from assistant.qa.deciders import Tools
    from assistant.qa.scorecard import Method
    from assistant.qa.scorer import Scorer, load_default
    from assistant.qa.setup import KbTexts
    from assistant.services import build_embedder

    settings = Settings(_env_file=None)
    card = load_default()
    tools = Tools(encode=build_embedder(settings).encode, kb_text=KbTexts(Path(settings.retrieval.docs_dir)))
    if judge_items:
        from assistant.qa.judge import LlmJudge
        from assistant.services import build_generator

        slow = Settings(_env_file=None, llm={"model": llm, "timeout_s": 900.0, "queue_timeout_s": 900.0})  # batch: no turn waits
        tools.judge = LlmJudge(build_generator(slow))
        items = [i.model_copy(update={"decided_by": Method.LLM}) if i.id in judge_items else i for i in card.items]
        card = card.model_copy(update={"items": items})
    return Scorer(card, tools)


def compare(convs: list[dict], labels: dict, scorer, split: str, limit: int | None = None) -> tuple[list[tuple], float]:
    """Rows (conversation, part, item, label, scorer's result, note); seconds spent scoring."""
    from assistant.qa.transcript import Transcript

    rows, spent = [], 0.0
    chosen = [c for c in convs if split == "all" or c["split"] == split][:limit]
    for c in chosen:
        t = Transcript.model_validate(c["transcript"])
        t0 = time.perf_counter()
        scored = scorer.score(t)
        spent += time.perf_counter() - t0
        got = {(i.part, i.item_id): i.outcome for i in scored.items}
        for part, items in (labels.get(c["id"]) or {}).items():
            for item_id, label in items.items():
                outcome = got.get((part, item_id))
                rows.append((c["id"], part, item_id, str(label), outcome.result if outcome else "missing",
                             outcome.note if outcome else ""))
    return rows, spent


def report(rows: list[tuple], title: str) -> None:
    n = len(rows)
    agree = sum(r[3] == r[4] for r in rows)
    applicable = [r for r in rows if r[3] != "na"]
    a_agree = sum(r[3] == r[4] for r in applicable)
    print(f"\n== {title}: {len(set(r[0] for r in rows))} conversations, {n} items ({len(applicable)} labelled pass/fail)")
    if not n:
        return
    print(f"item agreement {agree / n:.3f} ({agree}/{n}); on pass/fail labels {a_agree / max(1, len(applicable)):.3f} "
          f"({a_agree}/{len(applicable)})")
    per: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        acc = per[(r[2], r[1])]
        acc[0] += 1
        acc[1] += r[3] == r[4]
        acc[2] += r[3] == "fail"
        acc[3] += r[3] == "fail" and r[4] == "fail"
    print(f"{'item':28s} {'part':6s} {'n':>4s} {'agree':>6s}  fails caught")
    for (item, part), (k, a, fails, caught) in sorted(per.items()):
        print(f"{item:28s} {part:6s} {k:4d} {a / k:6.3f}  {caught}/{fails}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "holdout", "all"], default="dev")
    ap.add_argument("--judge", default="", help="comma-separated item ids decided by the LLM judge instead")
    ap.add_argument("--llm", default="qwen2.5-coder-0.5b")
    ap.add_argument("--show", action="store_true", help="list disagreements (use on dev only)")
    ap.add_argument("--limit", type=int, help="only the first N conversations of the split (the LLM judge is slow)")
    ap.add_argument("--data", type=Path, help="the shared data folder (default: BANK_NLU__SHARED_DATA_DIR, ../shared/data)")
    args = ap.parse_args()
    from bench.dataset_refs import MissingData

    try:
        convs, labels = load_set(data=args.data)
    except MissingData as e:
        sys.exit(f"cannot rebuild the labelled set's texts: {e}")
    judge_items = {x for x in args.judge.split(",") if x}
    scorer = build_scorer(judge_items, args.llm)
    rows, spent = compare(convs, labels, scorer, args.split, args.limit)
    report(rows, f"{args.split} split, scorecard {scorer.scorecard.key}" + (f", LLM judge on {sorted(judge_items)}" if judge_items else ""))
    print(f"scoring time {spent:.1f} s for {len(set(r[0] for r in rows))} conversations")
    judge = scorer.tools.judge
    if judge is not None and judge.calls:
        print(f"LLM judge: {judge.calls} calls, {judge.seconds / judge.calls:.2f} s each")
    if args.show:
        for r in rows:
            if r[3] != r[4]:
                print(f"  {r[0]} {r[1]:5s} {r[2]:26s} label={r[3]:4s} scorer={r[4]:4s} {r[5]}")


if __name__ == "__main__":
    main()
