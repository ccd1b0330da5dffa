"""The records of console accounts, their sessions and the audit log.

What the rest of the hub sees of the ``agents``, ``agent_sessions`` and
``audit_log`` rows (never a password hash outside :class:`AgentCredentials`),
shared by the repository's parts in :mod:`bot.auth`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.db.models import Agent, aware

agents = Agent.__table__

#: Console roles. Admins may do everything; agents handle chats; trainers
#: improve the assistant.
ROLES = ("agent", "trainer", "admin")
#: Roles that take chats: only they may hold a conversation or a promise.
CHAT_ROLES = ("agent", "admin")
PRESENCES = ("online", "away", "offline")


@dataclass(frozen=True)
class AgentRecord:
    """A console account as the rest of the hub sees it (no secrets)."""

    id: int
    email: str
    name: str
    role: str
    active: bool
    presence: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None = None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the account in API answers."""
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
        }


@dataclass(frozen=True)
class AgentCredentials:
    """What signing in needs: the account, its hash and its throttle state."""

    agent: AgentRecord
    password_hash: str
    failed_logins: int
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class SessionRecord:
    """A console session row."""

    id: str
    agent_id: int
    csrf_token: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log: who did what to what, and when."""

    id: int
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any]
    created_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the entry in API answers."""
        return {
            "id": self.id,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "detail": self.detail,
            "at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class OpenWork:
    """What an account holds now: chats it has claimed, promises it owns."""

    chats: int
    follow_ups: int


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-case."""
    return email.strip().lower()


def agent_record(row: Any) -> AgentRecord:
    """The record of an ``agents`` row read with :data:`AGENT_COLUMNS`."""
    return AgentRecord(
        id=row.id,
        email=row.email,
        name=row.name,
        role=row.role,
        active=bool(row.active),
        presence=row.presence,
        created_at=aware(row.created_at),
        last_login_at=aware(row.last_login_at),
    )


#: The columns of an :class:`AgentRecord` (no secrets).
AGENT_COLUMNS = (
    agents.c.id,
    agents.c.email,
    agents.c.name,
    agents.c.role,
    agents.c.active,
    agents.c.presence,
    agents.c.created_at,
    agents.c.last_login_at,
)
