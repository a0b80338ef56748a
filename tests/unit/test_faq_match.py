"""An approved FAQ answers a message close to one of its questions, or nearly as close and clearly ahead."""

from assistant.config import AnsweringSettings
from assistant.core.faq_match import faq_is_asked
from knowledge_base.types import FaqEntry, FaqMatch, Passage

CFG = AnsweringSettings(faq_threshold=0.86, faq_clear_threshold=0.75, faq_clear_lead=0.2)


def match(fid: str, score: float, doc: str | None = None) -> FaqMatch:
    entry = FaqEntry(faq_id=fid, title=fid, answer="a", questions=(fid,), answer_doc=doc, source="s")
    return FaqMatch(entry=entry, score=score, matched_question=fid)


def passage(doc: str, score: float) -> Passage:
    return Passage(chunk_id=f"{doc}#0", doc_id=doc, title=doc, section="", category="products", source="s",
                   text="t", score=score)


def never() -> list[Passage]:
    raise AssertionError("passages are not needed for this decision")


def test_close_enough_alone_without_retrieval():
    assert faq_is_asked([match("hours", 0.90), match("holidays", 0.89)], never, CFG)


def test_nearly_as_close_and_clearly_ahead_of_other_faqs_and_documents():
    own = [passage("faq-hours", 0.55), passage("prod-branches", 0.50), passage("prod-atm", 0.43)]
    assert faq_is_asked([match("faq-hours", 0.83, "prod-branches"), match("holidays", 0.52)], lambda: own, CFG)


def test_a_document_of_its_own_that_is_as_close_is_the_subject():
    """A new product's page (e.g. a new card) outranks the generic FAQ (card activation) it resembles."""
    found = [passage("prod-new-card", 0.76), passage("faq-activation", 0.61)]
    assert not faq_is_asked([match("faq-activation", 0.76, "prod-debit"), match("pin", 0.50)], lambda: found, CFG)
    nearer = [passage("prod-new-checking", 0.73)]
    assert not faq_is_asked([match("faq-atm", 0.80, "prod-debit"), match("pin", 0.55)], lambda: nearer, CFG)


def test_another_faq_nearly_as_close_or_too_far_is_no_match():
    assert not faq_is_asked([match("hours", 0.83), match("holidays", 0.70)], never, CFG)
    assert not faq_is_asked([match("hours", 0.70)], never, CFG)
    assert not faq_is_asked([], never, CFG)
