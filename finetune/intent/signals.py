"""Training data and heads for the issue-29 signals: wider scope negatives, the human-request
head with word features, the keyboard-mashing model, and the knowledge base's products."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from finetune.intent import external as X
from finetune.intent.data import DATA_DIR, KB_DIR, load_yaml_lists, normalise
from finetune.intent.heads import TOKEN_PATTERN, BinaryHead
from finetune.intent.human_templates import human_negatives, human_positives
from finetune.intent.model import WordWeights

SCOPE_EXTRA_FILE = DATA_DIR / "scope_extra.yaml"
FRESH_HUMAN_FILE = DATA_DIR / "human_request_fresh.yaml"
_WORDS = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class ScopeData:
    out_train: list[str]  # HWU64 (minus general_*, qa_stock) + SNIPS, bucket < 80
    in_train: list[str]  # HWU64 qa_currency (train part) + scope_extra.yaml
    out_dev: list[str]
    chat_train: list[str]  # HWU64 general_* (affirm, thanks-like, repeat...), train part: never a request for a person
    own_out: list[str]  # scope_extra.yaml `out_of_scope`: our other-service requests and follow-ups


def scope_data(shared: Path) -> ScopeData:
    oos, ins = X.hwu64(shared)
    sn = X.snips(shared)
    lists = load_yaml_lists(SCOPE_EXTRA_FILE)
    extra = lists.get("in_scope", [])
    return ScopeData(
        [r.text for r in oos + sn if r.split == "train"],
        [r.text for r in ins if r.split == "train"] + extra,
        [r.text for r in oos + sn if r.split == "dev"],
        [r.text for r in X.hwu64_general(shared) if r.split == "train"],
        lists.get("out_of_scope", []),
    )


@dataclass(frozen=True)
class HumanData:
    pos_train: list[str]
    neg_train: list[str]
    pos_val: list[str]  # a fifth of the templates, for the threshold report
    neg_val: list[str]


def human_data(banking_questions: list[str], *, seed: int, unseen: set[str]) -> HumanData:
    """Templates split by hash; any line also in a test set (normalised) is dropped."""
    pos = [t for t in human_positives(banking_questions, seed=seed) if normalise(t) not in unseen]
    neg = [t for t in human_negatives(seed=seed) if normalise(t) not in unseen]
    val = lambda t: X.bucket("human:" + t) < 20  # noqa: E731
    return HumanData([t for t in pos if not val(t)], [t for t in neg if not val(t)],
                     [t for t in pos if val(t)], [t for t in neg if val(t)])


def fresh_human_sets() -> tuple[list[str], list[str]]:
    sets = load_yaml_lists(FRESH_HUMAN_FILE)
    return sets["positive"], sets["negative"]


def fit_human(emb: np.ndarray, texts: list[str], positive: np.ndarray, *, c: float, seed: int) -> tuple[BinaryHead, WordWeights]:
    """Class-balanced: the words find "speak with somebody" inside a longer question, the embedding
    the indirect forms."""
    return fit_with_words(emb, texts, positive, c=c, seed=seed, class_weight="balanced")


def fit_with_words(emb: np.ndarray, texts: list[str], positive: np.ndarray, *, c: float, seed: int,
                   class_weight: str | None = None, sample_weight: np.ndarray | None = None) -> tuple[BinaryHead, WordWeights]:
    """One logistic regression over [embedding, word 1-2-gram TF-IDF] (its own vocabulary), split
    back into the embedding head and the word weights the runtime adds to its logit."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, token_pattern=TOKEN_PATTERN)
    x = hstack([csr_matrix(emb), vec.fit_transform(texts)]).tocsr()
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=5000, random_state=seed)
    clf.fit(x, positive.astype(int), sample_weight=sample_weight)
    coef = clf.coef_[0].astype(np.float32)
    d = emb.shape[1]
    return (BinaryHead(coef[:d], float(clf.intercept_[0])),
            WordWeights({k: int(v) for k, v in vec.vocabulary_.items()}, vec.idf_.astype(np.float32), coef[d:]))


def kb_products(kb_dir: Path = KB_DIR) -> tuple[list[str], list[str]]:
    """(product document titles, every word of the knowledge base)."""
    from knowledge_base.documents import load_directory

    loaded = load_directory(kb_dir)
    titles = sorted({d.title for d in loaded.documents if d.doc_id.startswith("prod-")})
    words: set[str] = set()
    for d in loaded.documents:
        words.update(_WORDS.findall(f"{d.title} {d.body}".lower()))
    for f in loaded.faqs:
        words.update(_WORDS.findall(" ".join(f.questions).lower()))
    return titles, sorted(words)


def unknown_words(texts: list[str], known: set[str]) -> list[str]:
    return sorted({w for t in texts for w in _WORDS.findall(t.lower()) if len(w) >= 3 and w not in known})
