"""Build knowledge_base/eval/followups.yaml: two- and three-turn conversations for reading follow-ups.

    .venv/bin/python bench/build_followups.py [--data ../shared/data] [--seed 29] [--out FILE]

Issue 29 (multi-turn): a short follow-up ("up to what amount?", "what do I do now?", "and for
savings?", "why?") is read with the conversation, and a new topic stays new. Where each turn comes from:
- first turns: the knowledge base's own eval questions (knowledge_base/eval/questions.yaml, those that
  follow nothing) and BANKING77 train texts (../shared/data/banking77/train.csv) whose intent
  docs/banking77-routes.md sends to knowledge-base pages (the problem intents, which that table sends to
  flows, are mapped to their pages in PROBLEM_DOCS below);
- follow-ups: SGD user turns (../shared/data/sgd): the bank dialogues' account swaps (the same question
  asked of the savings account after the checking one) and other services' domain-free questions (what it
  costs, whether there is a charge, how long it takes); HWU64's `general_explain` requests (asking for more
  explanation); and the paraphrases in PARAPHRASES (the issue's examples and their kin);
- negatives: a second turn that is another eval question or BANKING77 text about other documents (a new
  topic, some opening with "and"/"also"), or a request to another service (HWU64, SNIPS, SGD other
  domains; some with a pronoun standing for a hotel or a ride), which must still be refused.
Expected per turn: `docs` (a reply is right when it cites one of them, an FAQ counting through its
answer_doc; [] for none) and `route` (answer | refuse | flow | any, or a list of them).
A turn taken from a shared data set is written as a reference to its row, never as its text
(bench/followups_refs.py: Quoted carries the reference through the build, load_set reads the text back).
Split, fixed before any result was looked at: `holdout` when sha256(id) % 100 < HOLDOUT_PERCENT.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.followups_refs import SharedData, as_written, conv_id, reopen  # noqa: E402
from bench.followups_sources import FAMILIES, PARAPHRASES, PROBLEM_DOCS, Kb, b77_routes  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "knowledge_base" / "eval" / "followups.yaml"
HOLDOUT_PERCENT = 40
COUNTS = {"cost": 20, "time": 15, "amount": 15, "what_now": 25, "why": 20, "yes_no": 20, "explain": 10, "swap": 30,
          "three_turn": 20, "new_topic": 30, "out_of_scope": 20, "oos_pronoun": 12, "sgd_flow": 12}
ATTRIBUTE = re.compile(r"\b(fees?|rates?|apy|apr|interest|minimum|limits?|penalty|cost|charged?|terms?)\b", re.I)
YES_NO = re.compile(r"^(can|is|are|does|do|will|am|should|would)\b", re.I)
HOW_TO = re.compile(r"^(how (do|can|would) (i|you|we)|can i|where (do|can) i|i (want|need) to)\b", re.I)
ASKS_COST = re.compile(r"\b(fees?|cost|charge|price|how much|free)\b", re.I)
ASKS_TIME = re.compile(r"\b(how long|when|how many days|how soon|time)\b", re.I)
# Words of other services; a turn with one of them and no banking word is a request to another service.
DOMAIN = re.compile(r"\b(wifi|pets?|ride|cab|taxi|flights?|hotels?|room|rooms|movies?|songs?|music|album|weather|humidity|wind|"
                    r"rain|concert|events?|bus|buses|train|station|restaurants?|table|menu|venue|seats?|airline|rental|dentist|"
                    r"salon|apartment|museum|game|match|artist|stylist|laundry|alcohol|liquor|furnished|playlist|alarm|"
                    r"lights?|recipe|podcast|radio|calendar|meeting|email|traffic|coffee|joke|tickets?|stay|nights?|rent\w*|"
                    r"get (there|here)|it's here|arriv\w*|destination|place|trip|that one|this one|car|reservation|bill|first)\b", re.I)
BANKING = re.compile(r"\b(bank|account|card|money|pay|payment|transfer|balance|fee|charge|credit|debit|loan|deposit|cash|atm|"
                     r"refund|price|cost|dollars?|\$)", re.I)
HWU_NOT_OOS = re.compile(r"^(general_|qa_currency|qa_stock|qa_definition)")


def split_of(cid: str) -> str:
    return "holdout" if int(hashlib.sha256(cid.encode()).hexdigest(), 16) % 100 < HOLDOUT_PERCENT else "dev"


def turn(user: str, docs, route="answer", **extra) -> dict:
    out = {"user": user, "docs": sorted(set(docs)), "route": route}
    out.update(extra)
    return out


class Sources:
    """Every pool the conversations are drawn from, read once."""

    def __init__(self, data: Path, kb: Kb, rng: random.Random) -> None:
        from knowledge_base.evaluate import load_questions

        self.kb, self.rng, shared = kb, rng, SharedData(data)
        self.eval = [(q.q, kb.expand(q.docs)) for q in load_questions() if q.docs and not q.follow_up_of]
        self.b77 = self._banking77(shared)
        # set() keeps the first of equal texts, so a quote refers to the first row that has it
        self.sgd_other = sorted(set(shared.quote("sgd-other", i) for i in range(len(shared.rows("sgd-other")))))
        self.sgd_banks = [[shared.quote("sgd-banks", i, turn=j) if t["speaker"] == "USER" else None for j, t in enumerate(d["turns"])]
                          for i, d in enumerate(shared.rows("sgd-banks"))]
        self.balance = [i for i, d in enumerate(shared.rows("sgd-banks")) if d["turns"][0].get("intent") == "CheckBalance"]
        hwu = [(r, shared.quote("hwu64", i)) for i, r in enumerate(shared.rows("hwu64"))]
        self.explain = sorted({shared.quote("hwu64", i, clean=True) for i, r in enumerate(shared.rows("hwu64"))
                               if r["intent"] == "general_explain" and len(r["text"].split()) <= 8})
        self.oos = sorted({t for r, t in hwu if not HWU_NOT_OOS.match(r["intent"]) and not BANKING.search(t)})
        self.oos += sorted({shared.quote("snips", i) for i in range(len(shared.rows("snips")))})
        self.oos += [t for t in self.sgd_other if DOMAIN.search(t) and not BANKING.search(t) and len(t.split()) >= 4]

    def _banking77(self, shared: SharedData) -> dict[str, list[tuple[str, frozenset[str]]]]:
        """BANKING77 texts by intent, each with the documents that answer it."""
        routes = b77_routes(ROOT / "docs" / "banking77-routes.md", self.kb)
        routes.update({k: self.kb.expand(v) for k, v in PROBLEM_DOCS.items()})
        out: dict[str, list] = {}
        for i, row in enumerate(shared.rows("banking77")):
            if routes.get(row["category"]) and 3 <= len(row["text"].split()) <= 20:
                out.setdefault(row["category"], []).append((shared.quote("banking77", i), routes[row["category"]]))
        return out

    def sgd_matching(self, pattern: str, max_words: int = 8) -> list[str]:
        rx = re.compile(pattern, re.I)
        found = {t for t in self.sgd_other if len(t.split()) <= max_words and rx.search(t) and not DOMAIN.search(t)
                 and len(re.findall(r"[.?!]", t.rstrip(".?! "))) == 0}  # one sentence: a question then a confirmation is two
        return sorted(found)

    def account_swaps(self) -> list[str]:
        """The bank dialogues' elliptical account swaps: the account named alone after "how about", "and in", "and for"."""
        rx = re.compile(r"^(?:(?:and|ok|okay)[,.]?\s+)?(?:(?:how|what) about|and in|and for)\b[^.?]{0,40}\b(savings|checking)\b[^.?]*[.?]?$", re.I)
        found = {t for d in self.sgd_banks for t in d if t is not None and rx.match(t) and not DOMAIN.search(t)}
        return sorted(found)

    def balance_openers(self) -> list[str]:
        return sorted({t for i in self.balance if (t := self.sgd_banks[i][0]) is not None and len(t.split()) <= 12})

    def first_turns(self, where=lambda q, docs: True, b77: tuple[str, ...] = (), kb_eval: bool = True) -> list[tuple[str, frozenset[str], str]]:
        pool = [(q, d, "kb-eval") for q, d in self.eval if kb_eval and where(q, d)]
        pool += [(t, d, "banking77") for k in b77 for t, d in self.b77.get(k, ()) if where(t, d)]
        return pool


