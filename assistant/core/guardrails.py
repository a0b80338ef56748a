"""Input and output guardrails: attacks are refused before retrieval or generation.

The local models are small and easy to talk round, so the defence cannot be the prompt:
requests to ignore instructions, reveal the system prompt, role-play out of policy, reach
other customers' data, evade cash reporting, get investment advice or guarantees are
recognised here and answered with a fixed, safe reply. Instructions planted in knowledge
base passages are stripped before a passage reaches the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE

RULES: list[tuple[str, re.Pattern]] = [
    ("prompt_injection", re.compile(
        r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instruction|rule|guideline|polic|prompt|previous|above|safety)"
        r"|\bnew (instructions|rules)\b|\bfrom now on\b.{0,40}\b(you|answer|respond)\b|\bdeveloper mode\b|\bjailbreak|\bDAN\b"
        r"|\bno (restrictions|filters|rules)\b|\bunfiltered\b|\bsudo\b|\badmin (mode|override)\b"
        r"|^\W*(system|assistant|developer)\s*:|\b(the )?(assistant|ai|bot) (must|should) now\b", _I)),
    ("prompt_extraction", re.compile(
        r"\b(system|initial|hidden|original|secret)\s+(prompt|instructions?|message|rules)\b"
        r"|\b(reveal|print|show|repeat|output|tell me|what are|what were)\b.{0,30}\byour\b.{0,20}\b(instructions|prompt|rules|configuration)\b"
        r"|\b(rules|instructions|guidelines)\b.{0,10}\byou (were|have been|'ve been|got) (given|told)\b"
        r"|\bverbatim\b.{0,30}\b(above|before|instructions)|\bwords above\b", _I)),
    ("role_play", re.compile(
        r"\b(pretend|act|roleplay|role-play|imagine)\b.{0,40}\b(you are|you're|to be|as)\b"
        r"|\byou are (now|no longer)\b|\bstay in character\b|\bhypothetically\b.{0,60}\b(no rules|allowed|could you)\b"
        r"|\bevil\b.{0,20}\b(assistant|bot|twin)\b|\bgrandma\b.{0,60}\b(used to|would)\b", _I)),
    ("other_customer_data", re.compile(
        r"\b(another|other|someone else'?s?|somebody else'?s?|my (neighbou?r|ex|boss|friend|wife|husband|sister|brother|mother|father|son|daughter)'?s?)\b"
        r".{0,40}\b(balance|transactions?|statements?|address|phone|ssn|social security|details|information|info|pin|password|spending|purchases)\b"
        r"|\b(look ?up|find|give me|list|show me|search)\b.{0,30}\b(customer|client|account holder|cardholder)s?\b"
        r"|\bwho (owns|holds|is behind)\b.{0,20}\baccount\b|\baccount (number )?\[ACCOUNT\]\b.{0,30}\b(belong|owner|balance)", _I)),
    ("structuring", re.compile(
        r"\b(avoid|evade|dodge|get around|escape|without)\b.{0,40}\b(report|reporting|ctr|irs|flag|flagged|detection|currency transaction)"
        r"|\b(split|break up|spread|divide|keep)\b.{0,40}\b(deposit|cash|withdrawal|transfer)s?\b.{0,40}\b(under|below|less than)\b.{0,10}\$?10,?000"
        r"|\bstructur(e|ing)\b.{0,30}\b(deposit|cash|how)|\bunder the radar\b|\blaunder", _I)),
    ("investment_advice", re.compile(
        r"\b(should i|would you|do you recommend|what|which)\b.{0,30}\b(buy|sell|invest|put my money)\b.{0,40}\b(stock|shares|crypto|bitcoin|ethereum|fund|etf|gold|options|market)"
        r"|\b(which|what)\b.{0,30}\b(etf|stock|fund|crypto|coin|share)s?\b.{0,40}\b(recommend|buy|invest|should|put)"
        r"|\b(best|good|hot|top)\b.{0,15}\b(stock|investment|crypto|coin|etf)s?\b|\bstock tip|\bwill .{0,30}\b(stock|price|market)\b.{0,20}\b(go up|rise|crash|fall)", _I)),
    ("guarantee", re.compile(
        r"\b(guarantee|promise|swear|100% sure|certain(ly)? (that|i)|in writing that)\b.{0,60}\b(approv|loan|rate|refund|return|profit|will|won'?t|never|always)", _I)),
]

REPLIES = {
    "prompt_injection": "I can't change how I work or set aside the bank's rules, but I'm happy to help with a banking question.",
    "prompt_extraction": "I can't share my internal instructions. I can help with accounts, cards, transfers, loans and fees.",
    "role_play": "I'm the bank's virtual assistant and I can only answer as that, within the bank's rules. How can I help with your banking?",
    "other_customer_data": (
        "I can't share or look up information about anyone else's accounts or details. If you're the account "
        "holder, please sign in to online banking or visit a branch with your ID."
    ),
    "structuring": (
        "I can't help with that. Splitting cash transactions to avoid a Currency Transaction Report is called "
        "structuring and is illegal under federal law (31 U.S.C. 5324), even when the money itself is legitimate."
    ),
    "investment_advice": (
        "I can't give investment advice or say what to buy or sell. I can tell you about our savings accounts and "
        "CDs, or connect you with an agent."
    ),
    "guarantee": (
        "I can't guarantee outcomes such as approvals, rates or refunds: those depend on a review of your "
        "situation. I can explain how the process works or connect you with an agent."
    ),
}

# A sentence addressed to an AI: its words in this order, each group within one sentence.
# "Assistants must always reply ...", "ignore the previous instructions", "the system prompt says".
# Checked sentence by sentence, one search per group, so the cost stays linear in the passage.
_PLANTED: tuple[tuple[re.Pattern, ...], ...] = tuple(
    tuple(re.compile(rf"\b(?:{words})\b", _I) for words in groups)
    for groups in (
        ("ignore|disregard|override", "instruction|previous|above|prompt|rules"),
        ("(?:assistant|AI|chatbot|model|language model)s?", "must|should|always|never",
         "say|tell|reply|respond|answer|reveal|recommend"),
        ("system prompt|new instructions",),
    )
)
_SENTENCE = re.compile(r"[^.!?\n]*[.!?]?")  # up to and including its full stop; never backtracks


def _in_order(sentence: str, groups: tuple[re.Pattern, ...]) -> bool:
    at = 0
    for pattern in groups:
        m = pattern.search(sentence, at)
        if m is None:
            return False
        at = m.end()
    return True


@dataclass(frozen=True, slots=True)
class Verdict:
    category: str
    reply: str


def screen_input(text: str) -> Verdict | None:
    for category, pattern in RULES:
        if pattern.search(text):
            return Verdict(category, REPLIES[category])
    return None


def strip_planted_instructions(passage: str) -> str:
    """Sentences addressed to an AI inside a document are data, never instructions: drop them."""
    return _SENTENCE.sub(lambda m: " " if any(_in_order(m.group(0), g) for g in _PLANTED) else m.group(0), passage)


def leaks_system_prompt(reply: str, system_prompt: str, *, window: int = 8) -> bool:
    """True when the reply repeats any run of `window` consecutive words of the system prompt."""
    words = re.findall(r"\w+", system_prompt.lower())
    text = " ".join(re.findall(r"\w+", reply.lower()))
    return any(" ".join(words[i : i + window]) in text for i in range(len(words) - window + 1))
