"""Input and output guardrails: attacks are refused before retrieval or generation.

The local models are small and easy to talk round, so the defence cannot be the prompt:
requests to ignore instructions, reveal the system prompt, role-play out of policy, reach
other customers' data, evade cash reporting, get investment advice or guarantees are
recognised here and answered with a fixed, safe reply, in English and the commonest other
languages (assistant/core/guardrail_lexicon.py), and in every disguise `readings` undoes (full-width,
look-alike letters, zero-width characters, leetspeak, rot13, base64, ...). Instructions planted in
knowledge base passages, and sentences no bank would say (assistant/core/outgoing.py), are dropped
before a passage reaches the model or a quote.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from assistant.core import guardrail_lexicon as lexicon
from assistant.core.guardrail_lexicon import rx
from assistant.core.outgoing import DEFAULT_LINK_DOMAINS, unsafe_sentence
from assistant.core.readings import readings, visible
from assistant.core.regex import Regex
from assistant.i18n import t

_I = re.IGNORECASE

RULES: list[tuple[str, Regex]] = [
    ("prompt_injection", rx(
        r"\b(ignore|disregard|forget|override|bypass|set aside|suspend)\b.{0,40}\b(instruction|rule|guideline|polic|prompt|previous|above|safety|directive|restriction|filter|everything you were told)"
        r"|\b(previous|prior|earlier|original|above) (directives|instructions|rules|prompt)\b.{0,20}\b(cancel|void|replac|no longer|lifted|revoked|suspended)"
        r"|\bnew (instructions|rules)\b|\bfrom now on\b.{0,40}\b(you|answer|respond)\b|\bdeveloper mode\b|\bjailbreak|\bDAN\b"
        r"|\bno (restrictions|filters|rules)\b|\bunfiltered\b|\bsudo\b|\badmin (mode|override|message)\b"
        r"|\b(safety|content) (filters?|rules|checks) (are |is )?(now )?(switched |turned )?(off|disabled)\b"
        r"|\bwithout your (usual )?(restrictions|rules|filters|policy|guidelines)\b|\bstop being (a|the|my)\b.{0,30}\b(assistant|bot)\b"
        r"|\b(message|test|update|order) (from|by) (your|the) (developers?|it team|admin|administrator|creators?|system)\b"
        r"|\bend of (the )?(customer|user) message\b|\byour only (task|job|instruction) (now )?is\b"
        r"|^\W*(system|assistant|developer)\s*:|\b(the )?(assistant|ai|bot) (must|should) now\b")),
    ("prompt_extraction", rx(
        r"\b(system|initial|hidden|original|secret)\s+(prompt|instructions?|message|rules)\b"
        r"|\b(reveal|print|show|repeat|output|tell me|what are|what were)\b.{0,30}\byour\b.{0,20}\b(instructions|prompt|rules|configuration)\b"
        r"|\b(rules|instructions|guidelines)\b.{0,10}\byou (were|have been|'ve been|got) (given|told)\b"
        r"|\bverbatim\b.{0,30}\b(above|before|instructions)|\bwords above\b"
        r"|\b(written|said|typed|stated|sent) (before|above) (my|this|the customer'?s?) (first )?(message|question)"
        r"|\b(setup|configuration|config|prompt|instructions|guidelines|directives|rules)\b.{0,30}\b(you were|you are|you got|you'?ve been) (given|started|initiali[sz]ed|configured|set up|told)"
        r"|\b(paste|print|output|repeat|recite|complete|quote|list)\b.{0,40}\b(your (setup|configuration|config|prompt|instructions|guidelines|directives))\b"
        r"|\b(wrote|write|written|made|designed|built)\b.{0,10}\byour (system )?(prompt|instructions)\b"
        r"|\b(first|opening|last) (paragraph|sentence|line|words?) of your\b|\b(message|text|prompt) that (defines|controls|governs|tells you) how you\b"
        r"|\b(guidelines|rules|instructions) (you|that you) (must|have to|need to) follow\b.{0,30}\b(word for word|verbatim|exactly|one per line)"
        r"|\bconfiguration you were\b|\bas it appears in your (setup|configuration|prompt|instructions)")),
    ("role_play", rx(
        r"\b(pretend|act|roleplay|role-play|imagine)\b.{0,40}\b(you are|you're|to be|as)\b"
        r"|\byou are (now|no longer)\b|\bstay in character\b|\bhypothetically\b.{0,60}\b(no rules|allowed|could you)\b"
        r"|\bfrom this point (on )?(you'?re|you are)\b|\b(play a game|a game)\b.{0,20}\byou('re| are)\b|\byou('re| are) my (late )?(grand\w+|dead|deceased)"
        r"|\ba version of you (with|without|that)\b|\bunlocked\b.{0,20}\b(version|mode|you)\b|\b(version|mode) (of you )?unlocked\b"
        r"|\bevil\b.{0,20}\b(assistant|bot|twin)\b|\bgrandma\b.{0,60}\b(used to|would)\b")),
    ("other_customer_data", rx(
        r"\b(another|other|someone else'?s?|somebody else'?s?|my (neighbou?r|ex|boss|friend|wife|husband|sister|brother|mother|father|son|daughter)'?s?)\b"
        r".{0,40}\b(balance|transactions?|statements?|address|phone|ssn|social security|details|information|info|pin|password|spending|purchases)\b"
        r"|\b(look ?up|find|give me|list|show me|search)\b.{0,30}\b(customer|client|account holder|cardholder)s?\b"
        r"|\bwho (owns|holds|is behind)\b.{0,20}\baccount\b|\baccount (number )?\[ACCOUNT\]\b.{0,30}\b(belong|owner|balance)"
        r"|\b(balance|transactions?|statements?|details|address|phone|email|spending)\b.{0,20}\b(of|for) (the |a )?(customer|client|account holder|user|cardholder)\b"
        r"|\bhow much\b.{0,40}\b(her|his|their) (savings|checking|account|balance)")),
    ("internal_data", rx(
        r"\b(print|show|dump|export|list|give|read|output|display|send|share|reveal|tell)\b[^.!?]{0,40}\b(audit (trail|log)s?|logs|database|db|"
        r"tables?|transcripts?|support tickets?|ticket (number|#)|api keys?|environment variables|env vars|session tokens?|access tokens?)\b"
        r"|\b(other (people|customers|users|clients|callers)|previous (customer|user|caller)|any (other )?customer|anyone else)\b.{0,40}"
        r"\b(typed|asked|said|gave|entered|sent|wrote|had)\b|\b(typed|asked|said|gave|entered|sent|had)\b.{0,40}\b(other (people|customers|users)|previous (customer|user))\b"
        r"|\b(which|list|all|every) (of (your|the) )?(customers|clients|account holders|accounts)\b.{0,60}\b(have|has|with|balance|own|live|over|more than)"
        r"|\b(from|across|of) (all|every|other) (accounts|customers|clients)\b|\bwithout (the )?redaction|\bun-?redacted\b|\bunmask"
        r"|\b(agents?|staff|employees?|admins?)'?s?\b.{0,40}\b(passwords?|credentials|logins?)\b"
        r"|\bon file for (the )?(customer|client|account holder|user|mr|mrs|ms|dr|another|someone|him|her|them)\b"
        r"|\bwhich customer (owns|has|holds)\b")),
    ("secrets", rx(
        r"\b(tell|give|read|show|send|spell|repeat|confirm|remind|output|encode|email|text)( it)?( me| us)?( back| out| again)?( in full| exactly)? "
        r"(my|the|our|their) (current |old |existing |full |whole |complete )?(pin|cvv2?|cvc|password|passcode|one-time code|"
        r"otp|security code|verification code|card numbers?|account number|ssn|social security number|iban)\b"
        r"|\b(tell|give|read|show|send|spell|repeat|confirm|encode|email|text)\b[^.!?]{0,20}\b(my|the) (pin|cvv2?|cvc|password|card numbers?|ssn|iban)\b"
        r"[^.!?]{0,30}\b(back|digit by digit|in full|exactly|in base64|as i typed|to me)\b")),
    ("structuring", rx(
        r"\b(avoid|evade|dodge|get around|escape|without)\b.{0,40}\b(report|reporting|ctr|irs|flag|flagged|detection|currency transaction)"
        r"|\b(split|break up|spread|divide|keep)\b.{0,40}\b(deposit|cash|withdrawal|transfer)s?\b.{0,40}\b(under|below|less than)\b.{0,10}\$?10,?000"
        r"|\bstructur(e|ing)\b.{0,30}\b(deposit|cash|how)|\bunder the radar\b|\blaunder"
        r"|\b(so that|so|without|such that)\b.{0,20}\bno (form|report|paperwork|ctr|filing)s?\b.{0,20}\b(filed|reported|triggered|made|needed)\b")),
    ("investment_advice", rx(
        r"\b(should i|would you|do you recommend|what|which)\b.{0,30}\b(buy|sell|invest|put my money)\b.{0,40}\b(stock|shares|crypto|bitcoin|ethereum|fund|etf|gold|options|market)"
        r"|\b(which|what)\b.{0,30}\b(etf|stock|fund|crypto|coin|share)s?\b.{0,40}\b(recommend|buy|invest|should|put)"
        r"|\b(best|good|hot|top)\b.{0,15}\b(stock|investment|crypto|coin|etf)s?\b|\bstock tip|\bwill .{0,30}\b(stock|price|market)\b.{0,20}\b(go up|rise|crash|fall)"
        r"|\b(good|right|best|smart|bad) time to (buy|sell|invest|move|put)\b.{0,40}\b(stock|shares|crypto|bitcoin|ethereum|gold|etf|fund|market)")),
    ("guarantee", rx(
        r"\b(guarantee|promise|swear|100% sure|certain(ly)? (that|i)|in writing that)\b.{0,60}\b(approv|loan|rate|refund|return|profit|will|won'?t|never|always)")),
]

# What the customer reads for each category (the message catalogue's refusal.* keys).
REPLIES = {
    "prompt_injection": t("refusal.prompt_injection"),
    "prompt_extraction": t("refusal.prompt_extraction"),
    "role_play": t("refusal.role_play"),
    "other_customer_data": t("refusal.other_customer_data"),
    "structuring": t("refusal.structuring"),
    "investment_advice": t("refusal.investment_advice"),
    "internal_data": t("refusal.internal_data"),
    "secrets": t("refusal.secrets"),
    "language": t("refusal.language"),
    "guarantee": t("refusal.guarantee"),
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
# A sentence, up to and including its full stop: a stop inside a word ("evil.example", "1.5%") does not end it.
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?](?![\s)\]]|$)[^.!?\n]*)*[.!?]*")
# Text a reader never sees: HTML and Markdown comments, chat-template tokens and the role tags around them.
_COMMENTS = re.compile(r"<!--[^>]{0,2000}-->|\[//\]: #[^\n]{0,2000}|<\|im_start\|>[^<]{0,2000}(?:<\|im_end\|>)?"
                       r"|<(system|developer|assistant)>[^<]{0,2000}</\1>|<\|[a-z_]{1,20}\|>|</?(?:system|developer|assistant)>", re.I)


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


@functools.lru_cache(maxsize=1024)  # a turn screens its message twice (before the flows, before answering)
def screen_input(text: str) -> Verdict | None:
    """The attack this message makes, read in every form `readings` undoes; None for an ordinary message."""
    # one form a line: no pattern below reads across a line; RE2 takes valid UTF-8 only (no lone surrogates)
    forms = "\n".join(readings(text)).encode("utf-8", "replace").decode("utf-8")
    for category, pattern in RULES + lexicon.LATIN + lexicon.CJK_ETC:
        if pattern.search(forms):
            return Verdict(category, REPLIES[category])
    if lexicon.MARKUP.search(visible(text)):
        return Verdict("prompt_injection", REPLIES["prompt_injection"])
    if lexicon.unserved_script(visible(text)):
        return Verdict("language", REPLIES["language"])
    return None


def planted(sentence: str, domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> bool:
    """A document's sentence that is not the bank speaking to its customer: addressed to an AI (in any
    language or disguise), role markup, or something no bank says (assistant/core/outgoing.py)."""
    forms = "\n".join(readings(sentence)).encode("utf-8", "replace").decode("utf-8")
    return (any(_in_order(form, g) for form in forms.split("\n") for g in _PLANTED)
            or any(p.search(forms) for _, p in RULES[:2] + lexicon.LATIN[:2] + lexicon.CJK_ETC[:2])
            or bool(lexicon.MARKUP.search(sentence))
            or lexicon.unserved_script(sentence) or any(unsafe_sentence(f, domains) for f in (forms, sentence)))


@functools.lru_cache(maxsize=4096)
def sanitize_passage(passage: str, domains: tuple[str, ...] = DEFAULT_LINK_DOMAINS) -> str:
    """A passage without its planted sentences and its comments (<!-- -->, [//]: #, chat-template tokens):
    what a document says to readers is kept, what it says to a model is data, never instructions."""
    passage = _COMMENTS.sub(" ", passage)
    return _SENTENCE.sub(lambda m: " " if m.group(0).strip() and planted(m.group(0), domains) else m.group(0), passage)


strip_planted_instructions = sanitize_passage  # the name the rest of the code base knows


@functools.lru_cache(maxsize=8)
def _runs(system_prompt: str, window: int) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(system_prompt.lower())
    return frozenset(tuple(words[i : i + window]) for i in range(len(words) - window + 1))


def leaks_system_prompt(reply: str, system_prompt: str, *, window: int = 8) -> bool:
    """True when the reply repeats any run of `window` consecutive words of the system prompt."""
    runs = _runs(system_prompt, window)
    words = _WORD.findall(reply.lower())
    return any(tuple(words[i : i + window]) in runs for i in range(len(words) - window + 1))
