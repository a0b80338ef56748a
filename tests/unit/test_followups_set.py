"""knowledge_base/eval/followups.yaml holds references to the shared data sets, never their text.

The rule: a turn whose source is a shared data set (BANKING77, SGD, HWU64, SNIPS) is a `ref`; only the
KB eval questions and paraphrases are `user` text. Loading reads the quoted turns back from the data dir,
e.g. `{set: sgd-banks, dialogue: ..., turn: 0}` -> that dialogue's first utterance, and checks each
conversation's texts against its id; without the data dir the load names the missing path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant.config import Settings
from bench.followups_refs import SharedDataMissing, conv_id, load_set

SET = Path(__file__).resolve().parents[2] / "knowledge_base" / "eval" / "followups.yaml"
# a turn from one of these sources must be a reference; "sgd-other/paraphrase" and the like may be either
QUOTED_SOURCES = {"banking77", "sgd-banks", "sgd-other", "hwu64-general_explain", "hwu64/snips/sgd-other"}


def _source(conv: dict, i: int) -> str:
    """The source of turn i (a third turn shares the second's entry)."""
    return conv["sources"][min(i, len(conv["sources"]) - 1)]


def test_quoted_turns_are_references() -> None:
    convs = yaml.safe_load(SET.read_text(encoding="utf-8"))
    for c in convs:
        for i, t in enumerate(c["turns"]):
            assert ("ref" in t) != ("user" in t), c["id"]
            if _source(c, i) in QUOTED_SOURCES:
                assert "ref" in t, f"{c['id']} turn {i} quotes {_source(c, i)} as text"
            if _source(c, i) == "kb-eval":
                assert "user" in t, c["id"]


def test_missing_data_dir_is_named(tmp_path: Path) -> None:
    absent = tmp_path / "no-shared-data"
    with pytest.raises(SharedDataMissing, match=re.escape(str(absent))):
        load_set(SET, absent)


def test_references_resolve_to_the_texts_the_ids_hash() -> None:
    data = Settings(_env_file=None).nlu.shared_data_dir
    if not data.is_dir():
        pytest.skip(f"shared data not found at {data} (set BANK_NLU__SHARED_DATA_DIR)")
    convs = load_set(SET, data)
    assert len(convs) == 249
    assert len({c["id"] for c in convs}) == len(convs)
    for c in convs:
        assert all(t["user"] and "ref" not in t for t in c["turns"]), c["id"]
        assert conv_id(c["kind"], c["turns"]) == c["id"]
