"""The issue-29 evaluation plan: fixed splits, the domain-free rule, and test sets apart from training."""

from finetune.intent import external as X
from finetune.intent.data import HUMAN_TEST_FILE, load_yaml_lists, normalise
from finetune.intent.human_templates import human_positives
from finetune.intent.signals import FRESH_HUMAN_FILE


def test_splits_are_a_fixed_function_of_the_text():
    assert X.bucket("Send it to Amir.") == X.bucket("Send it to Amir.") and 0 <= X.bucket("x") < 100
    rows = [X.Labelled(f"turn {i}", "sgd:x", "test") for i in range(50)]
    assert [r.text for r in X.pick(rows, "test", limit=5)] == [r.text for r in X.pick(list(reversed(rows)), "test", limit=5)]


def test_domain_free_turns_are_kept_not_refused():
    for text in ("Yes please, that's all.", "No, thanks, that was a great help.", "Till March 11th.", "Ok."):
        assert X.domain_free(text), text
    for text in ("I need a cab", "book me a table for four tonight", "Send it to Amir."):
        assert not X.domain_free(text), text


def test_human_test_sets_share_no_line_with_the_training_templates():
    """Short templates ("operator") can coincide with a test line: signals.human_data drops them."""
    from finetune.intent.signals import human_data

    fresh, old = load_yaml_lists(FRESH_HUMAN_FILE), load_yaml_lists(HUMAN_TEST_FILE)
    tests = {normalise(t) for sets in (fresh, old) for group in sets.values() for t in group}
    assert any(normalise(t) in tests for t in human_positives(["where is my new card"]))  # the filter has work to do
    data = human_data(["why was my card declined", "where is my new card"], seed=13, unseen=tests)
    trained = data.pos_train + data.neg_train + data.pos_val + data.neg_val
    assert trained and not [t for t in trained if normalise(t) in tests]
    assert len(fresh["positive"]) >= 100 and len(fresh["negative"]) >= 40
