"""Agent accounts (argon2 password hashes) and their bearer-token sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.storage.models import Agent, AgentSession, utcnow
from assistant.storage.repository import token_digest

_hasher = PasswordHasher()


class AgentExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AgentView:
    id: int
    username: str
    display_name: str
    role: str


class AgentRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def add(self, username: str, password: str, *, display_name: str | None = None, role: str = "agent") -> AgentView:
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        try:
            with self._sessions.begin() as s:
                a = Agent(username=username, display_name=display_name or username, role=role,
                          password_hash=_hasher.hash(password))
                s.add(a)
                s.flush()
                return AgentView(a.id, a.username, a.display_name, a.role)
        except IntegrityError as exc:
            raise AgentExists(username) from exc

    def authenticate(self, username: str, password: str) -> AgentView | None:
        with self._sessions() as s:
            a = s.scalars(select(Agent).where(Agent.username == username)).first()
            if a is None:
                _hasher.hash(password)  # same cost either way: no user enumeration by timing
                return None
            try:
                _hasher.verify(a.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return AgentView(a.id, a.username, a.display_name, a.role)

    def issue_token(self, agent_id: int, ttl: timedelta = timedelta(hours=12)) -> str:
        token = secrets.token_urlsafe(32)
        with self._sessions.begin() as s:
            s.execute(delete(AgentSession).where(AgentSession.expires_at < utcnow()))
            s.add(AgentSession(token_hash=token_digest(token), agent_id=agent_id, expires_at=utcnow() + ttl))
        return token

    def resolve(self, token: str) -> AgentView | None:
        with self._sessions() as s:
            row = s.get(AgentSession, token_digest(token))
            if row is None:
                return None
            expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=utcnow().tzinfo)
            if expires < utcnow():
                return None
            a = s.get(Agent, row.agent_id)
            return AgentView(a.id, a.username, a.display_name, a.role)

    def revoke(self, token: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(AgentSession).where(AgentSession.token_hash == token_digest(token)))
