"""`bankassist sandbox ...`: reset, customers, token (dev only), outbox, ledger."""

from __future__ import annotations

import json

import pytest

from assistant.banking.identity import IdentityVerifier, SqlReplayStore
from assistant.cli import main
from assistant.config import Settings
from assistant.storage.db import make_engine, migrate, session_factory


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("BANK_ENVIRONMENT", "BANK_SANDBOX__DATABASE_URL", "BANK_SANDBOX__DATA_DIR", "BANK_IDENTITY__JWKS_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANK_STORAGE__DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    return tmp_path


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_reset_customers_ledger_outbox(env, capsys):
    assert main(["sandbox", "reset"]) == 0
    assert (env / "sandbox" / "jwks.json").exists()
    capsys.readouterr()
    customers = run_json(capsys, "sandbox", "customers", "--json")
    assert {c["id"] for c in customers} == {"cus_alex", "cus_priya", "cus_jordan"}
    alex = next(c for c in customers if c["id"] == "cus_alex")
    assert {a["type"] for a in alex["accounts"]} == {"checking", "savings"} and "Maria Lopez" in alex["payees"]
    ledger = run_json(capsys, "sandbox", "ledger", "cus_alex", "--json")
    assert len(ledger["accounts"]) == 2 and len(ledger["transactions"]) == 10
    assert all(isinstance(a["balance"]["amount_cents"], int) for a in ledger["accounts"])
    assert run_json(capsys, "sandbox", "outbox", "cus_alex", "--json") == []
    assert main(["sandbox", "ledger", "cus_nobody", "--json"]) == 2
    assert "no customer" in capsys.readouterr().err


def test_token_verifies_with_the_assistants_settings(env, capsys):
    assert main(["sandbox", "token", "cus_priya", "--conversation", "conv-9"]) == 0
    token = capsys.readouterr().out.strip()
    settings = Settings(_env_file=None)
    engine = make_engine(settings.sqlalchemy_url)
    migrate(engine)
    verifier = IdentityVerifier(jwks_path=settings.jwks_path, issuer=settings.identity.issuer,
                                audience=settings.identity.audience, replay_store=SqlReplayStore(session_factory(engine)))
    assert verifier.verify(token, "conv-9").customer_id == "cus_priya"
    out = run_json(capsys, "sandbox", "token", "cus_alex", "--json")
    assert out["conversation_id"] and out["assertion"].count(".") == 2
    assert main(["sandbox", "token", "cus_nobody"]) == 2


def test_token_refused_in_production(env, capsys, monkeypatch):
    monkeypatch.setenv("BANK_ENVIRONMENT", "production")
    for name in ("BANK_AUDIT__KEY", "BANK_VOICE__TWILIO_AUTH_TOKEN"):  # the other production secrets, so only the dev gate refuses
        monkeypatch.setenv(name, "Zq4_vR8xLm2TpW6kHs9dNc3bYf7gJa5e")
    assert main(["sandbox", "token", "cus_alex"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "development only" in captured.err
