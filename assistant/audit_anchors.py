"""What keeps the audit chain honest from outside the database: its HMAC key and its anchors.

The key comes from BANK_AUDIT__KEY, else from a key file (created once with 32 random bytes,
mode 0600) so a development box works out of the box; production requires BANK_AUDIT__KEY.

An anchor is one JSON line appended to the anchors file by `bankassist audit anchor`:
the head record's id, its hash, how many records the chain held and when, MACed with the
key, e.g. {"at": "2026-01-01T00:00:00+00:00", "count": 812, "hash": "9f2c...", "id": 812, "mac": "..."}.
`audit verify` checks the chain against every anchor: a rewritten record no longer matches
its anchor, and a chain cut short ends before the latest anchor. Keep the file (or a copy of
each line, which the log also carries) where the database's writers cannot change it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class AuditKeyError(RuntimeError):
    pass


def load_key(key: str | None, key_file: Path, *, create: bool) -> bytes:
    """The chain's key: `key` when given, else the key file's bytes (made with 0600 if `create`)."""
    if key:
        return key.encode()
    try:
        data = key_file.read_bytes().strip()
    except FileNotFoundError:
        if not create:
            raise AuditKeyError(f"no audit key: set BANK_AUDIT__KEY or create {key_file}") from None
        key_file.parent.mkdir(parents=True, exist_ok=True)
        data = secrets.token_hex(32).encode()
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_key(None, key_file, create=False)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        log.warning("created the audit key file %s: back it up; without it the audit chain cannot be verified", key_file)
    if len(data) < 32:
        raise AuditKeyError(f"the audit key in {key_file} is shorter than 32 bytes")
    return data


@dataclass(frozen=True)
class Anchor:
    at: str
    record_id: int
    count: int
    hash: str

    def _fields(self) -> dict:
        return {"at": self.at, "id": self.record_id, "count": self.count, "hash": self.hash}


def _mac(key: bytes, fields: dict) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, b"anchor:" + body.encode(), hashlib.sha256).hexdigest()


class AnchorFile:
    """Append-only JSON lines; each line MACed with the chain's key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, key: bytes, *, record_id: int, count: int, head_hash: str) -> Anchor:
        anchor = Anchor(datetime.now(UTC).isoformat(timespec="seconds"), record_id, count, head_hash)
        line = {**anchor._fields(), "mac": _mac(key, anchor._fields())}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(json.dumps(line, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        log.info("audit anchor: record %d, %d records, head %s", record_id, count, head_hash)
        return anchor

    def read(self, key: bytes) -> list[Anchor]:
        """Every anchor; a line that is not valid or not MACed with `key` is an error, not skipped."""
        if not self.path.exists():
            return []
        anchors = []
        for n, raw in enumerate(self.path.read_text().splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                anchor = Anchor(str(line["at"]), int(line["id"]), int(line["count"]), str(line["hash"]))
                mac = str(line["mac"])
            except (ValueError, KeyError, TypeError) as exc:
                raise AuditKeyError(f"{self.path}, line {n}: not an anchor") from exc
            if not hmac.compare_digest(mac, _mac(key, anchor._fields())):
                raise AuditKeyError(f"{self.path}, line {n}: not signed with this audit key")
            anchors.append(anchor)
        return anchors
