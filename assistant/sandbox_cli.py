"""`bankassist sandbox ...`: run and inspect the sandbox core bank (docs/banking.md)."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

from assistant.config import Settings


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from assistant.banking.setup import sandbox_config
    from sandbox_bank.app import create_app

    uvicorn.run(create_app(sandbox_config(settings)), host=args.host, port=args.port or settings.sandbox.port,
                log_config=None, timeout_graceful_shutdown=5)
    return 0


def _show(settings: Settings, read: Callable[[Any, Any], Any], *, raw: bool = False) -> int:
    """Runs `read(session, sandbox_config)` on the sandbox's database (seeded if empty) and prints it:
    JSON, or as is with `raw`. An unknown customer is a one-line error, exit status 2."""
    from assistant.banking.setup import sandbox_config
    from sandbox_bank.app import ensure_seeded
    from sandbox_bank.db import Database
    from sandbox_bank.errors import BankError

    cfg = sandbox_config(settings)
    db = Database(cfg.sqlalchemy_url)
    try:
        ensure_seeded(db, cfg)
        with db.transaction() as s:
            result = read(s, cfg)
    except BankError as err:
        print(f"error: {err.detail}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(result if raw else json.dumps(result, indent=2, default=str))
    return 0


def _reset(settings: Settings, _: argparse.Namespace) -> int:
    from assistant.banking.setup import sandbox_config
    from sandbox_bank import identity, seed
    from sandbox_bank.db import Database

    cfg = sandbox_config(settings)
    db = Database(cfg.sqlalchemy_url)
    try:
        seed.reset(db, cfg)
    finally:
        db.dispose()
    identity.signing_key(cfg)
    print(f"sandbox bank reset: demo customers seeded; public keys in {cfg.jwks_path}")
    return 0


def _customers(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox_bank import admin

    if args.json:
        return _show(settings, lambda s, _cfg: admin.customers(s))

    def table(s, _cfg) -> str:
        return "\n".join(f"{c['id']:12s} {c['name']:14s} " + ", ".join(
            f"{a['type']} …{a['last4']} {a['balance_cents'] / 100:,.2f}" for a in c["accounts"])
            for c in admin.customers(s))

    return _show(settings, table, raw=True)


def _token(settings: Settings, args: argparse.Namespace) -> int:
    if settings.environment == "production":
        print("error: sandbox tokens are for development only (BANK_ENVIRONMENT=production)", file=sys.stderr)
        return 2
    from sandbox_bank import identity, views

    conversation = args.conversation or str(uuid.uuid4())

    def issue(s, cfg) -> Any:
        views.customer(s, args.customer_id)
        token = identity.issue_assertion(cfg, args.customer_id, conversation)
        return {"assertion": token, "conversation_id": conversation} if args.json else token

    return _show(settings, issue, raw=not args.json)  # raw: `$(bankassist sandbox token cus_alex)` in a shell


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox_bank import admin

    return _show(settings, lambda s, _cfg: admin.outbox(s, args.customer_id))


def _ledger(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox_bank import admin

    return _show(settings, lambda s, cfg: admin.ledger(s, args.customer_id, cfg.now().date(), latest=args.latest))


def register(sub: argparse._SubParsersAction) -> None:
    """Adds `sandbox` and its commands to the `bankassist` parser."""
    sandbox = sub.add_parser("sandbox", help="the sandbox core bank (dev)").add_subparsers(
        dest="sandbox_command", required=True)
    p = sandbox.add_parser("serve", help="run the sandbox bank's REST API (docs/banking-api.yaml)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, help="default: BANK_SANDBOX__PORT (8100)")
    p.set_defaults(func=_serve)
    sandbox.add_parser("reset", help="drop everything and seed the demo customers again").set_defaults(func=_reset)
    p = sandbox.add_parser("customers", help="demo customers with accounts, payees and cards")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_customers)
    p = sandbox.add_parser("token", help="a signed identity assertion for a customer (dev only)")
    p.add_argument("customer_id")
    p.add_argument("--conversation", help="conversation id the assertion is bound to (default: a new one)")
    p.add_argument("--json", action="store_true", help="print {assertion, conversation_id}")
    p.set_defaults(func=_token)
    for name, func, text in (("outbox", _outbox, "one-time codes the sandbox 'sent' to a customer, newest first"),
                             ("ledger", _ledger, "a customer's accounts, balances and latest transactions")):
        p = sandbox.add_parser(name, help=text)
        p.add_argument("customer_id")
        p.add_argument("--json", action="store_true", help="(the output is JSON either way)")
        if name == "ledger":
            p.add_argument("--latest", type=int, default=10, help="transactions and transfers shown")
        p.set_defaults(func=func)
