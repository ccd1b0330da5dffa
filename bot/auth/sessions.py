"""Console sessions: rows keyed by the SHA-256 of the token in the cookie.

A leaked database does not leak live sessions, and every hub instance sees a
logout at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from bot.auth.records import AGENT_COLUMNS, AgentRecord, SessionRecord, agents
from bot.db.models import AgentSession, aware
from bot.db.repository import Repository

agent_sessions = AgentSession.__table__


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        agent_id=row.agent_id,
        csrf_token=row.csrf_token,
        created_at=aware(row.created_at),
        last_seen_at=aware(row.last_seen_at),
        expires_at=aware(row.expires_at),
        ip=row.ip,
        user_agent=row.user_agent,
    )


class SessionStore(Repository):
    """Reads and writes ``agent_sessions`` (part of the auth repository)."""

    async def create_session(self, session: SessionRecord) -> None:
        """Insert a session row."""
        await self.write(
            agent_sessions.insert().values(
                id=session.id,
                agent_id=session.agent_id,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
                ip=session.ip,
                user_agent=session.user_agent,
            )
        )

    async def get_session(
        self, session_id: str
    ) -> tuple[SessionRecord, AgentRecord] | None:
        """Return the session and its account, or ``None``."""
        columns = [c.label(f"account_{c.name}") for c in AGENT_COLUMNS]
        row = await self.first(
            sa.select(agent_sessions, *columns)
            .join(agents, agents.c.id == agent_sessions.c.agent_id)
            .where(agent_sessions.c.id == session_id)
        )
        if row is None:
            return None
        mapping = row._mapping
        agent = AgentRecord(
            id=mapping["account_id"],
            email=mapping["account_email"],
            name=mapping["account_name"],
            role=mapping["account_role"],
            active=bool(mapping["account_active"]),
            presence=mapping["account_presence"],
            created_at=aware(mapping["account_created_at"]),
            last_login_at=aware(mapping["account_last_login_at"]),
        )
        return _session(row), agent

    async def touch_session(self, session_id: str, seen_at: dt.datetime) -> None:
        """Record that the session was used at ``seen_at``."""
        await self.write(
            agent_sessions.update()
            .where(agent_sessions.c.id == session_id)
            .values(last_seen_at=seen_at)
        )

    async def delete_session(self, session_id: str) -> None:
        """Delete the session (a no-op if it is gone already)."""
        await self.write(
            agent_sessions.delete().where(agent_sessions.c.id == session_id)
        )

    async def delete_sessions_of(self, agent_id: int) -> None:
        """Delete every session of the account."""
        await self.write(
            agent_sessions.delete().where(agent_sessions.c.agent_id == agent_id)
        )

    async def delete_expired_sessions(self, agent_id: int, now: dt.datetime) -> None:
        """Delete the account's sessions whose absolute lifetime has ended."""
        await self.write(
            agent_sessions.delete()
            .where(agent_sessions.c.agent_id == agent_id)
            .where(agent_sessions.c.expires_at <= now)
        )

    async def has_sessions(self, agent_id: int) -> bool:
        """Whether the account has any session left."""
        row = await self.first(
            sa.select(agent_sessions.c.id)
            .where(agent_sessions.c.agent_id == agent_id)
            .limit(1)
        )
        return row is not None
