"""Robot credentials: issued once by an admin command, stored as sha256 of a random token.

sha256 (not argon2) is enough here: the token is 256 random bits, not a human password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.storage.db import read_async
from assistant.storage.models import Robot
from assistant.storage.repository import token_digest


class RobotExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class RobotView:
    id: int
    name: str
    branch_id: str


class RobotRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def add(self, name: str, branch_id: str) -> tuple[RobotView, str]:
        token = "rbt_" + secrets.token_urlsafe(32)
        try:
            with self._sessions.begin() as s:
                r = Robot(name=name, branch_id=branch_id, token_hash=token_digest(token))
                s.add(r)
                s.flush()
                return RobotView(r.id, r.name, r.branch_id), token
        except IntegrityError as exc:
            raise RobotExists(name) from exc

    def resolve(self, token: str) -> RobotView | None:
        with self._sessions() as s:
            r = s.scalars(select(Robot).where(Robot.token_hash == token_digest(token), Robot.revoked.is_(False))).first()
            return RobotView(r.id, r.name, r.branch_id) if r else None

    async def resolve_async(self, token: str) -> RobotView | None:
        return await read_async(self._sessions, self.resolve, token)

    def revoke(self, name: str) -> bool:
        with self._sessions.begin() as s:
            return bool(s.execute(update(Robot).where(Robot.name == name).values(revoked=True)).rowcount)
