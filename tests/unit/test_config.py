"""Settings: placeholder secrets are refused outside dev, with the setting named."""

import subprocess
import sys

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
    assert Settings(admin_token="change-me", _env_file=None).admin_token == "change-me"


@pytest.mark.parametrize("field,value,named", [
    ("admin_token", "change-me", "BANK_ADMIN_TOKEN"),
    ("admin_token", "short-but-random-7Hq", "BANK_ADMIN_TOKEN"),
    ("twilio_auth_token", "your-twilio-token-goes-here", "BANK_TWILIO_AUTH_TOKEN"),
    ("database_url", "postgresql://bank:changeme@db:5432/bank", "BANK_DATABASE_URL"),
    ("redis_url", "redis://:password@redis:6379/0", "BANK_REDIS_URL"),
    ("cors_origins", ["*"], "BANK_CORS_ORIGINS"),
    ("audit_key", None, "BANK_AUDIT_KEY"),
    ("audit_key", "change-me-audit-key-0123456789abcdef", "BANK_AUDIT_KEY"),
    ("audit_key", "Kj83hd92Lq0zPwV1", "BANK_AUDIT_KEY"),
])
def test_production_refuses_placeholders(field, value, named):
    with pytest.raises(ValidationError) as err:
        Settings(environment="production", **{field: value}, _env_file=None)
    assert named in str(err.value)


def test_production_accepts_real_secrets():
    s = Settings(environment="production", admin_token=GOOD_TOKEN, twilio_auth_token=GOOD_TOKEN[::-1], _env_file=None, audit_key=GOOD_TOKEN[::-1],
                 database_url="postgresql://bank:Kj83hd92Lq0zPwV1@db:5432/bank", cors_origins=["https://bank.example"])
    assert s.environment == "production"


def test_cli_names_the_bad_setting_without_a_traceback(tmp_path):
    env = {"BANK_ENVIRONMENT": "production", "BANK_ADMIN_TOKEN": "change-me", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "assistant.cli", "audit", "verify"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "BANK_ADMIN_TOKEN" in r.stderr and "Traceback" not in r.stderr


def test_quote_settings_are_read_and_bounded(monkeypatch):
    from assistant.services import pipeline_config

    monkeypatch.setenv("BANK_QUOTE_SENTENCES", "2")
    cfg = pipeline_config(Settings(_env_file=None))
    assert cfg.quote_sentences == 2 and cfg.quote_context_margin == 0.15
    monkeypatch.setenv("BANK_QUOTE_SENTENCES", "0")
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None)
    assert "quote_sentences" in str(err.value)
