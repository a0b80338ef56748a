"""The fine-tuning dataset: built from a knowledge base, deterministic, split by document, grounded."""

import json
from pathlib import Path

import pytest

from finetune.build_dataset import build
from finetune.build_dataset import main as build_main
from finetune.dataset import DatasetError, end_token_ids, load_split, tokenize_example
from knowledge_base.figures import figures, unsupported_figures

TINY_KB = {
    "products/cards.md": """---
id: prod-cards
title: Debit cards
category: cards
---
# Debit cards

## Card fees
Debit card fees:

- Replacement card: $10.
- Rush delivery: $25.

## Card limits
The daily ATM withdrawal limit is $500 per day.
""",
    "faq/replace.md": """---
id: faq-replace
title: "How much is a replacement card?"
category: faq
answer_doc: prod-cards
questions:
  - "replacement card fee"
  - "cost of a new card"
---
A replacement card costs $10. Rush delivery costs $25.
""",
    "products/savings.md": """---
id: prod-savings
title: Everyday Savings
category: savings
---
# Everyday Savings

## Rates
The Everyday Savings rate is 0.50% APY on every balance.

## Monthly fee
The Everyday Savings monthly fee is $5, waived with a $300 minimum daily balance.
""",
    "regulations/liability.md": """---
id: reg-liability
title: "Regulation E: liability"
category: regulation
---
# Regulation E: liability

## Prompt reporting
The most you can lose is $50 when you report a lost card within 2 business days.
""",
    "products/wires.md": """---
id: prod-wires
title: Wire transfers
category: transfers
---
# Wire transfers

## Wire fees
An outgoing domestic wire costs $25 and an outgoing international wire costs $45.

## Cut-off times
The domestic wire cut-off time is 4:00 p.m. ET on business days.
""",
    "products/hours.md": """---
id: prod-hours
title: Branch hours
category: branches
---
# Branch hours

## Opening hours
The Maple Falls branch hours are Monday to Friday 9:00 a.m. to 5:00 p.m.
""",
}


def write_tiny_kb(root: Path) -> Path:
    for rel, text in TINY_KB.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def build_tiny(tmp_path: Path, name: str = "ds", **options) -> tuple[Path, dict]:
    kb = write_tiny_kb(tmp_path / "kb")
    out = tmp_path / name
    manifest = build(kb, out, seed=7, sizes={"train": 40, "val": 8, "test": 8}, val_frac=0.2, test_frac=0.2, **options)
    return out, manifest


def tiny_kb_with_checking(tmp_path: Path, sections: str) -> Path:
    """The tiny knowledge base plus an Everyday Checking document with these sections."""
    kb_dir = write_tiny_kb(tmp_path / "kb")
    head = "---\nid: prod-checking\ntitle: Everyday Checking account\ncategory: accounts\n---\n# Everyday Checking account\n\n"
    (kb_dir / "products" / "checking.md").write_text(head + sections)
    return kb_dir


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny(tmp_path_factory.mktemp("ft"))


def test_build_is_deterministic(tiny, tmp_path):
    out, _ = tiny
    again, _ = build_tiny(tmp_path, "again")
    for split in ("train", "val", "test"):
        assert (out / f"{split}.jsonl").read_bytes() == (again / f"{split}.jsonl").read_bytes()


def test_split_by_document_group(tiny):
    out, manifest = tiny
    groups = {s: set(manifest["groups"][s]) for s in ("train", "val", "test")}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["val"]
    train = load_split(out / "train.jsonl")
    test = load_split(out / "test.jsonl")
    assert {r["group"] for r in test if r["group"] != "-"} <= groups["test"]
    # no training prompt shows a passage from a held-out document
    held_out = {d for r in test for p in r["passages"] for d in [p["doc_id"]] if r["group"] == p["doc_id"]}
    assert not held_out & {p["doc_id"] for r in train for p in r["passages"]}
    # the FAQ travels with the document that answers it
    assert ("faq-replace" in {d for r in train for p in r["passages"] for d in [p["doc_id"]]}) == ("prod-cards" in groups["train"])


