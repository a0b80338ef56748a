"""The editor's document checks name the wrong line; FAQ fields round-trip through Markdown."""

import pytest

from assistant.kb_editor.faq import FaqFields, as_title, clean_questions, faq_fields, faq_markdown, new_doc_id
from assistant.kb_editor.store import unified_diff
from assistant.kb_editor.validate import PLACEHOLDER, Malformed, check

GOOD = """---
id: faq-parking
title: "Is there parking at the branch?"
category: faq
effective_date: 2026-01-01
source: Larkspur Bank customer service
answer_doc: prod-branches-hours
questions:
  - "where do I park"
  - "free parking at branches?"
---
Every branch has free customer parking.
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if needle in line)


def refused(text: str, **kw) -> Malformed:
    with pytest.raises(Malformed) as caught:
        check(text, **kw)
    assert str(caught.value).startswith(f"line {caught.value.line}: ")
    return caught.value


def test_a_good_faq_passes_and_reports_its_fields():
    doc = check(GOOD, strict=True, known_docs={"prod-branches-hours"})
    assert (doc.doc_id, doc.category, doc.is_regulation) == ("faq-parking", "faq", False)
    assert doc.questions == ["where do I park", "free parking at branches?"]
    assert doc.lines["answer_doc"] == 7


@pytest.mark.parametrize(("change", "needle", "words"), [
    (("questions:\n", "questions: [where do I park\n"), "questions:", "not valid YAML"),
    (("id: faq-parking", "id: FAQ Parking"), "id: FAQ", "lowercase"),
    (("effective_date: 2026-01-01", "effective_date: soon"), "effective_date", "date like"),
    (('  - "free parking at branches?"', "  - {a: 1}"), "  - {a: 1}", "question 2"),
    (("answer_doc: prod-branches-hours", "answer_doc: prod-gone"), "answer_doc", "names no published document"),
])
def test_each_mistake_is_refused_with_its_line(change, needle, words):
    bad = GOOD.replace(*change)
    err = refused(bad, known_docs={"prod-branches-hours"})
    assert err.line == line_of(bad, needle), err
    assert words in err.message


def test_missing_front_matter_body_and_fields():
    assert refused("Just text\n").line == 1
    assert "never closed" in refused("---\nid: x-y\ntitle: t\n").message
    no_body = GOOD.split("---\n", 2)
    err = refused(f"---\n{no_body[1]}---\n\n")
    assert err.line == line_of(GOOD, "Every branch") and "no body" in err.message
    assert "lacks title" in refused(GOOD.replace('title: "Is there parking at the branch?"\n', "")).message
    assert "question variants" in refused(GOOD.split("questions:")[0] + "---\nBody.\n").message


def test_a_regulation_needs_its_source_and_date_and_strict_refuses_the_placeholder():
    reg = "---\nid: reg-test\ntitle: A rule\ncategory: regulation\n---\nThe rule.\n"
    assert "source" in refused(reg).message
    assert check(reg.replace("category: regulation", "category: regulation\nsource: 12 CFR 1\neffective_date: 2020-01-01")).is_regulation
    draft = GOOD.replace("Every branch has free customer parking.", f"Intro.\n{PLACEHOLDER}")
    check(draft)  # a draft may hold it
    assert refused(draft, strict=True).line == line_of(draft, PLACEHOLDER)


def test_faq_fields_round_trip_and_questions_are_cleaned():
    fields = FaqFields(doc_id="faq-parking", title="Is there parking?", questions=("where do I park", "parking?"),
                       answer="Yes, free.", answer_doc="prod-branches-hours", effective_date="2026-02-01")
    text = faq_markdown(fields)
    assert check(text, known_docs={"prod-branches-hours"}).category == "faq"
    assert faq_fields(text) == fields
    cleaned = clean_questions(["  Where do I park? ", "where do i park", "my card 4111 1111 1111 1111 was eaten", ""])
    assert cleaned[0] == "Where do I park?" and len(cleaned) == 2
    assert "4111" not in cleaned[1]
    assert as_title("where do i park.") == "Where do i park?"
    assert new_doc_id("Where do I park my car?", {"faq-where-park-car"}) == "faq-where-park-car-2"


def test_diff_names_both_versions():
    diff = unified_diff("a\nb\n", "a\nc\n", "faq-x", "version 1", "version 2")
    assert "--- faq-x (version 1)" in diff and "-b" in diff and "+c" in diff


def test_an_unfinished_faq_still_fills_the_form():
    import datetime as dt

    from assistant.kb_editor.faq import lenient_faq_fields

    blank = faq_markdown(FaqFields(doc_id="faq-new", title="", questions=(), answer=""))
    assert lenient_faq_fields(blank) == FaqFields(doc_id="faq-new", title="", questions=(), answer="",
                                                  effective_date=dt.date.today().isoformat())
    assert lenient_faq_fields("no front matter") is None
