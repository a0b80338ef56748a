"""The YAML files read at start-up are validated: a bad one is refused naming its line and field."""

from pathlib import Path

import pytest

from assistant.config.yaml_files import CannedReplies, YamlConfigError, load_yaml_model
from assistant.handoff.policy import DEFAULT_POLICY, HandoffPolicy
from assistant.services import load_canned


def _policy(tmp_path: Path, old: str, new: str, name: str = "policy.yaml") -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_shipped_policy_is_what_runs():
    policy = HandoffPolicy.load()
    assert policy.weak_retrieval == 0.40 and policy.low_confidence_threshold == 0.45  # the YAML's values
    assert policy.consecutive_low_confidence == 2 and policy.expected_handle_minutes == 4
    assert "lost_or_stolen_card" in policy.urgent_intents and "cancel_transfer" in policy.unsupported_actions


def test_a_wrong_value_is_refused_at_its_line(tmp_path):
    path = _policy(tmp_path, "weak_retrieval: 0.40", "weak_retrieval: high")
    with pytest.raises(YamlConfigError) as err:
        HandoffPolicy.load(path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "weak_retrieval" in t)
    assert err.value.line == line and err.value.where == "low_confidence.weak_retrieval"
    assert f"policy.yaml line {line} (low_confidence.weak_retrieval)" in str(err.value)


def test_an_unknown_or_missing_key_is_refused(tmp_path):
    with pytest.raises(YamlConfigError, match="frustration_treshold"):
        HandoffPolicy.load(_policy(tmp_path, "frustration_threshold:", "frustration_treshold:"))
    with pytest.raises(YamlConfigError, match="frustration_threshold.*Field required"):
        HandoffPolicy.load(_policy(tmp_path, "frustration_threshold: 0.7", "# none", "missing.yaml"))


def test_a_threshold_out_of_range_and_broken_yaml_are_refused(tmp_path):
    with pytest.raises(YamlConfigError, match="urgent_confidence"):
        HandoffPolicy.load(_policy(tmp_path, "urgent_confidence: 0.6", "urgent_confidence: 6"))
    bad = tmp_path / "broken.yaml"
    bad.write_text("explicit_request: [true\n", encoding="utf-8")
    with pytest.raises(YamlConfigError, match="not valid YAML"):
        HandoffPolicy.load(bad)


def test_canned_replies_are_a_list_of_strings(tmp_path):
    assert load_canned(Path(__file__).resolve().parents[2] / "assistant" / "handoff" / "canned.yaml")
    bad = tmp_path / "canned.yaml"
    bad.write_text('- "Hello"\n- {text: "Hi"}\n', encoding="utf-8")
    with pytest.raises(YamlConfigError) as err:
        load_yaml_model(bad, CannedReplies)
    assert err.value.line == 2 and err.value.where == "1"