def test_answers_are_grounded_and_cited(tiny):
    out, _ = tiny
    kinds = set()
    for split in ("train", "val", "test"):
        for r in load_split(out / f"{split}.jsonl"):
            kinds.add(r["kind"])
            reply = r["messages"][-1]["content"]
            evidence = [p["text"] for p in r["passages"]] + [p["title"] for p in r["passages"]]
            assert not unsupported_figures(reply, evidence), (r["id"], reply)
            assert r["messages"][0]["role"] == "system" and "Passages:\n[1] " in r["messages"][1]["content"]
            if r["gold"]:
                gold = r["passages"][r["gold"][0] - 1]["text"]
                assert set(r["key_figures"]) <= figures(gold)
                assert f"[{r['gold'][0]}]" in reply
            if r["kind"] == "unanswerable":
                assert "don't have that information" in reply and "agent" in reply
    assert {"answer", "unanswerable", "out_of_scope", "handoff", "multi_turn"} <= kinds


def test_train_unanswerable_share_changes_the_training_split_only(tiny, tmp_path):
    out, manifest = tiny
    fewer_dir, fewer = build_tiny(tmp_path, "fewer", train_unanswerable=0.0)
    assert fewer["counts"]["train"].get("unanswerable", 0) == 0 < manifest["counts"]["train"]["unanswerable"]
    for split in ("val", "test"):  # the evaluation splits keep their mix, byte for byte
        assert (fewer_dir / f"{split}.jsonl").read_bytes() == (out / f"{split}.jsonl").read_bytes()


def test_follow_up_refusal_cap_changes_the_training_split_only(tiny, tmp_path):
    out, _ = tiny
    capped_dir, capped = build_tiny(tmp_path, "capped", train_follow_up_refusals=0.0)
    train = load_split(capped_dir / "train.jsonl")
    assert not [r for r in train if r["kind"] == "multi_turn" and r["refuse"]]
    assert [r for r in load_split(out / "train.jsonl") if r["kind"] == "multi_turn" and r["refuse"]]
    for split in ("val", "test"):
        assert (capped_dir / f"{split}.jsonl").read_bytes() == (out / f"{split}.jsonl").read_bytes()


def test_loose_rewrites_are_customer_voiced_and_keep_figures():
    import random

    from finetune.phrasing import informal

    rng = random.Random(3)
    plain = ["What is the monthly fee for Everyday Checking?", "How long does a domestic wire transfer take?",
             "Is the $25 rush fee charged per card?", "What are the limits for ATM withdrawal?"]
    seen = set()
    for q in plain * 10:
        loose = informal(q, rng)
        assert loose and loose != q
        assert figures(loose) == figures(q), (q, loose)  # a figure in the question is never rewritten
        seen.add(loose)
    assert len(seen) > 30  # varied, not one rewrite per question
    assert informal(plain[0], random.Random(5)) == informal(plain[0], random.Random(5))


def test_loose_questions_in_answers_and_refusals(tiny, tmp_path):
    out, manifest = tiny
    assert manifest["loose"] == 1
    plain_dir, _ = build_tiny(tmp_path, "plain", loose=0)
    templated = {r["question"] for s in ("train", "val", "test") for r in load_split(plain_dir / f"{s}.jsonl")}
    rows = [r for s in ("train", "val", "test") for r in load_split(out / f"{s}.jsonl")]
    new = [r for r in rows if r["kind"] in ("answer", "unanswerable") and r["question"] not in templated]
    assert {r["kind"] for r in new} >= {"answer"} and len(new) >= 5
    # a loose question is still answered from its passage, with its figures
    for r in new:
        if r["kind"] == "answer":
            assert set(r["key_figures"]) <= figures(r["passages"][r["gold"][0] - 1]["text"])


def test_condition_facts_ask_how_to_avoid_a_fee(tmp_path):
    from finetune.facts import load_kb

    kb_dir = tiny_kb_with_checking(tmp_path, """## Monthly fee
The Everyday Checking monthly maintenance fee is $10 per statement cycle. Larkspur waives the fee in any cycle in which at least one of these is true:

- You receive $500 or more in direct deposits.
- You keep a minimum daily balance of $1,500.

## Opening deposit
You need $25 to open an Everyday Checking account.
""")
    plain = load_kb(kb_dir)
    assert not [f for f in plain.facts if f.kind == "condition"]
    facts = {f.chunk.doc_id: f for f in load_kb(kb_dir, conditions=True).facts if f.kind == "condition"}
    listed = facts["prod-checking"]
    # the answer is the waiver with the conditions listed under it; the fee and the opening deposit are not key
    assert listed.key_figures == figures("$500 and $1,500")
    assert listed.answer.endswith("You receive $500 or more in direct deposits; You keep a minimum daily balance of $1,500.")
    assert "How do I avoid the monthly fee on Everyday Checking account?" in listed.questions
    assert figures("$300") <= facts["prod-savings"].key_figures  # "... $5, waived with a $300 minimum daily balance."
    # with the option, every split's pool may hold them; without it the build is the default one
    out, manifest = build_tiny(tmp_path, "cond", conditions=True)
    assert manifest["conditions"] is True
    rows = [r for s in ("train", "val", "test") for r in load_split(out / f"{s}.jsonl")]
    for r in rows:
        if r["source"] == "condition" and r["kind"] == "answer":
            assert set(r["key_figures"]) <= figures(r["passages"][r["gold"][0] - 1]["text"])


