"""Intent training data: loading BANKING77-shaped files, our extra examples, splits, leaks."""

import json
from collections import Counter

import pytest

from finetune.intent.data import (
    ASSISTANT_INTENTS,
    EXTRA_FILE,
    EXTRA_INTENTS,
    TASK_INTENTS,
    DatasetError,
    Example,
    build_dataset,
    load_banking77,
    load_extra,
    load_held_out,
    load_yaml_lists,
    normalise,
    stratified_folds,
    stratified_split,
)


@pytest.fixture
def fake_b77(tmp_path):
    """A tiny folder shaped like ../shared/data/banking77."""
    d = tmp_path / "b77"
    d.mkdir()
    (d / "categories.json").write_text(json.dumps(["card_arrival", "exchange_rate"]))
    rows = ["text,category"]
    rows += [f'"where is my card, day {i}?",card_arrival' for i in range(20)]
    rows += [f"what is the rate for currency {i},exchange_rate" for i in range(20)]
    rows += [" ,exchange_rate"]  # blank text is skipped
    (d / "train.csv").write_text("\n".join(rows) + "\n")
    return d


def test_load_banking77(fake_b77):
    ex = load_banking77(fake_b77)
    assert len(ex) == 40 and {e.label for e in ex} == {"card_arrival", "exchange_rate"}
    assert ex[0].text == "where is my card, day 0?" and ex[0].source == "banking77"


def test_unknown_category_is_an_error(fake_b77):
    with (fake_b77 / "train.csv").open("a") as f:
        f.write("hello,not_a_label\n")
    with pytest.raises(DatasetError, match="unknown category 'not_a_label'"):
        load_banking77(fake_b77)


def test_missing_folder_names_the_setting(tmp_path):
    with pytest.raises(DatasetError, match="BANK_NLU__BANKING77_DIR"):
        load_banking77(tmp_path / "nowhere")


def test_split_is_stratified_disjoint_and_deterministic(fake_b77):
    ex = load_banking77(fake_b77)
    a = stratified_split(ex, test_frac=0.2, val_frac=0.1, seed=1)
    b = stratified_split(ex, test_frac=0.2, val_frac=0.1, seed=1)
    c = stratified_split(ex, test_frac=0.2, val_frac=0.1, seed=2)
    assert a == b and a != c
    assert Counter(e.label for e in a.test) == {"card_arrival": 4, "exchange_rate": 4}
    assert Counter(e.label for e in a.val) == {"card_arrival": 2, "exchange_rate": 2}
    texts = [e.text for e in a.train + a.val + a.test]
    assert len(texts) == len(set(texts)) == 40


def test_a_task_label_leaves_the_other_labels_split_alone():
    rows = [Example(f"{label} {i}", label, "banking77") for label in ("card_arrival", "exchange_rate") for i in range(20)]
    before = stratified_split(rows, test_frac=0.2, val_frac=0.1, seed=5)
    task = [Example(f"balance {i}", TASK_INTENTS[0], "extra") for i in range(20)]
    after = stratified_split(rows + task, test_frac=0.2, val_frac=0.1, seed=5)
    assert [e for e in after.test if e.label != TASK_INTENTS[0]] == list(before.test)


def test_folds_partition_and_balance():
    labels = ["a"] * 10 + ["b"] * 5
    folds = stratified_folds(labels, 5, seed=0)
    assert sorted(i for f in folds for i in f) == list(range(15))
    assert all(Counter(labels[i] for i in f) == {"a": 2, "b": 1} for f in folds)


def test_build_dataset_adds_assistant_intents(fake_b77):
    splits, labels = build_dataset(fake_b77, seed=3)
    assert labels[:2] == ["card_arrival", "exchange_rate"] and labels[2:] == list(EXTRA_INTENTS)
    assert {e.label for e in splits.train} == set(labels)


def test_extra_file_rejects_unknown_intents(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("greeting: [hi, hello, Hi!]\nsmalltalk: [yo]\n")
    with pytest.raises(DatasetError, match="smalltalk"):
        load_extra(f)
    f.write_text("greeting: [hi, hello, Hi!]\n")
    assert [e.text for e in load_extra(f)] == ["hi", "hello"]  # "Hi!" duplicates "hi"


def test_held_out_lines_must_not_be_in_training(tmp_path):
    h, o = tmp_path / "h.yaml", tmp_path / "o.yaml"
    h.write_text("positive: [get me a person]\nnegative: [what is my balance]\n")
    o.write_text("out_of_scope: [how do I bake bread]\nin_scope: [hi]\n")
    sets = load_held_out(["something else"], human_file=h, ood_file=o)
    assert sets.human_positive == ("get me a person",) and sets.ood == ("how do I bake bread",)
    with pytest.raises(DatasetError, match="how do I bake bread"):
        load_held_out(["How do I bake bread?"], human_file=h, ood_file=o)


def test_committed_data_files_are_valid_and_separate():
    extra = load_extra(EXTRA_FILE)
    counts = Counter(e.label for e in extra)
    assert set(counts) == set(EXTRA_INTENTS) == set(ASSISTANT_INTENTS) | set(TASK_INTENTS)
    assert all(counts[task] >= 80 for task in TASK_INTENTS)
    assert counts["human_agent"] >= 150 and counts["out_of_scope"] >= 250 and sum(counts.values()) >= 600
    sets = load_held_out([e.text for e in extra])  # raises on any leak
    assert len(sets.human_positive) >= 100 and len(sets.human_negative) >= 100 and len(sets.ood) >= 100
    assert not {normalise(t) for t in sets.human_positive} & {normalise(t) for t in sets.human_negative}
    assert isinstance(load_yaml_lists(EXTRA_FILE)["greeting"][0], str)
