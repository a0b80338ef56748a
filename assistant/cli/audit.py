"""`bankassist audit verify|anchor|purge`: the HMAC-chained audit trail."""

from __future__ import annotations

import argparse
import sys

from assistant.config import Settings


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from assistant.services import build_repositories

    audit = build_repositories(settings).audit
    if args.audit_command == "anchor":
        try:
            a = audit.anchor()
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"anchored record {a.record_id} ({a.count} records) at {a.at}: {a.hash} -> {settings.audit_anchors_path}")
        return 0
    if args.audit_command == "purge":
        days = args.older_than_days if args.older_than_days is not None else settings.audit.retention_days
        print(f"purged {audit.purge(timedelta(days=days))} records older than {days} days")
    result = audit.verify()
    print(f"audit chain {'OK' if result.ok else 'BROKEN'}: {result.checked} records verified, "
          f"{result.anchors} anchors checked" + (f"; {result.problem}" if result.problem else ""))
    if result.legacy:
        print(f"note: the first {result.legacy} records predate the audit key (plain sha256 links)")
    return 0 if result.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="HMAC-chained audit trail").add_subparsers(dest="audit_command", required=True)
    audit.add_parser("verify", help="detect any edited, inserted or deleted record (key + anchors)").set_defaults(func=_audit)
    audit.add_parser("anchor", help="append the chain's head to the anchors file (run it periodically)").set_defaults(func=_audit)
    p = audit.add_parser("purge", help="drop records past retention; the chain stays verifiable")
    p.add_argument("--older-than-days", type=int, help="default: BANK_AUDIT__RETENTION_DAYS")
    p.set_defaults(func=_audit)
