"""Check a knowledge-base document (Markdown with YAML front matter) and say which line is wrong.

The rules are the ingester's (knowledge_base/documents.py: id, title and category required, a
body, a valid id) plus the editor's: an FAQ entry has question variants, a regulation names its
source and effective date, `answer_doc` names a published document. Example: a front matter whose
fourth line reads `questions: [a, b` is refused as "line 4: front matter is not valid YAML: ...".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import yaml

from knowledge_base.documents import DOC_ID, REQUIRED_FIELDS

REGULATION = "regulation"
FAQ = "faq"
PLACEHOLDER = "[write the answer]"  # a drafted FAQ whose questions no passage answered; refused when submitted
MAX_BYTES = 200_000
MAX_QUESTIONS = 40
MAX_QUESTION_CHARS = 300


class Malformed(ValueError):
    """A document the knowledge base would not take; `line` is 1-based in the whole file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    doc_id: str
    title: str
    category: str
    meta: dict
    body: str
    lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> its line in the file

    @property
    def is_regulation(self) -> bool:
        return self.category == REGULATION

    @property
    def questions(self) -> list[str]:
        return [str(q) for q in self.meta.get("questions") or []]


def _split(text: str) -> tuple[list[str], int]:
    """The front matter's lines and the line (1-based) of its closing '---'."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise Malformed(1, "a document starts with front matter: a line '---', then `key: value` lines, then '---'")
    for i, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return lines[1 : i - 1], i
    raise Malformed(1, "the front matter opened here is never closed by a line '---'")


def _key_lines(front: str) -> dict[str, int]:
    """Each top-level key's line within the front matter (0-based), and each list item's as `key[n]`."""
    node = yaml.compose(front, Loader=yaml.SafeLoader)
    if not isinstance(node, yaml.MappingNode):
        return {}
    out: dict[str, int] = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            out[key.value] = key.start_mark.line
            if isinstance(value, yaml.SequenceNode):
                out.update((f"{key.value}[{n}]", item.start_mark.line) for n, item in enumerate(value.value))
    return out


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """The file line to fix and what is wrong. An unclosed bracket or quote is reported where it opens
    (YAML only notices it lines later): `questions: [a, b` on line 8 is line 8's mistake."""
    opened = exc.context_mark is not None and any(w in (exc.context or "") for w in ("flow", "quoted"))
    mark = exc.context_mark if opened or exc.problem_mark is None else exc.problem_mark
    where = (mark.line if mark is not None else 0) + 2  # the front matter starts on the file's line 2
    what = f"{exc.context}: {exc.problem}" if opened else (exc.problem or exc.context or "unreadable")
    return where, f"front matter is not valid YAML: {what}"


def _parse(front: str) -> tuple[dict, dict[str, int]]:
    try:
        meta = yaml.safe_load(front) if front.strip() else {}
        lines = _key_lines(front)
    except yaml.MarkedYAMLError as exc:
        raise Malformed(*_yaml_problem(exc)) from None
    except yaml.YAMLError as exc:
        raise Malformed(2, f"front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise Malformed(2, "front matter must be `key: value` lines")
    return meta, {k: v + 2 for k, v in lines.items()}


def check(text: str, *, strict: bool = False, known_docs: set[str] | None = None) -> CheckedDocument:
    """The document if the knowledge base takes it; Malformed naming the line otherwise.

    `strict` (submit, publish, rollback): also no placeholder answer left. `known_docs`: the ids an
    `answer_doc` may name (None: not checked)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise Malformed(1, f"a document is at most {MAX_BYTES // 1000} kB")
    front, close = _split(text.replace("\r\n", "\n"))
    meta, lines = _parse("\n".join(front))
    at = lambda key: lines.get(key, 1)  # noqa: E731  (the key's line, or the opening '---' when it is missing)
    missing = [k for k in REQUIRED_FIELDS if meta.get(k) in (None, "")]
    if missing:
        raise Malformed(1, f"front matter lacks {', '.join(missing)} (between this line and line {close})")
    for key in ("id", "title", "category", "source", "answer_doc"):
        if key in meta and not isinstance(meta[key], str | int | float):
            raise Malformed(at(key), f"{key} must be a single value, not a list or mapping")
    doc_id, category = str(meta["id"]), str(meta["category"])
    if not DOC_ID.match(doc_id):
        raise Malformed(at("id"), f"id {doc_id[:40]!r} must be 2-81 lowercase letters, digits and dashes")
    body = "\n".join(text.replace("\r\n", "\n").split("\n")[close:])
    if not body.strip():
        raise Malformed(close + 1, "the document has no body after its front matter")
    if strict and PLACEHOLDER in body:
        line = close + 1 + body[: body.index(PLACEHOLDER)].count("\n")
        raise Malformed(line, f"replace {PLACEHOLDER} with the answer before it is submitted")
    _check_date(meta, at)
    _check_questions(meta, at, category)
    if category == REGULATION:
        for key in ("source", "effective_date"):
            if not meta.get(key):
                raise Malformed(1, f"a regulation document names its {key} in the front matter")
    answer_doc = meta.get("answer_doc")
    if answer_doc and known_docs is not None and str(answer_doc) not in known_docs:
        raise Malformed(at("answer_doc"), f"answer_doc {str(answer_doc)[:40]!r} names no published document")
    return CheckedDocument(doc_id, str(meta["title"]), category, meta, body, lines)


def _check_date(meta: dict, at) -> None:
    value = meta.get("effective_date")
    if value in (None, "") or isinstance(value, dt.date):
        return
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        raise Malformed(at("effective_date"), f"effective_date {str(value)[:20]!r} must be a date like 2026-01-31") from None


def _check_questions(meta: dict, at, category: str) -> None:
    questions = meta.get("questions")
    if questions is None:
        if category == FAQ:
            raise Malformed(1, "an FAQ entry lists its question variants under `questions:`")
        return
    if not isinstance(questions, list) or not questions:
        raise Malformed(at("questions"), "questions must be a list of one or more questions (`  - \"...\"` lines)")
    if len(questions) > MAX_QUESTIONS:
        raise Malformed(at("questions"), f"at most {MAX_QUESTIONS} question variants")
    for n, q in enumerate(questions):
        if not isinstance(q, str | int | float) or not str(q).strip() or len(str(q)) > MAX_QUESTION_CHARS:
            raise Malformed(at(f"questions[{n}]"), f"question {n + 1} must be text of 1-{MAX_QUESTION_CHARS} characters")
