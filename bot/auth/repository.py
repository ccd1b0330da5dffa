"""SQL access for console accounts and their sessions (SQLite and PostgreSQL).

Emails are stored lower-case, so the unique constraint on ``agents.email``
makes them unique regardless of case. Sessions are rows keyed by the SHA-256
of the token in the cookie: a leaked database does not leak live sessions, and
every hub instance sees a logout at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.contract import HandoffState
from bot.db.models import (
    Agent,
    AgentSession,
    AuditEntry,
    FollowUp,
    Handoff,
    PasswordReset,
    aware,
    utcnow,
)
from bot.exceptions import Conflict, NotFound

agents = Agent.__table__
agent_sessions = AgentSession.__table__
audit_log = AuditEntry.__table__
follow_ups = FollowUp.__table__
handoffs = Handoff.__table__
password_resets = PasswordReset.__table__

#: Console roles. Admins may do everything; agents handle chats; trainers
#: improve the assistant.
ROLES = ("agent", "trainer", "admin")
#: Roles that take chats: only they may hold a conversation or a promise.
CHAT_ROLES = ("agent", "admin")
PRESENCES = ("online", "away", "offline")


def unable_accounts() -> sa.sql.Select:
    """Ids of accounts that may not take chats (disabled, or a trainer)."""
    return sa.select(agents.c.id).where(
        sa.or_(agents.c.active.is_(False), agents.c.role.not_in(CHAT_ROLES))
    )


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


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-case."""
    return email.strip().lower()


def _agent(row: Any) -> AgentRecord:
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


_AGENT_COLUMNS = (
    agents.c.id,
    agents.c.email,
    agents.c.name,
    agents.c.role,
    agents.c.active,
    agents.c.presence,
    agents.c.created_at,
    agents.c.last_login_at,
)


