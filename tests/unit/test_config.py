"""Settings: placeholder secrets are refused outside dev, with the setting named."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.config import Settings, is_placeholder

GOOD_TOKEN = "hK3_2jd8ZqP0xLm1vB7nQ9wRtY4uE6aS"


@pytest.mark.parametrize("value", ["change-me", "CHANGEME", "<your-admin-token>", "${ADMIN_TOKEN}", "secret",
                                   "xxxxxxxxxxxxxxxxxxxxxxxxxx", "dev-admin-token-please-change", "example-token"])
def test_placeholders_are_recognised(value):
    assert is_placeholder(value)


def test_random_tokens_are_not_placeholders():
    assert not is_placeholder(GOOD_TOKEN) and not is_placeholder("Kj83hd92Lq0zPwV1")


def test_dev_accepts_placeholders():
    assert Settings(_env_file=None, security={"admin_token": "change-me"}).security.admin_token == "change-me"


@pytest.mark.parametrize("section,field,value,named", [
    ("security", "admin_token", "change-me", "BANK_SECURITY__ADMIN_TOKEN"),
    ("security", "admin_token", "short-but-random-7Hq", "BANK_SECURITY__ADMIN_TOKEN"),
    ("voice", "twilio_auth_token", "your-twilio-token-goes-here", "BANK_VOICE__TWILIO_AUTH_TOKEN"),
    ("storage", "database_url", "postgresql://bank:changeme@db:5432/bank", "BANK_STORAGE__DATABASE_URL"),
    ("redis", "url", "redis://:password@redis:6379/0", "BANK_REDIS__URL"),
    ("security", "cors_origins", ["*"], "BANK_SECURITY__CORS_ORIGINS"),
    ("audit", "key", None, "BANK_AUDIT__KEY"),
    ("audit", "key", "change-me-audit-key-0123456789abcdef", "BANK_AUDIT__KEY"),
    ("audit", "key", "Kj83hd92Lq0zPwV1", "BANK_AUDIT__KEY"),
])
def test_production_refuses_placeholders(section, field, value, named):
    with pytest.raises(ValidationError) as err:
        Settings(environment="production", **{section: {field: value}}, _env_file=None)
    assert named in str(err.value)


def test_production_accepts_real_secrets():
    s = Settings(environment="production", _env_file=None,
                 security={"admin_token": GOOD_TOKEN, "cors_origins": ["https://bank.example"]},
                 voice={"twilio_auth_token": GOOD_TOKEN[::-1]}, audit={"key": GOOD_TOKEN[::-1]},
                 storage={"database_url": "postgresql://bank:Kj83hd92Lq0zPwV1@db:5432/bank"})
    assert s.environment == "production"


def test_cli_names_the_bad_setting_without_a_traceback(tmp_path):
    root = str(Path(__file__).resolve().parents[2])  # this checkout, not whichever one is installed
    env = {"BANK_ENVIRONMENT": "production", "BANK_SECURITY__ADMIN_TOKEN": "change-me", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": root}
    r = subprocess.run([sys.executable, "-m", "assistant.cli", "audit", "verify"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "BANK_SECURITY__ADMIN_TOKEN" in r.stderr and "Traceback" not in r.stderr


def test_quote_settings_are_read_and_bounded(monkeypatch):
    monkeypatch.setenv("BANK_ANSWERING__QUOTE_SENTENCES", "2")
    cfg = Settings(_env_file=None).answering
    assert cfg.quote_sentences == 2 and cfg.quote_context_margin == 0.15
    monkeypatch.setenv("BANK_ANSWERING__QUOTE_SENTENCES", "0")
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None)
    assert "quote_sentences" in str(err.value)


def test_nested_variables_reach_their_section(monkeypatch):
    monkeypatch.setenv("BANK_VOICE__SILENCE_REPROMPT_S", "5.5")
    monkeypatch.setenv("BANK_ANSWERING__TOPIC_WORDS", "7")  # a knob the pipeline had no setting for
    monkeypatch.setenv("BANK_ANSWERING__QUOTE_CATEGORIES", '["regulation", "faq"]')
    monkeypatch.setenv("BANK_SECURITY__CORS_ORIGINS", '["https://bank.example"]')
    s = Settings(_env_file=None)
    assert s.voice.silence_reprompt_s == 5.5 and s.answering.topic_words == 7
    assert s.answering.quote_categories == ("regulation", "faq")
    assert s.security.cors_origins == ["https://bank.example"]
    assert s.answering.follow_up_margin == 0.05 and s.answering.topic_relevance == 0.25  # one default each


def test_an_unknown_name_in_a_section_is_refused(monkeypatch):
    monkeypatch.setenv("BANK_VOICE__SILENCE_REPROMPT", "5")  # "_S" missing
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None)
    assert "silence_reprompt" in str(err.value)


def test_an_old_flat_name_is_refused_with_the_new_one(monkeypatch):
    monkeypatch.setenv("BANK_VOICE_SILENCE_REPROMPT_S", "5")
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None)
    assert "BANK_VOICE_SILENCE_REPROMPT_S is now BANK_VOICE__SILENCE_REPROMPT_S" in str(err.value)


def test_changed_copies_with_values_named_like_the_variables():
    s = Settings(_env_file=None)
    t = s.changed(voice__telephony=False, bank_name="Other Bank")
    assert not t.voice.telephony and t.bank_name == "Other Bank" and s.voice.telephony
    assert t.voice.enabled == s.voice.enabled
    with pytest.raises(KeyError):
        s.changed(voice__no_such_field=1)
    with pytest.raises(KeyError):
        s.changed(voice_telephony=False)


def test_the_pipeline_takes_its_section_as_is():
    from assistant.core.pipeline import DialoguePipeline

    s = Settings(_env_file=None, answering={"topic_relevance": 0.5}, bank_name="Other Bank")
    p = DialoguePipeline(knowledge=None, generator=None, conversations=None, config=s.answering, bank_name=s.bank_name)
    assert p.cfg is s.answering and p.answerer.cfg is s.answering and "Other Bank" in p.system_prompt()


def test_an_unknown_or_old_keyword_is_refused_not_ignored():
    with pytest.raises(TypeError, match="agent_transfer_number"):
        Settings(_env_file=None, agent_transfer_number="+15550100")  # now handoff={"agent_transfer_number": ...}
