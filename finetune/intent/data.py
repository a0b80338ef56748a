"""Intent training data: BANKING77 (read in place, never copied) plus our own examples.

BANKING77 (CC-BY-4.0, Casanueva et al. 2020) comes from a directory holding train.csv
(text,category) and categories.json. Only its train split is used: part of it is held out
(stratified) for the reported accuracy, part for calibration; the official test split is
never read.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
EXTRA_FILE = DATA_DIR / "intent_extra.yaml"
HUMAN_TEST_FILE = DATA_DIR / "human_request_test.yaml"
OOD_TEST_FILE = DATA_DIR / "ood_test.yaml"

# Intents the assistant adds on top of BANKING77's 77.
ASSISTANT_INTENTS = ("human_agent", "complaint", "greeting", "goodbye", "thanks", "out_of_scope")
# Customer tasks a flow does that BANKING77 has no intent for ("what's my balance").
TASK_INTENTS = ("check_balance", "make_transfer")
EXTRA_INTENTS = ASSISTANT_INTENTS + TASK_INTENTS
OUT_OF_SCOPE = "out_of_scope"
HUMAN_AGENT = "human_agent"


class DatasetError(ValueError):
    """The data on disk is missing or does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    source: str  # "banking77" or "extra": splits and metrics treat them differently


@dataclass(frozen=True, slots=True)
class Splits:
    train: tuple[Example, ...]
    val: tuple[Example, ...]  # temperature scaling and thresholds
    test: tuple[Example, ...]  # held-out BANKING77 rows + held-out extras: reported figures only


def banking_weight(e: Example) -> bool:
    """Rows the scope head weighs like BANKING77's: BANKING77 and our customer-task lines ("what's my balance"),
    not the assistant-level lines (greetings, thanks), which it weighs up so they are not refused."""
    return e.source == "banking77" or e.label in TASK_INTENTS


def normalise(text: str) -> str:
    """For duplicate checks only: case, punctuation and spacing do not make a new example."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def load_categories(banking77_dir: Path) -> list[str]:
    path = Path(banking77_dir) / "categories.json"
    if not path.exists():
        raise DatasetError(f"{path} not found: set BANK_NLU__BANKING77_DIR (or --banking77-dir) to the BANKING77 folder")
    cats = json.loads(path.read_text())
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats) or len(set(cats)) != len(cats):
        raise DatasetError(f"{path} must be a JSON list of distinct label names")
    return cats


def load_banking77(banking77_dir: Path) -> list[Example]:
    """train.csv rows, checked against categories.json (an unknown label is an error, not a new class)."""
    cats = set(load_categories(banking77_dir))
    path = Path(banking77_dir) / "train.csv"
    if not path.exists():
        raise DatasetError(f"{path} not found")
    out: list[Example] = []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
            raise DatasetError(f"{path} must have columns text,category")
        for n, row in enumerate(reader, start=2):
            text, label = (row["text"] or "").strip(), (row["category"] or "").strip()
            if label not in cats:
                raise DatasetError(f"{path}:{n}: unknown category {label!r}")
            if text:
                out.append(Example(text, label, "banking77"))
    if not out:
        raise DatasetError(f"{path} has no rows")
    return out


def load_yaml_lists(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise DatasetError(f"{path} must map a name to a list of texts")
    out: dict[str, list[str]] = {}
    for key, items in data.items():
        if not isinstance(items, list) or not all(isinstance(t, (str, int)) for t in items):
            raise DatasetError(f"{path}: {key!r} must be a list of strings")
        out[str(key)] = [str(t).strip() for t in items if str(t).strip()]
    return out


def load_extra(path: Path = EXTRA_FILE) -> list[Example]:
    lists = load_yaml_lists(path)
    unknown = set(lists) - set(EXTRA_INTENTS)
    if unknown:
        raise DatasetError(f"{path}: unknown intents {sorted(unknown)}; allowed {EXTRA_INTENTS}")
    seen: set[str] = set()
    out: list[Example] = []
    for label, texts in lists.items():
        for t in texts:
            key = normalise(t)
            if key in seen:
                continue  # a repeated line would only weight itself twice
            seen.add(key)
            out.append(Example(t, label, "extra"))
    return out


def stratified_split(
    examples: list[Example], *, test_frac: float, val_frac: float, seed: int
) -> Splits:
    """Per label: shuffle with the seed, take test then val, the rest trains. Deterministic.

    Labels draw from one generator in name order, the customer-task labels (TASK_INTENTS) last, so adding
    a task label leaves every other label's split as it was (BANKING77's held-out rows stay held out)."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Example]] = {}
    for ex in examples:
        by_label.setdefault(ex.label, []).append(ex)
    train: list[Example] = []
    val: list[Example] = []
    test: list[Example] = []
    for label in sorted(by_label, key=lambda name: (name in TASK_INTENTS, name)):
        items = by_label[label]
        order = rng.permutation(len(items))
        n_test = int(round(len(items) * test_frac))
        n_val = int(round(len(items) * val_frac))
        test += [items[i] for i in order[:n_test]]
        val += [items[i] for i in order[n_test : n_test + n_val]]
        train += [items[i] for i in order[n_test + n_val :]]
    return Splits(tuple(train), tuple(val), tuple(test))


