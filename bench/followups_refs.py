"""knowledge_base/eval/followups.yaml quotes the shared data sets by reference, never by their text.

A turn taken verbatim from BANKING77, SGD, HWU64 or SNIPS is written as `ref` (where the row is under
../shared/data) instead of `user`; `load_set` reads the text back from the data dir when the set is
loaded, e.g. `ref: {set: sgd-banks, dialogue: 32_00011, turn: 0}` -> that dialogue's first utterance.
Turns written for the project (the KB eval questions, the paraphrases) stay as `user` text.
Rows (`row`, 0-based) count the records of the file: data lines of train.csv after its header, lines
of a .jsonl. The text is the record's text stripped; `clean: true` drops HWU64's leading addressee
("s1, ") and capitalises; `opener: 'also, '` is put before the text with its first letter lowercased.
A conversation's id hashes its texts (`conv_id`), so loading checks that the data dir is the one the
set was built from.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from bench.dataset_refs import DatasetTexts, MissingData

# this set's names -> bench/dataset_refs.py's, which reads the files
SETS = {"banking77": "banking77", "sgd-banks": "sgd", "sgd-other": "sgd_other", "hwu64": "hwu64", "snips": "snips"}


class SharedDataMissing(RuntimeError):
    """The data dir (or one of its files) the set quotes is not there."""


class Quoted(str):
    """A text taken from a shared data set, with its reference: `Quoted(text, {"set": "banking77", "row": 12})`."""

    ref: dict[str, Any]

    def __new__(cls, text: str, ref: dict[str, Any]) -> Quoted:
        out = super().__new__(cls, text)
        out.ref = ref
        return out


def conv_id(kind: str, turns: list[dict]) -> str:
    return f"{kind}-" + hashlib.sha1("|".join(t["user"] for t in turns).encode()).hexdigest()[:8]


def clean(text: str) -> str:
    """HWU64 marks who is addressed with a leading "s1, "; a customer would not type it."""
    text = re.sub(r"^s\d+,?\s*", "", text.strip())
    return text[0].upper() + text[1:] if text else text


def reopen(text: str, opener: str) -> str:
    """A new topic opening like a continuation: "also, " + the text, its first letter lowercased; a quote keeps its ref."""
    out = opener + text[0].lower() + text[1:]
    return Quoted(out, {**text.ref, "opener": opener}) if isinstance(text, Quoted) else out


class SharedData:
    """The data dir's files the set quotes, each read once when first asked for."""

    def __init__(self, root: Path) -> None:
        self.root, self.files = root, DatasetTexts(root)

    def rows(self, name: str) -> list[dict]:
        """The file's records in order: CSV rows as dicts, JSON lines, or the SGD dialogues."""
        try:
            return self.files.records(SETS[name])
        except MissingData as e:
            raise SharedDataMissing(f"{e}; the follow-up set reads its quoted turns from there (pass --data)") from e

    def quote(self, name: str, row: int, **where: Any) -> Quoted:
        """Row `row` of a set (for sgd-banks: dialogue `row`'s turn `turn`) as a Quoted text."""
        if name == "sgd-banks":
            d = self.rows(name)[row]
            ref = {"set": name, "dialogue": d["dialogue_id"], "turn": where["turn"]}
            return Quoted(d["turns"][where["turn"]]["utterance"].strip(), ref)
        text = self.rows(name)[row]["text"].strip()
        if where.get("clean"):
            return Quoted(clean(text), {"set": name, "row": row, "clean": True})
        return Quoted(text, {"set": name, "row": row})

    def text(self, ref: dict[str, Any]) -> str:
        """The text a reference stands for."""
        name = ref.get("set")
        if name not in SETS:
            raise ValueError(f"unknown set {name!r} in {ref}")
        try:
            if name == "sgd-banks":
                row = next(i for i, d in enumerate(self.rows(name)) if d["dialogue_id"] == ref["dialogue"])
                text: str = self.quote(name, row, turn=ref["turn"])
            else:
                text = self.quote(name, ref["row"], clean=ref.get("clean", False))
        except (StopIteration, IndexError, KeyError, TypeError) as e:
            raise ValueError(f"{ref} names no text in {self.files.path(SETS[name])} ({e!r})") from e
        return reopen(str(text), ref["opener"]) if ref.get("opener") else str(text)


def as_written(turn: dict) -> dict:
    """A built turn as the file holds it: a Quoted text becomes its `ref`."""
    user = turn["user"]
    head = {"ref": dict(user.ref)} if isinstance(user, Quoted) else {"user": str(user)}  # a copy: no YAML aliases
    return {**head, **{k: v for k, v in turn.items() if k != "user"}}


def load_set(path: Path, data: Path) -> list[dict]:
    """The conversations of a follow-up set, each quoted turn's `ref` replaced by its text (`user`).

    Raises SharedDataMissing naming the data dir when the set quotes it and it is absent, and ValueError
    when a conversation's texts do not hash to its id (another version of the data).
    """
    convs = yaml.safe_load(path.read_text(encoding="utf-8"))
    quotes = any("ref" in t for c in convs for t in c["turns"])
    if quotes and not data.is_dir():
        raise SharedDataMissing(f"shared data dir not found at {data}: {path.name} quotes BANKING77, SGD, HWU64 and "
                                "SNIPS by reference (pass --data or set BANK_NLU__SHARED_DATA_DIR)")
    shared = SharedData(data)
    for c in convs:
        c["turns"] = [{"user": shared.text(t["ref"]), **{k: v for k, v in t.items() if k != "ref"}} if "ref" in t else t
                      for t in c["turns"]]
        if conv_id(c["kind"], c["turns"]) != c["id"]:
            raise ValueError(f"{c['id']}: the texts read from {data} do not hash to the id; not the data the set was built from")
    return convs
