"""Data-set references (bench/dataset_refs.py) and the copy scanner (bench/dataset_copies.py), on a tiny
folder shaped like ../shared/data whose sentences we wrote here."""

import json

import pytest

from bench.dataset_copies import Index, main, scan
from bench.dataset_refs import (
    DatasetTexts,
    MissingData,
    apply_edits,
    edits_between,
    ref_label,
    to_ref,
    with_refs,
    with_text,
)


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    (d / "banking77").mkdir(parents=True)
    (d / "banking77" / "train.csv").write_text('text,category\n"my purple card, where is it?",card_arrival\n'
                                               "please close the purple account now,close_account\n")
    (d / "sgd").mkdir()
    turns = [{"speaker": "USER", "utterance": "Move fifty dollars to my sister Kim please."},
             {"speaker": "SYSTEM", "utterance": "Call us on 555 0100 for that, dear customer."}]
    (d / "sgd" / "banks_train_dialogues.json").write_text(json.dumps([{"dialogue_id": "1_001", "turns": turns}]))
    (d / "hwu64").mkdir()
    (d / "hwu64" / "utterances.jsonl").write_text('{"text": "switch the kitchen lamp off tonight", "intent": "iot"}\n')
    return d


def test_references_name_rows_lines_and_turns(data):
    t = DatasetTexts(data)
    assert t.text({"set": "banking77", "row": 1}) == "please close the purple account now"
    assert t.text({"set": "sgd", "dialogue": "1_001", "turn": 1}).startswith("Call us")
    assert t.text({"set": "hwu64", "line": 0}) == "switch the kitchen lamp off tonight"
    assert ref_label({"set": "sgd", "dialogue": "1_001", "turn": 1}) == "sgd 1_001 turn 1"
    assert ref_label({"set": "banking77", "row": 1}) == "banking77 row 1"
    assert {s.side for s in t.sentences()} == {"customer", "system"}


def test_a_missing_set_names_its_path(tmp_path):
    with pytest.raises(MissingData, match=str(tmp_path / "snips" / "utterances.jsonl")):
        DatasetTexts(tmp_path).text({"set": "snips", "line": 0})


def test_redacted_spans_are_kept_as_edits():
    source = "Call us on 555 0100 for that, dear customer."
    stored = "Call us on [PHONE] for that, dear customer."
    edits = edits_between(source, stored)
    assert edits == [[11, 19, "[PHONE]"]] and apply_edits(source, edits) == stored
    assert edits_between(source, source) == []
    assert edits_between(source, "Call us later.") is None
    assert edits_between("a b", "a [PHONE] [EMAIL]") is None  # two marks with nothing between: ambiguous


def test_messages_round_trip_through_references(data):
    t = DatasetTexts(data)
    drawn = [(s.ref, s.text) for s in t.sentences()]
    agent = {"id": 2, "role": "agent", "text": "Call us on [PHONE] for that, dear customer.", "at": None}
    own = {"id": 3, "role": "user", "text": "agent please"}
    stored = [with_refs(m, drawn) for m in (agent, own)]
    assert list(stored[0]) == ["id", "role", "ref", "at"] and stored[0]["ref"]["replace"] == [[11, 19, "[PHONE]"]]
    assert stored[1] == own and to_ref("agent please", drawn) is None
    assert [with_text(m, t) for m in stored] == [agent, own]


def test_scanner_finds_copies_up_to_case_punctuation_and_wrapping(data, tmp_path):
    index = Index(DatasetTexts(data).sentences(), min_words=5)
    (tmp_path / "a.yaml").write_text("x: 1\ntext: 'My PURPLE card where\n  is it'\nMove fifty dollars to\n")
    (tmp_path / "b.md").write_text("we said: please close the purple account now!\nswitch the kitchen lamp\n")
    (tmp_path / "c.bin").write_bytes(b"\0please close the purple account now")
    hits = scan(index, tmp_path, ["a.yaml", "b.md", "c.bin"])
    assert [(h.path, h.line, h.sentence.ref["set"]) for h in hits] == [("a.yaml", 2, "banking77"), ("b.md", 1, "banking77")]


def test_scanner_exit_code_and_output_names_references_not_text(data, tmp_path, capsys):
    (tmp_path / "ok.txt").write_text("nothing from the sets here at all\n")
    assert main(["--data", str(data), "--root", str(tmp_path), "ok.txt"]) == 0
    (tmp_path / "bad.txt").write_text("Move fifty dollars to my sister Kim please.\n")
    assert main(["--data", str(data), "--root", str(tmp_path), "bad.txt"]) == 1
    out = capsys.readouterr().out
    assert "bad.txt:1: sgd (sgd 1_001 turn 0, customer, 8 words)" in out and "sister" not in out


def test_a_match_does_not_span_two_strings_or_list_items(data, tmp_path):
    index = Index(DatasetTexts(data).sentences(), min_words=5)
    (tmp_path / "l.yaml").write_text("- please close the\n- purple account now\nx = ['please close the', 'purple account now']\n"
                                     'y = ["please close the", "purple account now"]\n')
    assert [h.line for h in scan(index, tmp_path, ["l.yaml"])] == [3]  # single quotes are apostrophes to the scanner


def test_reviewed_coincidences_are_counted_not_reported(data, tmp_path, capsys):
    (tmp_path / "faq.md").write_text("please close the purple account now\n")
    (tmp_path / "allowed.yaml").write_text("faq.md: [banking77 row 1]\n")
    args = ["--data", str(data), "--root", str(tmp_path), "--allowed", str(tmp_path / "allowed.yaml"), "faq.md"]
    assert main(args) == 0
    assert main([*args, "--all"]) == 0 and "faq.md:1: banking77 (banking77 row 1, customer, 6 words) allowed" in capsys.readouterr().out


def test_the_repository_holds_no_public_data_set_sentence():
    """Rule: ../shared/data is read in place, never copied into the repo (bench/dataset_copies.py over every
    tracked file; common short wording reviewed by hand is listed in bench/dataset_copies_allowed.yaml)."""
    from bench.dataset_refs import default_data_dir

    data = default_data_dir()
    if not (data / "banking77" / "train.csv").is_file():
        pytest.skip(f"the public data sets are not at {data} (BANK_NLU__SHARED_DATA_DIR)")
    assert main(["--data", str(data)]) == 0
