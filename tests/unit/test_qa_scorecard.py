"""The scorecard loads, and a malformed one is refused with the line that is wrong."""

import pytest

from assistant.qa.deciders import known_checks
from assistant.qa.scorecard import DEFAULT_SCORECARD, AppliesTo, Method, ScorecardError, parse_scorecard
from assistant.qa.scorer import load_default

TEXT = DEFAULT_SCORECARD.read_text()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def test_the_default_scorecard_has_the_issue_items():
    card = load_default()
    assert card.key == "default-v1"
    ids = {i.id for i in card.items}
    assert {"greeting", "polite_close", "identity_before_account", "no_secret_request", "no_unallowed_promise",
            "required_disclosures", "empathy", "resolution_or_next_step", "cited_sources", "figures_in_citations",
            "handoff_reason"} <= ids
    assert {i.applies_to for i in card.items} == {AppliesTo.BOT, AppliesTo.AGENT, AppliesTo.BOTH}
    assert {i.decided_by for i in card.items} >= {Method.RULE, Method.EMBEDDING}


@pytest.mark.parametrize("old, new, field", [
    ("    weight: 15\n    applies_to: both\n    decided_by: rule\n    check: no_secret_request",
     "    weight: -3\n    applies_to: both\n    decided_by: rule\n    check: no_secret_request", "weight: -3"),
    ("    applies_to: agent\n    decided_by: embedding\n    check: greeting",
     "    applies_to: robots\n    decided_by: embedding\n    check: greeting", "applies_to: robots"),
    ("    check: handoff_reason", "    check: handoff_reasons", "check: handoff_reasons"),
    ("    decided_by: rule\n    check: cited_sources", "    decided_by: llm\n    check: cited_sources", "decided_by: llm\n    check: cited"),
    ("  - id: polite_close", "  - id: greeting", "id: greeting"),
])
def test_a_malformed_scorecard_is_refused_with_its_line(old, new, field):
    assert old in TEXT
    bad = TEXT.replace(old, new, 1)
    with pytest.raises(ScorecardError) as err:
        parse_scorecard(bad, "bad.yaml", known_checks=known_checks())
    occurrence = 2 if field == "id: greeting" else 1
    expected = line_of(bad, field, occurrence)
    if field == "id: greeting":  # a duplicate id is the scorecard's problem: reported at its items
        assert "appears twice" in str(err.value)
        return
    assert err.value.line == expected, str(err.value)
    assert f"bad.yaml line {expected}" in str(err.value)


def test_broken_yaml_names_its_line():
    with pytest.raises(ScorecardError) as err:
        parse_scorecard("name: x1\nversion: 1\nitems:\n  - id: [oops\n", "broken.yaml")
    assert err.value.line is not None and "not valid YAML" in str(err.value)


def test_bankassist_qa_check_names_the_wrong_line(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad-v2.yaml"
    bad.write_text(TEXT.replace("pass_mark: 80", "pass_mark: 180"))
    run = subprocess.run([sys.executable, "-m", "assistant.cli", "qa", "check", str(bad)], capture_output=True, text=True,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "BANK_STORAGE__DATA_DIR": str(tmp_path)})
    assert run.returncode == 2 and f"bad-v2.yaml line {line_of(TEXT, 'pass_mark: 80')} (pass_mark)" in run.stderr, run.stderr
    good = subprocess.run([sys.executable, "-m", "assistant.cli", "qa", "check", str(DEFAULT_SCORECARD)], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "BANK_STORAGE__DATA_DIR": str(tmp_path)})
    assert good.returncode == 0 and "default-v1, 11 items" in good.stdout
