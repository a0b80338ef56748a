"""A message that asks about the last answer itself: "sorry, I didn't follow", "come again?", "break that down".

Such a message has no subject of its own, but its wording varies without end ("I'm lost", "went over my
head"), so no closed word list (assistant/core/subjects.py) reaches all of it. It is recognised by its
embedding instead (the turn's MiniLM vector, already computed): its cosine to the nearest of a few requests
written for the project (never taken from a data set), at least `THRESHOLD`, in a short message. The
threshold was chosen on HWU64 `general_explain` rows against banking messages that name their own subject
(bench/explain_requests.py, docs/decisions/0019-explain-follow-ups.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from assistant.core.subjects import ELLIPTIC_WORDS

# Written for the project, in several voices; not copied from, nor close to, any data set's sentences.
REQUESTS: tuple[str, ...] = (
    "sorry, I didn't follow that",
    "come again?",
    "can you put that in simpler words",
    "I'm confused by your reply",
    "what does that mean",
    "could you go over that one more time",
    "tell me more about what you just wrote",
    "that made no sense to me",
    "I'm lost, walk me through it",
    "can you break that down for me",
    "what are you saying exactly",
    "not sure I understand your last message",
    "give me a bit more detail on that",
    "explain it like I'm five",
    "repeat that please",
    "wait, what?",
    "say it differently please",
    "that answer went over my head",
    "can you expand on your previous reply",
    "I still don't understand",
    "I don't get it",
    "that wasn't clear",
    "hm? meaning what, sorry?",
    "I need more explanation",
    "could you explain that better",
    "I'm not following you",
    "could you word that another way",
)
THRESHOLD = 0.42


class ExplainRequests:
    """Says whether a message asks to have the last answer explained or said again."""

    def __init__(self, embed_many: Callable[[list[str]], np.ndarray], threshold: float = THRESHOLD,
                 requests: tuple[str, ...] = REQUESTS) -> None:
        self._embed_many, self.threshold, self.requests = embed_many, threshold, requests
        self._vectors: np.ndarray | None = None  # encoded on first use: a pipeline that never needs them pays nothing

    def similarity(self, vector: np.ndarray) -> float:
        """The cosine of a unit vector to the nearest request."""
        if self._vectors is None:
            self._vectors = np.asarray(self._embed_many(list(self.requests)), dtype=np.float32)
        return float(np.max(self._vectors @ np.asarray(vector, dtype=np.float32)))

    def asks(self, text: str, vector: np.ndarray) -> bool:
        """A short message whose vector is near one of the requests."""
        return 0 < len(text.split()) <= ELLIPTIC_WORDS and self.similarity(vector) >= self.threshold
