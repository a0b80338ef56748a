"""Per-turn sentiment and frustration from a small lexicon and a few rules.

Rules rather than a trained head: there is no labelled sentiment data for banking chats
here, the signal must be explainable to the agent who receives the handoff, and it costs
microseconds. Banking trouble words ("lost", "stolen", "declined") are deliberately not
negative: a customer reporting a stolen card is not angry with us; tone is what counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

SentimentLabel = Literal["negative", "neutral", "positive"]

POSITIVE = {
    "thanks": 1.0, "thank": 1.0, "thx": 1.0, "cheers": 0.6, "great": 1.0, "perfect": 1.0, "excellent": 1.0,
    "brilliant": 1.0, "awesome": 1.0, "amazing": 1.0, "fantastic": 1.0, "wonderful": 1.0, "love": 1.0,
    "lovely": 0.8, "helpful": 1.0, "appreciate": 1.0, "appreciated": 1.0, "happy": 0.8, "pleased": 0.8,
    "glad": 0.8, "good": 0.5, "nice": 0.6, "super": 0.6, "fab": 0.8, "star": 0.5, "sorted": 0.6,
    "solved": 0.6, "resolved": 0.6, "fixed": 0.4, "easy": 0.4, "quick": 0.3, "best": 0.6, "grateful": 1.0,
    "kind": 0.5, "kindly": 0.2,
}
NEGATIVE = {
    "bad": 0.8, "terrible": 1.0, "awful": 1.0, "horrible": 1.0, "dreadful": 1.0, "appalling": 1.0,
    "useless": 1.0, "worst": 1.0, "hate": 1.0, "angry": 1.0, "annoyed": 1.0, "annoying": 1.0, "irritated": 0.8,
    "frustrated": 1.0, "frustrating": 1.0, "furious": 1.0, "fuming": 1.0, "livid": 1.0, "ridiculous": 1.0,
    "unacceptable": 1.0, "disappointed": 0.8, "disappointing": 0.8, "upset": 0.8, "disgusted": 1.0,
    "disgusting": 1.0, "disgrace": 1.0, "disgraceful": 1.0, "pathetic": 1.0, "rubbish": 1.0, "joke": 0.6,
    "scam": 1.0, "cheated": 1.0, "robbed": 0.8, "incompetent": 1.0, "stupid": 1.0, "outrageous": 1.0,
    "shocking": 0.8, "nightmare": 1.0, "shambles": 1.0, "pointless": 0.8, "hopeless": 0.8, "unhappy": 0.8,
    "poor": 0.6, "rude": 0.8, "unfair": 0.8, "complain": 0.6, "complaint": 0.6,
    "waste": 0.8, "wasting": 0.8, "wasted": 0.8, "worse": 0.8, "fail": 0.5, "failed": 0.3, "fails": 0.5,
    "unbelievable": 0.6, "ashamed": 0.8, "shame": 0.6, "lied": 1.0, "liar": 1.0, "ignored": 0.6,
    "unhelpful": 1.0, "clueless": 1.0, "sucks": 1.0, "broken": 0.3, "slow": 0.3, "confusing": 0.5,
}
# Anger and exasperation weigh more for frustration than plain dissatisfaction.
ANGER = {
    "angry", "furious", "fuming", "livid", "outrageous", "ridiculous", "unacceptable", "disgrace", "disgraceful",
    "pathetic", "useless", "incompetent", "hate", "worst", "joke", "scam", "sucks", "unbelievable", "stupid",
    "frustrated", "frustrating", "annoyed", "annoying", "pointless", "hopeless", "clueless", "unhelpful",
}
PROFANITY = re.compile(
    r"\b(f+u+c+k\w*|fck\w*|wtf|ffs|sh[i1]t\w*|bullshit|crap\w*|damn\w*|bloody|piss\w*|bastard\w*|"
    r"arse\w*|asshole\w*|bollocks|dick\w*|suck(?:s|ed)?)\b",
    re.I,
)
# Phrases that mean "this keeps failing" or "I've had enough", beyond single words.
EXASPERATION = re.compile(
    r"(for the (second|third|fourth|fifth|\w+th) time|how many times|"
    r"(already|keep|kept) (told|telling|asked|asking|said|saying|explained|giving)|going (round|around) in circles|"
    r"(going|getting) nowhere|not (listening|understanding|getting it)|(don't|do not|doesn't) understand|"
    r"fed up|sick (of|and tired)|had enough|waste of (my )?time|are you (kidding|serious|joking)|give up|"
    r"makes? no sense|seriously\?|for god'?s sake|come on\b|enough\b)",
    re.I,
)
# Impatience: worth noting, but "still waiting for my card" alone is not anger.
# "still ... not": read from the first "still" of a line only, so many of them cost one pass, not one each.
IMPATIENCE = re.compile(r"(\bagain\b|^(?:(?!\bstill\b).)*\bstill\b.*\b(not|no|n't|waiting)\b|\byet again\b)", re.I | re.M)
NEGATORS = {"not", "no", "never", "n't", "isn't", "wasn't", "don't", "doesn't", "didn't", "hardly", "nothing", "aren't", "won't", "cannot", "can't"}
INTENSIFIERS = {"very", "really", "so", "extremely", "absolutely", "totally", "completely", "utterly", "incredibly", "super"}
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: SentimentLabel
    score: float  # -1 (very negative) .. 1 (very positive)
    frustration: float  # 0 .. 1


@dataclass(frozen=True, slots=True)
class LexiconSentiment:
    """Scores one turn; `failed_turns` (recent turns that did not help) raises frustration."""

    negative_below: float = -0.2
    positive_above: float = 0.2
    per_failed_turn: float = 0.25  # three failures in a row alone reach the usual 0.7 handoff line

    def analyze(self, text: str, *, failed_turns: int = 0) -> Sentiment:
        words = _WORD.findall(text.lower().replace("’", "'"))
        pos = neg = anger = 0.0
        for i, w in enumerate(words):
            window = words[max(0, i - 3) : i]
            negated = any(n in NEGATORS or n.endswith("n't") for n in window)
            boost = 1.5 if any(x in INTENSIFIERS for x in window) else 1.0
            if w in POSITIVE:
                if negated:  # "not happy", "not helpful": dissatisfaction, weaker than a plain negative
                    neg += 0.7 * POSITIVE[w] * boost
                else:
                    pos += POSITIVE[w] * boost
            elif w in NEGATIVE:
                if negated:  # "not bad" is mild praise at most
                    pos += 0.2 * NEGATIVE[w]
                else:
                    neg += NEGATIVE[w] * boost
                    anger += boost if w in ANGER else 0.0
        profane = len(PROFANITY.findall(text))
        exasperated = len(EXASPERATION.findall(text))
        impatient = 1 if IMPATIENCE.search(text) else 0
        letters = [c for c in text if c.isalpha()]
        shouting = len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7
        bangs = text.count("!") + text.count("?!")
        neg += 0.8 * profane + 0.6 * exasperated + 0.2 * impatient + (0.5 if shouting else 0.0)
        total = pos + neg
        score = 0.0 if total == 0 else (pos - neg) / (total + 1.0)  # +1 keeps one mild word from saturating
        frustration = (
            0.35 * anger + 0.4 * profane + 0.3 * exasperated + 0.1 * impatient + 0.1 * min(neg, 3.0)
            + (0.25 if shouting else 0.0) + (0.1 if bangs >= 2 and neg > 0 else 0.0)
            + self.per_failed_turn * max(0, failed_turns)
        )
        frustration = round(min(1.0, frustration), 3)
        if score <= self.negative_below or (neg > 0 and frustration >= 0.5):
            label: SentimentLabel = "negative"
        elif score >= self.positive_above:
            label = "positive"
        else:
            label = "neutral"
        return Sentiment(label, round(max(-1.0, min(1.0, score)), 3), frustration)
