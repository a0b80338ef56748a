"""The QA labelled set (tests/qa/labelled/) stores references to BANKING77 and SGD sentences, never
their text; loading rebuilds the texts from ../shared/data (BANK_NLU__SHARED_DATA_DIR). Without the
data these tests skip and name the missing path; in CI the data is there and they run."""

from collections import Counter

import pytest
import yaml

from bench.dataset_refs import DatasetTexts, MissingData, default_data_dir
from bench.qa_agreement import LABELLED, load_set


@pytest.fixture(scope="module")
def labelled():
    try:
        return load_set()
    except MissingData as e:
        pytest.skip(f"QA labelled set needs the public data sets: {e}")


def test_every_message_gets_its_text_back(labelled):
    from assistant.qa.transcript import Transcript

    convs, labels = labelled
    assert len(convs) == 74 and set(labels) == {c["id"] for c in convs}
    for c in convs:
        t = Transcript.model_validate(c["transcript"])  # extra="forbid": no `ref` left over
        assert all(m.text for m in t.messages)


def test_label_counts_match_the_readme(labelled):
    convs, labels = labelled
    split = {c["id"]: c["split"] for c in convs}
    counts: Counter[tuple[str, bool]] = Counter()
    for cid, parts in labels.items():
        for items in parts.values():
            for label in items.values():
                counts[(split[cid], str(label) != "na")] += 1
    assert counts == {("dev", True): 384, ("dev", False): 256, ("holdout", True): 204, ("holdout", False): 150}


def test_the_file_holds_no_data_set_sentence():
    """Rule: data in ../shared is never copied into the repo. A stored `text` equal to a BANKING77 or
    SGD banking sentence of 5 words or more (case and spacing aside) should have been a `ref`; shorter
    lines are too common to tell a copy from our scripts' own ("Have a nice day.")."""
    texts = DatasetTexts(default_data_dir())
    try:
        texts.require("banking77"), texts.require("sgd")
    except MissingData as e:
        pytest.skip(str(e))

    def norm(s: str) -> str:
        return " ".join(s.lower().split())

    known = {norm(s.text) for s in texts.sentences() if s.ref["set"] in ("banking77", "sgd") and len(s.text.split()) >= 5}
    convs = yaml.safe_load((LABELLED / "conversations.yaml").read_text(encoding="utf-8"))
    stored = [(c["id"], m["id"]) for c in convs for m in c["transcript"]["messages"] if norm(m.get("text", "")) in known]
    assert stored == []