def stratified_folds(labels: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k disjoint index arrays; each label spread evenly across them."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    offset = 0
    for lab in sorted(by_label):
        idx = rng.permutation(by_label[lab])
        for j, i in enumerate(idx):
            folds[(j + offset) % k].append(int(i))
        offset += len(idx)  # so small labels do not all start in fold 0
    return [np.array(sorted(f)) for f in folds]


def build_dataset(banking77_dir: Path, *, extra_file: Path = EXTRA_FILE, test_frac: float = 0.15,
                  val_frac: float = 0.10, seed: int = 13) -> tuple[Splits, list[str]]:
    """Splits over BANKING77 + our extras, and the label list (BANKING77 order, then ours)."""
    labels = load_categories(banking77_dir) + list(EXTRA_INTENTS)
    examples = load_banking77(banking77_dir) + load_extra(extra_file)
    counts = Counter(ex.label for ex in examples)
    missing = [lab for lab in labels if counts[lab] == 0]
    if missing:
        raise DatasetError(f"no training examples for {missing}")
    return stratified_split(examples, test_frac=test_frac, val_frac=val_frac, seed=seed), labels


@dataclass(frozen=True, slots=True)
class HeldOutSets:
    human_positive: tuple[str, ...]
    human_negative: tuple[str, ...]
    ood: tuple[str, ...]
    in_scope: tuple[str, ...]


def load_held_out(train_texts: list[str], *, human_file: Path = HUMAN_TEST_FILE,
                  ood_file: Path = OOD_TEST_FILE) -> HeldOutSets:
    """The separate human-request and OOD test sets; any line also in training is an error."""
    human, ood = load_yaml_lists(human_file), load_yaml_lists(ood_file)
    train_keys = {normalise(t) for t in train_texts}
    sets = HeldOutSets(
        tuple(human.get("positive", [])), tuple(human.get("negative", [])),
        tuple(ood.get("out_of_scope", [])), tuple(ood.get("in_scope", [])),
    )
    leaked = [t for group in (sets.human_positive, sets.human_negative, sets.ood, sets.in_scope)
              for t in group if normalise(t) in train_keys]
    if leaked:
        raise DatasetError(f"held-out test lines also appear in training data: {leaked[:5]}")
    return sets


KB_DIR = Path(__file__).resolve().parent.parent.parent / "knowledge_base" / "docs"
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*$", re.M)


def load_kb_domain(kb_dir: Path = KB_DIR, *, exclude: Set[str] = frozenset()) -> list[str]:
    """In-domain texts from our own knowledge base for the scope head: the FAQ question
    variants and every document's title and headings. BANKING77 covers a card-and-transfer
    app; these teach the head that mortgages, CDs, branches and regulations are banking too.
    `exclude` (normalised) keeps evaluation questions out of training."""
    from knowledge_base.documents import load_directory

    loaded = load_directory(kb_dir)
    texts = [q for f in loaded.faqs for q in f.questions]
    for doc in loaded.documents:
        texts.append(doc.title)
        texts.extend(h for h in _HEADING.findall(doc.body) if len(h.split()) >= 2)
    seen, out = set(exclude), []
    for t in texts:
        key = normalise(t)
        if key not in seen:
            seen.add(key)
            out.append(t)
    if not out:
        raise DatasetError(f"no knowledge-base texts under {kb_dir}")
    return out

