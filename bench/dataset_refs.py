"""Sentences of the public data sets in ../shared/data, named by reference instead of copied.

Rule: the project stores where a sentence lives, never the sentence (data in ../shared is not copied
into the repo). A reference is a small mapping, e.g. {set: banking77, row: 12} (data row 12 of
banking77/train.csv, 0-based) or {set: sgd, dialogue: '98_00109', turn: 0} (turn 0, either speaker, of
that dialogue in sgd/banks_train_dialogues.json). An optional `replace: [[start, end, '[PHONE]']]` marks
spans the assistant redacted when it stored the sentence, so the stored text is rebuilt exactly.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Ref = dict[str, Any]
# set name -> (file under the data folder, the reference's index key)
FILES: dict[str, tuple[str, str]] = {
    "banking77": ("banking77/train.csv", "row"),
    "hwu64": ("hwu64/utterances.jsonl", "line"),
    "snips": ("snips/utterances.jsonl", "line"),
    "sgd_other": ("sgd/other_domains_user_turns.jsonl", "line"),
    "sgd": ("sgd/banks_train_dialogues.json", "turn"),
}
PLACEHOLDER = re.compile(r"(\[[A-Z_]+\])")  # what privacy.redact writes, e.g. "[PHONE]"


class MissingData(FileNotFoundError):
    """A data file is absent; the message names the path and how to point at another folder."""


def default_data_dir() -> Path:
    """The project's setting (BANK_NLU__SHARED_DATA_DIR, also from .env; default ../shared/data)."""
    from assistant.config import Settings

    return Path(Settings().nlu.shared_data_dir)


@dataclass(frozen=True)
class Sentence:
    ref: Ref
    text: str
    side: str  # "customer" or "system" (SGD's SYSTEM turns)


def ref_label(ref: Mapping[str, Any]) -> str:
    """'sgd 98_00109 turn 0', 'banking77 row 12'."""
    name = ref["set"]
    if name == "sgd":
        return f"sgd {ref['dialogue']} turn {ref['turn']}"
    return f"{name} {FILES[name][1]} {ref[FILES[name][1]]}"


class DatasetTexts:
    """Reads the data sets lazily, once each."""

    def __init__(self, data: Path) -> None:
        self.data = Path(data)
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._dialogues: dict[str, list[dict[str, Any]]] | None = None

    def path(self, name: str) -> Path:
        return self.data / FILES[name][0]

    def require(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            raise MissingData(f"{path} is missing: the public data sets are read from ../shared/data "
                              "(or BANK_NLU__SHARED_DATA_DIR / --data), never copied into the repo")
        return path

    def records(self, name: str) -> list[dict[str, Any]]:
        """A set's records in file order: csv data rows, jsonl lines, or the SGD dialogues; read once."""
        if name not in self._records:
            path = self.require(name)
            with path.open(newline="", encoding="utf-8") as f:
                if path.suffix == ".csv":
                    self._records[name] = list(csv.DictReader(f))
                elif path.suffix == ".jsonl":
                    self._records[name] = [json.loads(line) for line in f if line.strip()]
                else:
                    self._records[name] = json.load(f)
        return self._records[name]

    def rows(self, name: str) -> list[str]:
        """The texts of a flat set, in file order (csv data rows or jsonl lines)."""
        return [r["text"] for r in self.records(name)]

    def dialogues(self) -> dict[str, list[dict[str, Any]]]:
        """SGD banking dialogues: id -> turns."""
        if self._dialogues is None:
            self._dialogues = {d["dialogue_id"]: d["turns"] for d in self.records("sgd")}
        return self._dialogues

    def text(self, ref: Mapping[str, Any]) -> str:
        """The sentence a reference names, with its `replace` spans applied."""
        name = ref["set"]
        if name == "sgd":
            raw = self.dialogues()[ref["dialogue"]][ref["turn"]]["utterance"]
        else:
            raw = self.records(name)[ref[FILES[name][1]]]["text"]
        return apply_edits(raw, ref.get("replace") or [])

    def sentences(self) -> Iterator[Sentence]:
        """Every sentence of the sets present (missing files are skipped)."""
        for name, (_, key) in FILES.items():
            if not self.path(name).is_file():
                continue
            if name == "sgd":
                for did, turns in self.dialogues().items():
                    for i, t in enumerate(turns):
                        side = "customer" if t["speaker"] == "USER" else "system"
                        yield Sentence({"set": "sgd", "dialogue": did, "turn": i}, t["utterance"], side)
            else:
                for i, text in enumerate(self.rows(name)):
                    yield Sentence({"set": name, key: i}, text, "customer")


def apply_edits(text: str, edits: list[list[Any]]) -> str:
    """Replace [start, end, new] spans (source coordinates), last first."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edits_between(source: str, stored: str) -> list[list[Any]] | None:
    """The spans of `source` that redaction replaced by placeholders to give `stored`, or None when
    `stored` is not `source` up to placeholders. Example: ("call 555 0100", "call [PHONE]") ->
    [[5, 13, "[PHONE]"]]."""
    parts = PLACEHOLDER.split(stored)
    lits, marks = parts[0::2], parts[1::2]
    if not source.startswith(lits[0]):
        return None
    if not marks:
        return [] if source == stored else None
    pos, edits = len(lits[0]), []
    for i, (mark, lit) in enumerate(zip(marks, lits[1:], strict=True)):
        if i == len(marks) - 1:
            end = len(source) - len(lit) if source.endswith(lit) else -1
        else:
            end = source.find(lit, pos + 1) if lit else -1
        if end <= pos:
            return None
        edits.append([pos, end, mark])
        pos = end + len(lit)
    return edits if apply_edits(source, edits) == stored else None


def to_ref(stored: str, drawn: list[tuple[Ref, str]]) -> Ref | None:
    """The reference of the drawn sentence `stored` is (up to redaction), or None for our own text."""
    for ref, source in drawn:
        edits = edits_between(source, stored)
        if edits is not None:
            return {**ref, "replace": edits} if edits else dict(ref)
    return None


def with_refs(item: dict[str, Any], drawn: list[tuple[Ref, str]]) -> dict[str, Any]:
    """`item` with its `text` replaced, in place in the key order, by `ref` when it is a drawn sentence."""
    ref = to_ref(item["text"], drawn) if isinstance(item.get("text"), str) else None
    if ref is None:
        return item
    return {("ref" if k == "text" else k): (ref if k == "text" else v) for k, v in item.items()}


def with_text(item: dict[str, Any], texts: DatasetTexts) -> dict[str, Any]:
    """The reverse: `ref` replaced by the sentence's `text` (MissingData when the data is absent)."""
    if "ref" not in item:
        return item
    return {("text" if k == "ref" else k): (texts.text(v) if k == "ref" else v) for k, v in item.items()}
