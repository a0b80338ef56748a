"""What a customer's message asks for, read from its wording: a figure, a yes or no, a rule.

They are facts the dialogue manager reads (assistant/dialogue/manager.py `decide_knowledge`): whether a
reply is quoted or generated, and whether a hand-off waits for the knowledge base's answer.
"""

from __future__ import annotations

import re

_QUANTITY = re.compile(
    r"\b(how (long|much|many|soon|quickly|fast|late|early|often|far|old)|how many days|what time|deadline|cut-?off"
    r"|(what|what's|whats) (is |are )?(the |my |your )?(max|maximum|minimum|min|limit|fee|rate|apy|apr|penalty|cost|amount|charge)"
    r"|\b(limit|fee|rate|apy|apr)s? (on|for|of)\b|\bwhen (do|does|will|should|can|is|are|must)\b)",
    re.I,
)


# An amount the customer states ("with $4,000 cash"): the answer hinges on a threshold in the
# passage, and a small model's yes/no about it carries no figure for the guard to check. A figure is read from its
# first digit only ("1,1,1,..." is one candidate, not one per digit).
_STATED_AMOUNT = re.compile(r"\$\s?\d|\b(?<!\d,)\d[\d,]*(\.\d+)?\s?(dollars|usd|bucks)\b", re.I)


def asks_for_figure(question: str) -> bool:
    """Questions whose answer is a number, amount, rate, time or deadline, or turns on an amount they state."""
    return bool(_QUANTITY.search(question) or _STATED_AMOUNT.search(question))


# "can I / is it / what if ...": the customer asks what the rules allow; "can you ..." asks the bot to act.
# The question may follow the customer's story: "nobody gave me the right to cancel paper when i opened
# my heloc 8 months ago, can i still back out".
_ABOUT_RULE = re.compile(r"(?:^\s*|[.,;:!?]\s*|\b(?:and|but|so|ok|also)\s+)"
                         r"(can|could|may|am|do|does|is|are|will|what if|what happens|how)\b(?!\s+(you|u|ya)\b)", re.I)


# A yes/no question, at the start of the message or of a clause after the customer's story:
# "gonna wire my sister 5 grand, does the bank keep a record of that". "what do I need" is no yes/no question.
# "can you explain ..." asks for an explanation; "do you charge ..." is a yes/no question.
_YES_NO = re.compile(r"(?:^|[.,;:!?]\s*|\b(?:and|but|so|ok|also)\s+)(?:(?:is|are|can|could|do|does|did|will|would|should|am|has|have|may|must)"
                     r"\s+(?:i|we|my|it|they|there|the|he|she|this|that|these|those|every|each|a|an|any|our|your|his|her|their)"
                     r"|(?:do|are|have)\s+you)\b", re.I)


def asks_yes_no(question: str) -> bool:
    """A yes/no question ("..., does the bank keep a record of that?"): quoted, because a small model's
    bare yes or no may be reversed ("No, there is no limit to what you lose")."""
    return bool(_YES_NO.search(question))


# "what does APY actually mean", "what is an exception hold": the source's definition, quoted, beats the
# 0.5B model's paraphrase ("All Larkspur deposit accounts compound interest daily ..." for the first).
_MEANING = re.compile(r"\bwhat (?:does|do) (?:the term |the word )?[\w'\- ]{1,40}? (?:actually |really |even )?(?:mean|stand for)\b"
                      r"|\bmeaning of\b|\bwhat is meant by\b|^\s*(?:define|explain)\b"
                      r"|^\s*(?:what is|what's|whats) an? [\w'\-]+(?: [\w'\-]+){0,2}\s*\??\s*$", re.I)


def asks_meaning(question: str) -> bool:
    """A question after what a term means, not after a figure or a step."""
    return bool(_MEANING.search(question))


def asks_about_rule(question: str) -> bool:
    return bool(_ABOUT_RULE.search(question))
