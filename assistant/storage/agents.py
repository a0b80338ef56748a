"""Agent accounts (argon2 password hashes) and their bearer-token sessions."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from assistant.auth.passwords import check_password
from assistant.auth.roles import Role, allows, format_roles, parse_roles
from assistant.storage.models import Agent, AgentSession, utcnow
from assistant.storage.repository import token_digest

_hasher = PasswordHasher()


class AgentExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AgentView:
    """A staff account as routes see it (agents, supervisors, reviewers, editors, admins)."""

    id: int
    username: str
    display_name: str
    roles: frozenset[Role]

    @property
    def role(self) -> str:
        return format_roles(self.roles)

    def may(self, *accepted: Role) -> bool:
        return allows(self.roles, accepted)

    @classmethod
    def of(cls, a: Agent) -> AgentView:
        return cls(a.id, a.username, a.display_name, parse_roles(a.role))


class AgentRepository:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def add(self, username: str, password: str, *, display_name: str | None = None,
            role: str | Iterable[str] = "agent") -> AgentView:
        """A new account with one or more roles; WeakPassword or UnknownRole (ValueErrors) on bad input."""
        roles = parse_roles(role)
        check_password(password, username=username)
        try:
            with self._sessions.begin() as s:
                a = Agent(username=username, display_name=display_name or username, role=format_roles(roles),
                          password_hash=_hasher.hash(password))
                s.add(a)
                s.flush()
                return AgentView.of(a)
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
            return None if a.disabled else AgentView.of(a)

    def set_password(self, username: str, password: str) -> bool:
        """Change a password (policy checked); the agent's open sessions end. False: no such agent."""
        check_password(password, username=username)
        digest = _hasher.hash(password)
        with self._sessions.begin() as s:
            a = s.scalars(select(Agent).where(Agent.username == username)).first()
            if a is None:
                return False
            a.password_hash = digest
            s.execute(delete(AgentSession).where(AgentSession.agent_id == a.id))
            return True

    def set_disabled(self, username: str, disabled: bool = True) -> bool:
        """Disable (no login; its tokens are deleted, so live sockets close at their next check) or enable."""
        with self._sessions.begin() as s:
            a = s.scalars(select(Agent).where(Agent.username == username)).first()
            if a is None:
                return False
            s.execute(update(Agent).where(Agent.id == a.id).values(disabled=disabled))
            if disabled:
                s.execute(delete(AgentSession).where(AgentSession.agent_id == a.id))
            return True

    def set_roles(self, username: str, roles: Iterable[str]) -> AgentView | None:
        """Replace an account's roles (UnknownRole on a bad name); None: no such account."""
        parsed = parse_roles(roles)
        with self._sessions.begin() as s:
            a = s.scalars(select(Agent).where(Agent.username == username)).first()
            if a is None:
                return None
            a.role = format_roles(parsed)
            return AgentView.of(a)

    def all(self) -> list[tuple[AgentView, bool]]:
        """Every staff account with its disabled flag, by username."""
        with self._sessions() as s:
            return [(AgentView.of(a), a.disabled) for a in s.scalars(select(Agent).order_by(Agent.username))]

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
            return None if a is None or a.disabled else AgentView.of(a)

    def revoke(self, token: str) -> None:
        """Log out: the token's row is deleted, so every API process refuses it from now on."""
        with self._sessions.begin() as s:
            s.execute(delete(AgentSession).where(AgentSession.token_hash == token_digest(token)))
