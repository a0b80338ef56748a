"""When an approved FAQ answer is this message's answer, without retrieval or the model."""

from __future__ import annotations

from collections.abc import Callable

from assistant.config.answering import AnsweringSettings
from knowledge_base import FaqMatch, Passage


def faq_is_asked(faqs: list[FaqMatch], passages: Callable[[], list[Passage]], cfg: AnsweringSettings) -> bool:
    """The best FAQ answers the message: close to one of its questions (`faq_threshold`), or nearly as close
    (`faq_clear_threshold`) and `faq_clear_lead` ahead of every other FAQ and of every passage of another
    document. `passages` is only called for that second test.

    E.g. "What are your branch hours?" is 0.83 from its FAQ, 0.52 from the next FAQ and 0.43 from the best
    passage elsewhere: the FAQ answers. "How do I activate the Platinum Card?" is 0.76 from the card-activation
    FAQ and 0.76 from a Platinum Card document: that document is the subject, so retrieval decides.
    """
    if not faqs:
        return False
    best = faqs[0]
    if best.score >= cfg.faq_threshold:
        return True
    if best.score < cfg.faq_clear_threshold or (len(faqs) > 1 and best.score - faqs[1].score < cfg.faq_clear_lead):
        return False
    own = {best.entry.faq_id, best.entry.answer_doc}
    rival = max((p.score for p in passages() if p.doc_id not in own), default=0.0)
    return best.score - rival >= cfg.faq_clear_lead


def related(faqs: list[FaqMatch], n: int = 3, floor: float = 0.45) -> tuple[str, ...]:
    """The titles of the FAQs offered as next questions."""
    return tuple(f.entry.title for f in faqs if f.score >= floor)[:n]