class AuthRepository:
    """Reads and writes agents and agent sessions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_agent(
        self, email: str, name: str, role: str, password_hash: str
    ) -> AgentRecord:
        """Insert an active, offline account.

        Raises:
            Conflict: An account with this email (in any case) exists.
        """
        email = normalize_email(email)
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    agents.insert().values(
                        email=email,
                        name=name,
                        role=role,
                        password_hash=password_hash,
                        active=True,
                        presence="offline",
                        failed_logins=0,
                        created_at=utcnow(),
                    )
                )
                agent_id = int(result.inserted_primary_key[0])
        except IntegrityError as error:
            raise Conflict(
                f"an account with the email {email} already exists",
                code="email_taken",
            ) from error
        return await self._require(agent_id)

    async def get_agent(self, agent_id: int) -> AgentRecord | None:
        """Return the account with this id, or ``None``."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(*_AGENT_COLUMNS).where(agents.c.id == agent_id)
                )
            ).first()
        return _agent(row) if row else None

    async def list_agents(self) -> list[AgentRecord]:
        """Every account, enabled ones first, then by name."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(*_AGENT_COLUMNS).order_by(
                        agents.c.active.desc(), agents.c.name, agents.c.id
                    )
                )
            ).all()
        return [_agent(row) for row in rows]

    async def record_audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        """Add a row to the audit log (who did what to which account)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                audit_log.insert().values(
                    actor=actor,
                    action=action,
                    subject=subject,
                    detail=detail,
                    created_at=utcnow(),
                )
            )

    async def audit_entries(
        self,
        *,
        limit: int,
        before_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
    ) -> list[AuditRecord]:
        """Audit log entries, newest first (``before_id`` pages back).

        Args:
            limit: Most entries returned.
            before_id: Only entries older than this one.
            actor: Only entries by this account (its e-mail, any case).
            action: Only this action (``agent.change``), or those under a
                prefix ending with a dot (``canned.``).
        """
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        if actor:
            query = query.where(audit_log.c.actor == normalize_email(actor))
        if action and action.endswith("."):
            query = query.where(audit_log.c.action.startswith(action, autoescape=True))
        elif action:
            query = query.where(audit_log.c.action == action)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            AuditRecord(
                id=row.id,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=row.detail or {},
                created_at=aware(row.created_at),
            )
            for row in rows
        ]

    async def open_work(self) -> dict[int, OpenWork]:
        """Per account: chats it holds now and open follow-ups it owns."""
        async with self.engine.connect() as connection:
            chats = dict(
                (
                    await connection.execute(
                        sa.select(handoffs.c.agent_id, sa.func.count())
                        .where(handoffs.c.state == HandoffState.CLAIMED.value)
                        .where(handoffs.c.agent_id.is_not(None))
                        .group_by(handoffs.c.agent_id)
                    )
                ).all()
            )
            promises = dict(
                (
                    await connection.execute(
                        sa.select(follow_ups.c.owner_id, sa.func.count())
                        .where(follow_ups.c.done_at.is_(None))
                        .where(follow_ups.c.owner_id.is_not(None))
                        .group_by(follow_ups.c.owner_id)
                    )
                ).all()
            )
        return {
            agent_id: OpenWork(
                chats=int(chats.get(agent_id, 0)),
                follow_ups=int(promises.get(agent_id, 0)),
            )
            for agent_id in set(chats) | set(promises)
        }

    async def get_agent_by_email(self, email: str) -> AgentRecord | None:
        """Return the account with this email (any case), or ``None``."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(*_AGENT_COLUMNS).where(
                        agents.c.email == normalize_email(email)
                    )
                )
            ).first()
        return _agent(row) if row else None

    async def credentials(self, email: str) -> AgentCredentials | None:
        """Return what signing in with ``email`` needs, or ``None``."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(agents).where(agents.c.email == normalize_email(email))
                )
            ).first()
        if row is None:
            return None
        return AgentCredentials(
            agent=_agent(row),
            password_hash=row.password_hash,
            failed_logins=row.failed_logins,
            locked_until=aware(row.locked_until) if row.locked_until else None,
        )

    async def _require(self, agent_id: int) -> AgentRecord:
        found = await self.get_agent(agent_id)
        if found is None:
            raise NotFound("no such account", code="unknown_agent")
        return found

    async def _update(self, agent_id: int, **values: Any) -> AgentRecord:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                agents.update().where(agents.c.id == agent_id).values(**values)
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
        try:
            return await self._update(agent_id, **values)
        except IntegrityError as error:
            raise Conflict(
                f"an account with the email {values.get('email')} already exists",
                code="email_taken",
            ) from error

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

    async def create_session(self, session: SessionRecord) -> None:
        """Insert a session row."""
        async with self.engine.begin() as connection:
            await connection.execute(
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
        columns = [c.label(f"account_{c.name}") for c in _AGENT_COLUMNS]
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(agent_sessions, *columns)
                    .join(agents, agents.c.id == agent_sessions.c.agent_id)
                    .where(agent_sessions.c.id == session_id)
                )
            ).first()
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
        async with self.engine.begin() as connection:
            await connection.execute(
                agent_sessions.update()
                .where(agent_sessions.c.id == session_id)
                .values(last_seen_at=seen_at)
            )

    async def delete_session(self, session_id: str) -> None:
        """Delete the session (a no-op if it is gone already)."""
        async with self.engine.begin() as connection:
            await connection.execute(
                agent_sessions.delete().where(agent_sessions.c.id == session_id)
            )

    async def delete_sessions_of(self, agent_id: int) -> None:
        """Delete every session of the account."""
        async with self.engine.begin() as connection:
            await connection.execute(
                agent_sessions.delete().where(agent_sessions.c.agent_id == agent_id)
            )

    async def delete_expired_sessions(self, agent_id: int, now: dt.datetime) -> None:
        """Delete the account's sessions whose absolute lifetime has ended."""
        async with self.engine.begin() as connection:
            await connection.execute(
                agent_sessions.delete()
                .where(agent_sessions.c.agent_id == agent_id)
                .where(agent_sessions.c.expires_at <= now)
            )

    async def has_sessions(self, agent_id: int) -> bool:
        """Whether the account has any session left."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(agent_sessions.c.id)
                    .where(agent_sessions.c.agent_id == agent_id)
                    .limit(1)
                )
            ).first()
        return row is not None

    async def agents_online(self) -> int:
        """Agents (and admins) marked online, who can take chats."""
        async with self.engine.connect() as connection:
            count = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(agents)
                    .where(agents.c.active.is_(True))
                    .where(agents.c.presence == "online")
                    .where(agents.c.role.in_(CHAT_ROLES))
                )
            ).scalar_one()
        return int(count)

    async def least_busy_agent(self) -> int | None:
        """The active agent with the fewest open follow-ups (their owner)."""
        open_count = (
            sa.select(sa.func.count())
            .select_from(follow_ups)
            .where(follow_ups.c.owner_id == agents.c.id)
            .where(follow_ups.c.done_at.is_(None))
            .scalar_subquery()
        )
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(agents.c.id)
                    .where(agents.c.active.is_(True))
                    .where(agents.c.role.in_(CHAT_ROLES))
                    .order_by(open_count, agents.c.id)
                    .limit(1)
                )
            ).first()
        return int(row.id) if row else None

    async def can_take_chats(self, agent_id: int) -> bool:
        """Whether an active agent (or admin) with this id may take chats."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(agents.c.id)
                    .where(agents.c.id == agent_id)
                    .where(agents.c.active.is_(True))
                    .where(agents.c.role.in_(CHAT_ROLES))
                )
            ).first()
        return row is not None
