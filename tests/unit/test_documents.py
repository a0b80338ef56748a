from knowledge_base.chunking import chunk_document
from knowledge_base.documents import load_directory

DOC = """---
id: prod-test
title: Test Checking
category: accounts
effective_date: 2026-01-01
source: test sheet
---
# Test Checking

Intro paragraph about the Test Checking account and what it offers to customers.

## Monthly fee
The Test Checking monthly fee is $10, waived with a $500 minimum daily balance.

## Overdraft
Test Checking overdraft fee is $30 per item, at most 3 per day.
"""

FAQ = """---
id: faq-test
title: Is there a monthly fee?
category: faq
answer_doc: prod-test
questions:
  - how much is the monthly fee
---
Test Checking costs $10 a month.
"""


def test_load_chunk_and_report_failures(tmp_path):
    (tmp_path / "a.md").write_text(DOC)
    (tmp_path / "faq.md").write_text(FAQ)
    (tmp_path / "broken.md").write_text("---\nid: x\n---\nno title")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe not utf8")
    result = load_directory(tmp_path)
    assert sorted(d.doc_id for d in result.documents) == ["faq-test", "prod-test"]
    assert set(result.failed) == {str(tmp_path / "broken.md"), str(tmp_path / "bad.md")}
    assert result.faqs[0].questions == ("Is there a monthly fee?", "how much is the monthly fee")
    chunks = chunk_document(next(d for d in result.documents if d.doc_id == "prod-test"))
    assert [c.section for c in chunks] == ["", "Monthly fee", "Overdraft"]
    assert chunks[1].chunk_id == "prod-test#1" and "$10" in chunks[1].text