def test_follow_on_answers_carry_the_next_sentence_of_the_paragraph(tmp_path):
    from finetune.facts import FOLLOW_ON_CHARS, load_kb

    kb_dir = tiny_kb_with_checking(tmp_path, """## Monthly fee
The Everyday Checking monthly fee is $10 per statement cycle. Larkspur waives it with a $1,500 minimum daily balance.

## Opening deposit
You need $25 to open an Everyday Checking account.

## Overdrafts
The overdraft fee is $29 per item.
Larkspur charges at most 3 overdraft fees per business day.
""")
    def answers(**options):
        return {f.questions[0]: f for f in load_kb(kb_dir, **options).facts if f.chunk.doc_id == "prod-checking"}

    plain, joined = answers(), answers(follow_on=True)
    fee = "What is the Everyday Checking monthly fee?"
    assert plain[fee].answer == "The Everyday Checking monthly fee is $10 per statement cycle."
    # the waiver that follows in the same paragraph joins the answer; the key figure stays the asked one
    assert joined[fee].answer == plain[fee].answer + " Larkspur waives it with a $1,500 minimum daily balance."
    assert joined[fee].key_figures == plain[fee].key_figures == figures("$10")
    assert all(len(f.answer) <= FOLLOW_ON_CHARS for f in joined.values() if f.kind in ("sentence", "section"))
    # a sentence alone in its paragraph, or one whose next sentence is on another line, stays alone
    assert "The overdraft fee is $29 per item." in [f.answer for f in joined.values()]
    out, manifest = build_tiny(tmp_path, "follow", follow_on=True)
    assert manifest["follow_on"] is True
    for r in (r for s in ("train", "val", "test") for r in load_split(out / f"{s}.jsonl")):
        if r["kind"] == "answer":
            shown = " ".join(p["text"] for p in r["passages"])
            assert not unsupported_figures(r["messages"][-1]["content"], [shown])


def test_cli_reports_sizes(tmp_path, capsys):
    kb = write_tiny_kb(tmp_path / "kb")
    assert build_main(["--kb-dir", str(kb), "--out", str(tmp_path / "o"), "--train-size", "10",
                       "--val-size", "4", "--test-size", "4"]) == 0
    assert "train" in capsys.readouterr().out
    assert build_main(["--kb-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "o2")]) == 2


def test_missing_and_corrupt_dataset_files(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_split(tmp_path / "train.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"\n')
    with pytest.raises(DatasetError, match="bad.jsonl:1: not valid JSON"):
        load_split(bad)
    bad.write_text(json.dumps({"id": "x", "kind": "answer"}) + "\n")
    with pytest.raises(DatasetError, match="lacks"):
        load_split(bad)
    rec = {"id": "x", "kind": "answer", "passages": [], "key_figures": [], "gold": [], "refuse": False,
           "messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]}
    bad.write_text(json.dumps(rec) + "\n")
    with pytest.raises(DatasetError, match="last message"):
        load_split(bad)
    bad.write_text("\n")
    with pytest.raises(DatasetError, match="no examples"):
        load_split(bad)


def test_only_replies_are_learned(tiny):
    from transformers import AutoTokenizer

    model_dir = Path.home() / ".cache" / "bankassist" / "models" / "hf" / "smollm2-135m"
    if not (model_dir / "tokenizer.json").exists():
        pytest.skip("SmolLM2 not converted (bankassist models prepare --llm smollm2-135m)")
    tok = AutoTokenizer.from_pretrained(model_dir)
    out, _ = tiny
    rec = next(r for r in load_split(out / "train.jsonl") if r["kind"] == "multi_turn")
    t = tokenize_example(tok, rec["messages"], end_token_ids(tok))
    learned = tok.decode([i for i, lab in zip(t.input_ids, t.labels, strict=False) if lab != -100])
    replies = [m["content"] for m in rec["messages"] if m["role"] == "assistant"]
    for reply in replies:
        assert reply in learned
    assert "Passages:" not in learned and "Customer question" not in learned
    assert len(t.input_ids) == len(t.labels)