def build(src: Sources, rng: random.Random) -> list[dict]:
    """Every conversation, kind by kind (counts in COUNTS)."""
    kb, convs = src.kb, []

    def add(kind: str, turns: list[dict], sources: list[str], **extra) -> None:
        convs.append({"id": conv_id(kind, turns), "kind": kind, "sources": sources, **extra, "turns": turns})

    def pick(pool: list, n: int) -> list:
        return rng.sample(pool, min(n, len(pool)))

    cost = src.sgd_matching(r"^(and |so |okay,? )?(how much|what will (it|that|this)|what's the (cost|price|total)|is there a charge)")
    firsts = src.first_turns(lambda q, d: kb.has(d, "fee") and not ASKS_COST.search(q))
    for (q, d, s), f in zip(pick(firsts, COUNTS["cost"]), rng.choices(cost, k=COUNTS["cost"]), strict=False):
        add("cost", [turn(q, d), turn(f, d | kb.fee_docs)], [s, "sgd-other"])
    time_q = src.sgd_matching(r"^(yeah, )?(how long (will|would|does|should|is) (it|that|this|i)\b|how long until it)") + PARAPHRASES["time"]
    firsts = src.first_turns(lambda q, d: kb.has(d, "time") and not ASKS_TIME.search(q))
    for (q, d, s), f in zip(pick(firsts, COUNTS["time"]), rng.choices(time_q, k=COUNTS["time"]), strict=False):
        add("time", [turn(q, d), turn(f, d)], [s, "sgd-other/paraphrase"])
    firsts = src.first_turns(lambda q, d: kb.has(d, "limit") and not re.search(r"\b(limit|max|most|up to|how much)\b", q, re.I))
    for (q, d, s), f in zip(pick(firsts, COUNTS["amount"]), rng.choices(PARAPHRASES["amount"], k=COUNTS["amount"]), strict=False):
        add("amount", [turn(q, d), turn(f, d)], [s, "paraphrase"])
    firsts = src.first_turns(b77=tuple(PROBLEM_DOCS), kb_eval=False)
    for (q, d, s), f in zip(pick(firsts, COUNTS["what_now"]), rng.choices(PARAPHRASES["what_now"], k=COUNTS["what_now"]), strict=False):
        add("what_now", [turn(q, d, "any"), turn(f, d, ["answer", "flow"])], [s, "paraphrase"])
    firsts = src.first_turns(lambda q, d: bool(YES_NO.match(q)))
    why = PARAPHRASES["why"] + src.sgd_matching(r"^why not\?$", 3)
    for (q, d, s), f in zip(pick(firsts, COUNTS["why"]), rng.choices(why, k=COUNTS["why"]), strict=False):
        add("why", [turn(q, d), turn(f, d)], [s, "paraphrase"])
    _yes_no(src, rng, add, pick)
    firsts = src.first_turns()
    for (q, d, s), f in zip(pick(firsts, COUNTS["explain"]), pick(src.explain, COUNTS["explain"]), strict=False):
        add("explain", [turn(q, d), turn(f, d)], [s, "hwu64-general_explain"])
    _swaps(src, rng, add, pick)
    _three_turns(src, rng, add, pick, cost, time_q)
    _negatives(src, rng, add, pick)
    return convs


