"""Which saved payee the customer means: "my sister", "maria", "pay the landlord".

Matching is word by word with rapidfuzz's `fuzz.ratio` (0-100) against every word of a payee's
display name and labels ("Maria Lopez (sister)" -> maria, lopez, sister):
- The query keeps only the words that can name a payee: amounts, number words, currency words,
  verbs such as send/pay/transfer and little words (to, my, the, please, ...) are dropped.
- A query word scores for a payee the best ratio with one of the payee's words, counted only
  when it reaches TOKEN_MIN_SCORE (words of up to SHORT_WORD_CHARS characters must be equal).
  A payee's score is the sum over the query words, so "maria lopez" beats "carlos lopez" and a
  stray word ("rent", "today") that names nobody costs nothing.
- Payees with a score within AMBIGUITY_MARGIN of the best are the candidates: one candidate is a
  match ("one"), several are "ambiguous" (ask which), none is "none".
Example: "mario" against Maria Lopez (80) and Mario Rossi (100) -> one, Mario Rossi; "lopez"
against Maria Lopez and Carlos Lopez (100 each) -> ambiguous.
Relations have a few spoken synonyms ("mom" = "mother" = "mum").
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz

from ._text import normalise, rx, words_to_digits

TOKEN_MIN_SCORE = 80.0  # "mario" ~ "maria" (one letter of five) still counts
AMBIGUITY_MARGIN = 10.0  # candidates within this of the best one are too close to choose between
SHORT_WORD_CHARS = 3  # "al" vs "ali" is not a typo but another name

_WORDS = rx(r"[\pL\pN']+")
_STOPWORDS = frozenset({
    "a", "an", "the", "to", "for", "from", "of", "on", "in", "into", "onto", "at", "by", "with", "and", "or", "but",
    "so", "it", "its", "it's", "this", "that", "these", "those", "i", "i'd", "i'm", "i'll", "id", "im", "me", "my",
    "mine", "let", "our", "ours", "your", "you", "we", "us", "he", "she", "her", "him", "his", "their", "them", "they",
    "send", "sent", "sending", "pay", "paid", "paying", "transfer", "transferring", "transferred", "move", "moving",
    "wire", "wiring", "give", "giving", "zelle", "venmo", "make", "making", "want", "wanna", "need", "needs",
    "like", "would", "could", "can", "shall", "should", "please", "pls", "thanks", "thank", "money", "cash",
    "funds", "dollar", "dollars", "buck", "bucks", "cent", "cents", "pound", "pounds", "quid", "euro", "euros",
    "usd", "gbp", "eur", "payment", "amount", "account", "checking", "savings", "credit", "card", "today",
    "tomorrow", "yesterday", "now", "back", "just", "also", "again", "ok", "okay", "yes", "yeah", "no", "actually",
    "lets", "let's", "do", "go", "ahead", "over", "out", "up", "k", "grand", "hundred", "thousand", "some", "same",
    "what", "who", "is", "are", "was", "were", "be", "been", "saved", "payee", "recipient", "person", "called",
    "named", "name", "new", "another"
})
_SYNONYMS = {"mom": "mother", "mum": "mother", "mommy": "mother", "mama": "mother", "ma": "mother",
             "dad": "father", "daddy": "father", "papa": "father", "pa": "father", "sis": "sister",
             "bro": "brother", "hubby": "husband", "gf": "girlfriend", "bf": "boyfriend",
             "grandma": "grandmother", "granny": "grandmother", "grandpa": "grandfather"}


@dataclass(frozen=True, slots=True)
class PayeeMatch:
    status: str  # "one" | "ambiguous" | "none"
    matches: tuple[str, ...]  # payee ids, best first


_NONE = PayeeMatch("none", ())


def _fold(text: str) -> str:
    """Lower case without accents: "José" -> "jose"."""
    decomposed = unicodedata.normalize("NFKD", normalise(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    words = (w.removesuffix("'s").strip("'") for w in _WORDS.findall(_fold(text)))
    return [_SYNONYMS.get(w, w) for w in words if w]


def _similarity(query_word: str, payee_word: str) -> float:
    if min(len(query_word), len(payee_word)) <= SHORT_WORD_CHARS:
        return 100.0 if query_word == payee_word else 0.0
    return fuzz.ratio(query_word, payee_word)


def match_payee(text: str, payees: dict[str, str]) -> PayeeMatch:
    """Match `text` against `payees` ({payee_id: display name with labels}); see the module's rules."""
    if not isinstance(payees, dict) or not payees:
        return _NONE
    query = [w for w in _words(words_to_digits(normalise(text))) if w not in _STOPWORDS and not w.isdigit()]
    names = {pid: _words(name) for pid, name in payees.items() if isinstance(name, str)}
    if not query or not names:
        return _NONE
    score = {pid: sum(_word_score(q, words) for q in query) for pid, words in names.items()}
    ranked = sorted(score, key=lambda pid: -score[pid])  # stable: ties keep the payees' order
    top = score[ranked[0]]
    if top <= 0:
        return _NONE
    close = tuple(pid for pid in ranked if score[pid] > 0 and top - score[pid] <= AMBIGUITY_MARGIN)
    return PayeeMatch("one" if len(close) == 1 else "ambiguous", close)


def _word_score(query_word: str, payee_words: list[str]) -> float:
    best = max((_similarity(query_word, w) for w in payee_words), default=0.0)
    return best if best >= TOKEN_MIN_SCORE else 0.0
