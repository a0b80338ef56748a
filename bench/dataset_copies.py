"""Find sentences of the public data sets copied verbatim into the repo's tracked text files.

    python bench/dataset_copies.py [--data ../shared/data] [--min-words 5] [PATH ...]

Rule: data in ../shared/data is read from there, never copied into the project. Every sentence of
BANKING77 (train.csv), HWU64, SNIPS and SGD (banking dialogues, both speakers; other domains' user
turns) with at least --min-words words is looked for in every file `git ls-files` lists (or the PATHs
given), up to case, spacing, punctuation and quoting: "I've lost my card!" matches a YAML line
`text: 'i''ve lost my CARD'`, even wrapped over two lines. Short turns ("yes please") are not
looked for. Prints file:line, the set and the sentence's reference (never its text) for each copy,
then a count; exits 1 when anything was found. Output names references only, so it can be pasted.

Hits reviewed as our own wording that equals a short, common data-set sentence (a KB title "How do I
...?") are listed per file in bench/dataset_copies_allowed.yaml and only counted; --all prints them too.
"""

from __future__ import annotations

import argparse
import bisect
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dataset_refs import DatasetTexts, Sentence, default_data_dir, ref_label  # noqa: E402

# Letters and digits make words; punctuation and apostrophes split them. A double quote and a list item's
# "- " at the start of a line are tokens of their own, so a match never spans two quoted strings or two
# items ('"thanks a lot", "that's all"' is not one sentence). Line breaks are spaces (wrapped YAML).
WORD = re.compile(r'[^\W_]+|"|^[ \t]*- ', re.MULTILINE)
MARKS = ('"', "-")
KEY = 4  # sentences are indexed by their first KEY words
SKIP = (".venv/", "node_modules/")
ALLOWED = ROOT / "bench" / "dataset_copies_allowed.yaml"


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    sentence: Sentence
    words: int


def words(text: str) -> list[str]:
    return [w.strip().lower() for w in WORD.findall(text)]


def sentence_words(text: str) -> tuple[str, ...]:
    toks = words(text)
    while toks and toks[0] in MARKS:
        toks.pop(0)
    while toks and toks[-1] in MARKS:
        toks.pop()
    return tuple(toks)


class Index:
    """Sentences by their first KEY words; the longest match at a position wins."""

    def __init__(self, sentences: Iterable[Sentence], min_words: int) -> None:
        self.by_key: dict[tuple[str, ...], dict[tuple[str, ...], Sentence]] = {}
        self.size = 0
        for s in sentences:
            toks = sentence_words(s.text)
            if len(s.text.split()) < min_words or len(toks) < KEY:
                continue
            self.by_key.setdefault(toks[:KEY], {}).setdefault(toks, s)
            self.size += 1

    def scan(self, path: str, text: str) -> list[Hit]:
        found = [(m.start(), m.group().strip().lower()) for m in WORD.finditer(text)]
        toks = [w for _, w in found]
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        hits, i = [], 0
        while i <= len(toks) - KEY:
            cands = self.by_key.get(tuple(toks[i:i + KEY]))
            best = max((c for c in cands or () if tuple(toks[i:i + len(c)]) == c), key=len, default=None)
            if best is None:
                i += 1
                continue
            line = bisect.bisect_right(newlines, found[i][0]) + 1
            hits.append(Hit(path, line, cands[best], len(best)))  # type: ignore[index]
            i += len(best)
        return hits


def tracked_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p and not p.startswith(SKIP)]


def read_text(path: Path) -> str | None:
    """The file as text, or None for binary files (a NUL byte, or not UTF-8) and links to folders."""
    try:
        raw = path.read_bytes()
    except (IsADirectoryError, FileNotFoundError):
        return None
    if b"\0" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def scan(index: Index, root: Path, paths: Iterable[str]) -> list[Hit]:
    hits: list[Hit] = []
    for rel in paths:
        text = read_text(root / rel)
        if text is not None:
            hits.extend(index.scan(rel, text))
    return hits


def load_allowed(path: Path) -> set[tuple[str, str]]:
    """(file, reference label) pairs reviewed as coincidences; {} when the file is absent."""
    if not path.is_file():
        return set()
    listed = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {(file, label) for file, labels in listed.items() for label in labels}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="the shared data folder (default: BANK_NLU__SHARED_DATA_DIR, ../shared/data)")
    ap.add_argument("--min-words", type=int, default=5)
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository to scan")
    ap.add_argument("--allowed", type=Path, default=ALLOWED, help="reviewed coincidences (default: %(default)s)")
    ap.add_argument("--all", action="store_true", help="print the allowed hits too")
    ap.add_argument("paths", nargs="*", help="files relative to --root (default: git ls-files)")
    args = ap.parse_args(argv)
    data = args.data or default_data_dir()
    if not data.is_dir():
        print(f"no data folder at {data} (../shared/data, or pass --data)", file=sys.stderr)
        return 2
    index = Index(DatasetTexts(data).sentences(), args.min_words)
    found = scan(index, args.root, args.paths or tracked_files(args.root))
    allowed = load_allowed(args.allowed)
    hits = [h for h in found if (h.path, ref_label(h.sentence.ref)) not in allowed]
    for h in found if args.all else hits:
        mark = " allowed" if (h.path, ref_label(h.sentence.ref)) in allowed else ""
        print(f"{h.path}:{h.line}: {h.sentence.ref['set']} ({ref_label(h.sentence.ref)}, {h.sentence.side}, {h.words} words){mark}")
    files = len({h.path for h in hits})
    print(f"{len(hits)} copied sentences in {files} files ({len(found) - len(hits)} more reviewed as common wording; "
          f"{index.size} sentences of >= {args.min_words} words looked for)")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
