"""SQL access for console accounts (SQLite and PostgreSQL).

Emails are stored lower-case, so the unique constraint on ``agents.email``
makes them unique regardless of case. :class:`AuthRepository` is the one
writer of the account tables; its parts by job live beside it: sessions
(:mod:`bot.auth.sessions`), the audit log (:mod:`bot.auth.audit`) and who
can take chats (:mod:`bot.auth.availability`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from bot.auth.audit import AuditLog, audit_log
from bot.auth.availability import ChatAvailability
from bot.auth.records import (
    AGENT_COLUMNS,
    AgentCredentials,
    AgentRecord,
    agent_record,
    agents,
    normalize_email,
)
from bot.auth.sessions import SessionStore, agent_sessions
from bot.db.models import PasswordReset, aware, utcnow
from bot.exceptions import Conflict, NotFound

password_resets = PasswordReset.__table__

#: The repository, and the tables it writes (which tests read directly).
__all__ = [
    "AuthRepository",
    "agent_sessions",
    "agents",
    "audit_log",
    "password_resets",
]


def _email_taken(email: str | None) -> Conflict:
    return Conflict(
        f"an account with the email {email} already exists", code="email_taken"
    )


class AuthRepository(SessionStore, AuditLog, ChatAvailability):
    """Reads and writes agents, their sessions and password resets."""

    async def create_agent(
        self, email: str, name: str, role: str, password_hash: str
    ) -> AgentRecord:
        """Insert an active, offline account.

        Raises:
            Conflict: An account with this email (in any case) exists.
        """
        email = normalize_email(email)
        result = await self.write(
            agents.insert().values(
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                active=True,
                presence="offline",
                failed_logins=0,
                created_at=utcnow(),
            ),
            taken=_email_taken(email),
        )
        return await self._require(int(result.inserted_primary_key[0]))

    async def get_agent(self, agent_id: int) -> AgentRecord | None:
        """Return the account with this id, or ``None``."""
        row = await self.first(sa.select(*AGENT_COLUMNS).where(agents.c.id == agent_id))
        return agent_record(row) if row else None

    async def list_agents(self) -> list[AgentRecord]:
        """Every account, enabled ones first, then by name."""
        rows = await self.rows(
            sa.select(*AGENT_COLUMNS).order_by(
                agents.c.active.desc(), agents.c.name, agents.c.id
            )
        )
        return [agent_record(row) for row in rows]

    async def get_agent_by_email(self, email: str) -> AgentRecord | None:
        """Return the account with this email (any case), or ``None``."""
        row = await self.first(
            sa.select(*AGENT_COLUMNS).where(agents.c.email == normalize_email(email))
        )
        return agent_record(row) if row else None

    async def credentials(self, email: str) -> AgentCredentials | None:
        """Return what signing in with ``email`` needs, or ``None``."""
        row = await self.first(
            sa.select(agents).where(agents.c.email == normalize_email(email))
        )
        if row is None:
            return None
        return AgentCredentials(
            agent=agent_record(row),
            password_hash=row.password_hash,
            failed_logins=row.failed_logins,
            locked_until=aware(row.locked_until) if row.locked_until else None,
        )

    async def _require(self, agent_id: int) -> AgentRecord:
        found = await self.get_agent(agent_id)
        if found is None:
            raise NotFound("no such account", code="unknown_agent")
        return found

    async def _update(
        self, agent_id: int, *, taken: Conflict | None = None, **values: Any
    ) -> AgentRecord:
        result = await self.write(
            agents.update().where(agents.c.id == agent_id).values(**values),
            taken=taken,
        )
        if result.rowcount == 0:
            raise NotFound("no such account", code="unknown_agent")
        return await self._require(agent_id)

    async def set_role(self, agent_id: int, role: str) -> AgentRecord:
        """Change the account's role (raises :class:`NotFound`)."""
        return await self._update(agent_id, role=role)

    async def set_active(self, agent_id: int, active: bool) -> AgentRecord:
        """Enable or disable the account; disabling ends all its sessions."""
        agent = await self._update(agent_id, active=active)
        if not active:
            await self.delete_sessions_of(agent_id)
        return agent

    async def set_profile(
        self, agent_id: int, *, name: str | None = None, email: str | None = None
    ) -> AgentRecord:
        """Change the account's name and/or e-mail.

        Raises:
            NotFound: There is no such account.
            Conflict: ``email_taken``.
        """
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if email is not None:
            values["email"] = normalize_email(email)
        return await self._update(
            agent_id, taken=_email_taken(values.get("email")), **values
        )

    async def record_login(self, agent_id: int, at: dt.datetime) -> None:
        """Note a successful sign-in (shown to admins as the last sign-in)."""
        await self._update(agent_id, last_login_at=at)

    async def add_password_reset(
        self,
        agent_id: int,
        token_hash: str,
        created_by: str,
        created_at: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        """Store a reset link's hash; the account's unused older links stop working."""
        async with self.engine.begin() as connection:
            await connection.execute(
                password_resets.delete()
                .where(password_resets.c.agent_id == agent_id)
                .where(password_resets.c.used_at.is_(None))
            )
            await connection.execute(
                password_resets.insert().values(
                    agent_id=agent_id,
                    token_hash=token_hash,
                    created_by=created_by,
                    created_at=created_at,
                    expires_at=expires_at,
                )
            )

    async def use_password_reset(
        self, token_hash: str, password_hash: str, now: dt.datetime
    ) -> AgentRecord | None:
        """Spend a reset link: set the new password and end every session.

        One conditional ``UPDATE`` spends the link, so of two uses at once
        (on any hub instances) exactly one succeeds. A disabled account's
        link does nothing.

        Returns:
            The account, or ``None`` when the link is unknown, used, expired
            or its account disabled.
        """
        usable = (
            sa.select(agents.c.id)
            .where(agents.c.id == password_resets.c.agent_id)
            .where(agents.c.active.is_(True))
        )
        async with self.engine.begin() as connection:
            spent = await connection.execute(
                password_resets.update()
                .where(password_resets.c.token_hash == token_hash)
                .where(password_resets.c.used_at.is_(None))
                .where(password_resets.c.expires_at > now)
                .where(sa.exists(usable))
                .values(used_at=now)
            )
            if spent.rowcount != 1:
                return None
            agent_id = (
                await connection.execute(
                    sa.select(password_resets.c.agent_id).where(
                        password_resets.c.token_hash == token_hash
                    )
                )
            ).scalar_one()
            await connection.execute(
                agents.update()
                .where(agents.c.id == agent_id)
                .values(password_hash=password_hash, failed_logins=0, locked_until=None)
            )
            await connection.execute(
                agent_sessions.delete().where(agent_sessions.c.agent_id == agent_id)
            )
        return await self.get_agent(agent_id)

    async def set_presence(self, agent_id: int, presence: str) -> AgentRecord:
        """Set online / away / offline (raises :class:`NotFound`)."""
        return await self._update(agent_id, presence=presence)

    async def set_password_hash(self, agent_id: int, password_hash: str) -> None:
        """Store a new password hash (a rehash or a password change)."""
        await self._update(agent_id, password_hash=password_hash)

    async def record_failed_login(
        self, agent_id: int, max_failures: int, locked_until: dt.datetime
    ) -> dt.datetime | None:
        """Count a failed login; the ``max_failures``-th in a row locks.

        One conditional ``UPDATE`` does it, so failures arriving at several hub
        instances at once are all counted.

        Args:
            agent_id: The account.
            max_failures: Consecutive failures that lock the account.
            locked_until: When the lock would end if this failure locks it.

        Returns:
            The end of the lock if this failure locked the account, else ``None``.
        """
        reaches = agents.c.failed_logins + 1 >= max_failures
        async with self.engine.begin() as connection:
            await connection.execute(
                agents.update()
                .where(agents.c.id == agent_id)
                .values(
                    failed_logins=sa.case(
                        (reaches, 0), else_=agents.c.failed_logins + 1
                    ),
                    locked_until=sa.case(
                        (reaches, locked_until), else_=agents.c.locked_until
                    ),
                )
            )
            row = (
                await connection.execute(
                    sa.select(agents.c.locked_until).where(agents.c.id == agent_id)
                )
            ).first()
        if row is None or row.locked_until is None:
            return None
        lock = aware(row.locked_until)
        return lock if lock == locked_until else None

    async def clear_failed_logins(self, agent_id: int) -> None:
        """Forget failed logins and any lock (after a successful login)."""
        await self._update(agent_id, failed_logins=0, locked_until=None)