def _yes_no(src: Sources, rng, add, pick) -> None:
    kb, n = src.kb, COUNTS["yes_no"]
    fee_q = src.sgd_matching(r"^(is there a charge|is it free)\??$", 5) + PARAPHRASES["yes_no_fee"]
    firsts = src.first_turns(lambda q, d: kb.has(d, "fee") and not ASKS_COST.search(q))
    for (q, d, s), f in zip(pick(firsts, n // 2), rng.choices(fee_q, k=n // 2), strict=False):
        add("yes_no", [turn(q, d), turn(f, d | kb.fee_docs)], [s, "sgd-other/paraphrase"])
    firsts = src.first_turns(lambda q, d: bool(HOW_TO.match(q)))
    for (q, d, s), f in zip(pick(firsts, n - n // 2), rng.choices(PARAPHRASES["yes_no_how"], k=n - n // 2), strict=False):
        add("yes_no", [turn(q, d), turn(f, d | kb.digital_docs)], [s, "paraphrase"])


def _swaps(src: Sources, rng, add, pick) -> None:
    """ "and for savings?" after a question about one product's fee or rate: the sibling product's page."""
    kb, n = src.kb, COUNTS["swap"]
    members = {doc: fam for fam, docs in FAMILIES.items() for doc in docs}
    firsts = [(q, d, s) for q, d, s in src.first_turns(lambda q, d: bool(ATTRIBUTE.search(q)))
              if len({members[x] for x in d if x in members}) == 1 and len([x for x in d if x in members]) == 1]
    sgd = src.account_swaps()
    for q, d, s in pick(firsts, n):
        own = next(x for x in d if x in members)
        fam = members[own]
        other = rng.choice([x for x in FAMILIES[fam] if x != own])
        named = [t for t in sgd if fam in ("checking", "savings") and re.search(rf"\b{'savings' if fam == 'checking' else 'checking'}\b", t, re.I)]
        if named and rng.random() < 0.5:  # the SGD customer's own words, swapped across the account families
            f = rng.choice(named)
            fam2 = "savings" if fam == "checking" else "checking"
            want, source = frozenset(FAMILIES[fam2]), "sgd-banks"
            if fam2 == "savings":
                want = frozenset({"prod-everyday-savings", "prod-high-yield-savings"})
        else:
            f = rng.choice(PARAPHRASES["swap"]).format(x=rng.choice(FAMILIES[fam][other]))
            want, source = frozenset({other}), "paraphrase"
        extra = kb.fee_docs if ASKS_COST.search(q) else kb.rate_docs if re.search(r"\b(rates?|apy|apr|interest)\b", q, re.I) else frozenset()
        add("swap", [turn(q, d), turn(f, want | extra)], [s, source])


def _three_turns(src: Sources, rng, add, pick, cost: list[str], time_q: list[str]) -> None:
    kb = src.kb
    firsts = src.first_turns(lambda q, d: kb.has(d, "fee") and kb.has(d, "time") and not ASKS_COST.search(q) and not ASKS_TIME.search(q))
    for q, d, s in pick(firsts, COUNTS["three_turn"]):
        second = rng.choice(cost + PARAPHRASES["yes_no_fee"])
        third = rng.choice(time_q + PARAPHRASES["why"][:3])
        add("three_turn", [turn(q, d), turn(second, d | kb.fee_docs), turn(third, d)], [s, "sgd-other/paraphrase"])


def _negatives(src: Sources, rng, add, pick) -> None:
    n = COUNTS["new_topic"]
    firsts = src.first_turns()
    seconds = [x for x in src.first_turns(lambda q, d: len(q.split()) <= 10, b77=tuple(k for k in src.b77 if k not in PROBLEM_DOCS))]
    for q, d, s in pick(firsts, n):
        q2, d2, s2 = rng.choice([x for x in seconds if not (x[1] & d) and x[0] != q])
        if rng.random() < 0.3:  # opens like a continuation, asks about something else
            q2 = reopen(q2, rng.choice(PARAPHRASES["new_topic_opener"]))
        add("new_topic", [turn(q, d), turn(q2, d2)], [s, s2])
    for (q, d, s), o in zip(pick(firsts, COUNTS["out_of_scope"]), pick(src.oos, COUNTS["out_of_scope"]), strict=False):
        add("out_of_scope", [turn(q, d), turn(o, [], "refuse")], [s, "hwu64/snips/sgd-other"])
    pronoun = [t for t in src.sgd_other if len(t.split()) <= 8 and re.search(r"\b(it|they|there|that|them)\b", t, re.I)
               and DOMAIN.search(t) and not BANKING.search(t)]
    for (q, d, s), o in zip(pick(firsts, COUNTS["oos_pronoun"]), pick(pronoun, COUNTS["oos_pronoun"]), strict=False):
        add("oos_pronoun", [turn(q, d), turn(o, [], "refuse")], [s, "sgd-other"])
    openers, swaps = src.balance_openers(), src.account_swaps()
    for o in pick(openers, COUNTS["sgd_flow"]):
        names = re.findall(r"\b(savings|checking)\b", o, re.I)
        want = "checking" if names and names[0].lower() == "savings" else "savings"
        f = rng.choice([t for t in swaps if re.search(rf"\b{want}\b", t, re.I)])
        add("sgd_flow", [turn(o, [], "flow"), turn(f, [], "flow", reply_contains=[f"{want} ending"])], ["sgd-banks", "sgd-banks"],
            customer="cus_alex")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, help="../shared/data (default: BANK_NLU__SHARED_DATA_DIR)")
    ap.add_argument("--seed", type=int, default=29)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    from assistant.config import Settings

    data = args.data or Settings(_env_file=None).nlu.shared_data_dir
    rng = random.Random(args.seed)
    src = Sources(data, Kb(ROOT / "knowledge_base" / "docs"), rng)
    convs = sorted(build(src, rng), key=lambda c: c["id"])
    seen, unique = set(), []
    for c in convs:
        if c["id"] not in seen:
            seen.add(c["id"])
            rest = {k: v for k, v in c.items() if k not in ("id", "turns")}
            unique.append({"id": c["id"], "split": split_of(c["id"]), **rest, "turns": [as_written(t) for t in c["turns"]]})
    header = (f"# Generated by bench/build_followups.py --seed {args.seed} (sources and split rule in its docstring); do not edit.\n"
              "# route: answer (faq/extractive/generated) | refuse | flow | any; docs: a reply citing one of them is right.\n"
              "# user: a turn written for the project (a KB eval question, a paraphrase). ref: a turn quoted from the shared data\n"
              "# (BANKING77, SGD, HWU64, SNIPS; the text is never stored here), read back from ../shared/data by\n"
              "# bench/followups_refs.py load_set: set, row (0-based record of its file) or dialogue + turn, clean, opener.\n")
    args.out.write_text(header + yaml.safe_dump(unique, sort_keys=False, allow_unicode=True, width=140, default_flow_style=None))
    held = sum(c["split"] == "holdout" for c in unique)
    kinds = {k: sum(c["kind"] == k for c in unique) for k in COUNTS}
    print(json.dumps({"conversations": len(unique), "holdout": held, "turns": sum(len(c["turns"]) for c in unique), "kinds": kinds}))


if __name__ == "__main__":
    main()
