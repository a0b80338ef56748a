"""Independent public data for the issue-29 figures, split once by a fixed rule (never by hand).

Every split is a salted sha256 bucket (0-99) of a stable key, so it does not depend on file
order or on who runs it. What each source is for:

- HWU64 (../shared/data/hwu64, CC-BY-4.0): scope-head negatives, bucket < 80 trains, the rest
  is `dev` (tuning checks). `general_*` intents (affirm, negate, repeat, praise, ...) are
  conversation, not "not banking": left out entirely. `qa_stock` is left out (stock prices
  border on investment advice, which has its own route). `qa_currency` (exchange rates) is
  banking-adjacent: an in-scope positive.
- SNIPS (../shared/data/snips, CC0): scope-head negatives, bucket < 80 trains, rest `dev`.
- SGD other domains (../shared/data/sgd, CC-BY-SA-4.0): never trained on. Refusal is measured
  on turns with domain content; a domain-free turn (every word generic: see `domain_free`,
  e.g. "Yes please, that's all") is marked "keep", not "refuse", and left out of the refusal
  figure. Bucket < 30 of the text is `dev` (errors may be read while tuning); the rest is `test`
  (final figures only: its errors are not read while tuning).
- SGD banks dialogues: never trained on. The user turns whose active intent is CheckBalance or
  TransferMoney are ordinary banking messages: false hand-offs are counted over all of them,
  "kept in scope" over those with domain content. Bucket < 30 of the dialogue id is `dev`, the
  rest `test`.
- BANKING77 held-out rows: the 15 % per-label split of finetune/intent/data.py (seed 13), never
  trained on; the official test split is not used.
- Human requests: finetune/data/human_request_fresh.yaml (written separately, test only) and
  finetune/data/human_request_test.yaml (older held-out set); training positives come from
  templates (finetune/intent/human_templates.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

SALT = "bankassist-issue29-v1"
SHARED = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "data"  # callers pass BANK_NLU__SHARED_DATA_DIR
BANK_INTENTS = {"CheckBalance", "TransferMoney"}
HWU_EXCLUDED = {"qa_stock"}
HWU_IN_SCOPE = {"qa_currency"}

# Words that carry no domain on their own: a turn made only of these (and numbers) is domain-free.
GENERIC = set(re.findall(r"\S+", """
a an the and or but so then also too yes yeah yep yup no nope nah not ok okay alright right sure fine good great
perfect nice cool awesome wonderful excellent fantastic super lovely thanks thank thx you very much much lot so
please pls that that's thats this it it's its is was be been are am i i'm im me my mine we us our you your
all everything nothing anything something else more other another one two three four five six seven eight nine
ten for with without about to of in on at by from up down now later today tonight tomorrow yesterday again
do does did done don't dont can could would will won't should shall may might need want like love would'd
help helpful works work worked sounds sound correct exactly absolutely definitely indeed well just really
actually let let's lets go get got have has had there here what which when where who how why hi hello hey
bye goodbye see later cheers appreciate appreciated grateful glad happy fine sorry excuse oh ah um uh hmm
wait moment sec second minute think thought know knew mind fine done finished set ready proceed continue
confirm confirmed agree true false option options one ones any some these those them they he she him her
if as than much many few that'll all it'll i'll i'd i've you're you've fun amazing trying try tried total
needed wanted takes take care helping assistance time bunch noted approved
till until after before around pm am noon morning afternoon evening night st nd rd th
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday first second third fourth fifth
"""))
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def bucket(key: str) -> int:
    return int(hashlib.sha256(f"{SALT}:{key}".encode()).hexdigest()[:8], 16) % 100




def domain_free(text: str) -> bool:
    """True when every word is generic or a number/date ("Yes, that's all, thanks"; "Till March 11th")."""
    words = _WORD.findall(re.sub(r"\b\d+(st|nd|rd|th)\b", " ", text.lower().replace("’", "'")))
    return all(w in GENERIC for w in words)


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    source: str  # e.g. "hwu64:alarm_set", "sgd:Flights_1", "sgd-banks:TransferMoney"
    split: str  # train | dev | test
    domain_free: bool = False


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hwu64(shared: Path = SHARED) -> tuple[list[Labelled], list[Labelled]]:
    """(out-of-scope rows, in-scope rows); `general_*` and `qa_stock` left out."""
    oos: list[Labelled] = []
    ins: list[Labelled] = []
    for r in _jsonl(shared / "hwu64" / "utterances.jsonl"):
        intent, text = r["intent"], r["text"].strip()
        if not text or intent.startswith("general_") or intent in HWU_EXCLUDED:
            continue
        row = Labelled(text, f"hwu64:{intent}", "train" if bucket(text) < 80 else "dev")
        (ins if intent in HWU_IN_SCOPE else oos).append(row)
    return oos, ins


def hwu64_general(shared: Path = SHARED) -> list[Labelled]:
    """The `general_*` rows (affirm, negate, praise, repeat, ...): conversation, used only as
    negatives of the human-request head (never as out of scope)."""
    return [Labelled(r["text"].strip(), f"hwu64:{r['intent']}", "train" if bucket(r["text"].strip()) < 80 else "dev")
            for r in _jsonl(shared / "hwu64" / "utterances.jsonl") if r["intent"].startswith("general_") and r["text"].strip()]


def snips(shared: Path = SHARED) -> list[Labelled]:
    return [Labelled(r["text"].strip(), f"snips:{r['intent']}", "train" if bucket(r["text"].strip()) < 80 else "dev")
            for r in _jsonl(shared / "snips" / "utterances.jsonl") if r["text"].strip()]


def sgd_other(shared: Path = SHARED) -> list[Labelled]:
    """All turns of the 15 other services, each marked dev/test and domain-free or not (deduplicated)."""
    seen, out = set(), []
    for r in _jsonl(shared / "sgd" / "other_domains_user_turns.jsonl"):
        text = r["text"].strip()
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append(Labelled(text, f"sgd:{r['service']}", "dev" if bucket(text) < 30 else "test", domain_free(text)))
    return out


def sgd_banks(shared: Path = SHARED) -> list[Labelled]:
    """User turns whose active intent is a Banks_1 intent, split by dialogue."""
    out = []
    for d in json.loads((shared / "sgd" / "banks_train_dialogues.json").read_text(encoding="utf-8")):
        split = "dev" if bucket(d["dialogue_id"]) < 30 else "test"
        for t in d["turns"]:
            if t["speaker"] == "USER" and t.get("intent") in BANK_INTENTS and t["utterance"].strip():
                text = t["utterance"].strip()
                out.append(Labelled(text, f"sgd-banks:{t['intent']}", split, domain_free(text)))
    return out


def pick(rows: list[Labelled], split: str, *, limit: int | None = None) -> list[Labelled]:
    """The rows of one split; with `limit`, a fixed subset (lowest hash first), not the first lines."""
    chosen = [r for r in rows if r.split == split]
    if limit is not None and len(chosen) > limit:
        chosen = sorted(chosen, key=lambda r: hashlib.sha256(f"{SALT}:pick:{r.text}".encode()).hexdigest())[:limit]
    return chosen
