"""Names of question clusters from their top terms by class-based TF-IDF (c-TF-IDF, as BERTopic does).

Each cluster's questions are joined into one document; a term weighs tf(term, cluster) * log(1 + A / f(term)),
where A is the mean number of words per cluster and f(term) its count in all clusters. So a word every
cluster uses ("how", "can") weighs little, one that sets a cluster apart weighs most. Example: questions
"when will my new card arrive", "new card not here yet" -> "new card / arrive".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import re2
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

PLACEHOLDER = re2.compile(r"\[[A-Z_]+\]")  # redaction marks ("[CARD]"): not words the customer used
STOP = frozenset(ENGLISH_STOP_WORDS | {"hi", "hello", "hey", "please", "thanks", "thank", "just", "ok", "okay",
                                       "want", "need", "know", "tell", "does", "did", "like", "ve", "ll", "don"})


def cluster_names(clusters: list[list[str]], *, terms: int = 3, background: Sequence[str] = ()) -> list[str]:
    """One name per cluster: its top `terms` c-TF-IDF terms joined by " / ". `background` (questions in no
    cluster) takes part as one more class, so that words common to all questions weigh less."""
    docs = [" ".join(PLACEHOLDER.sub(" ", t) for t in texts) for texts in clusters]
    if background:
        docs.append(" ".join(PLACEHOLDER.sub(" ", t) for t in background))
    vectorizer = CountVectorizer(stop_words=list(STOP), ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return ["(unnamed)"] * len(clusters)
    words = vectorizer.get_feature_names_out()
    per_class = counts.sum(axis=1, keepdims=True)
    per_class[per_class == 0] = 1
    tf = counts / per_class
    idf = np.log(1 + counts.sum(axis=1).mean() / counts.sum(axis=0).clip(min=1))
    scores = tf * idf
    return [_name(scores[i], words, terms) for i in range(len(clusters))]


def _name(row, words, terms: int) -> str:
    """The best terms that share no word with a better one ("new card", then not "card")."""
    chosen: list[str] = []
    for j in row.argsort()[::-1]:
        if row[j] <= 0 or len(chosen) == terms:
            break
        term = str(words[j])
        if not any(set(term.split()) & set(c.split()) for c in chosen):
            chosen.append(term)
    return " / ".join(chosen) or "(unnamed)"
