"""SQL access to the mail outbox (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.db.models import MailOutbox, aware, utcnow

outbox = MailOutbox.__table__

#: ``kept``: no SMTP server is configured (demo mode); ``sent``; ``failed``.
MAIL_STATUSES = ("kept", "sent", "failed")


@dataclass(frozen=True)
class OutboxRecord:
    """One e-mail and what became of it."""

    id: int
    conversation_id: str | None
    kind: str
    recipient: str
    subject: str
    body: str
    status: str
    error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    html: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form shown to agents and admins."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "kind": self.kind,
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "status": self.status,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
        }


def _record(row: Any) -> OutboxRecord:
    created_at = aware(row.created_at)
    assert created_at is not None
    return OutboxRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        kind=row.kind,
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        status=row.status,
        error=row.error,
        created_at=created_at,
        sent_at=aware(row.sent_at),
        html=row.html,
    )


class OutboxRepository:
    """Reads and writes the mail outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self,
        *,
        conversation_id: str | None,
        kind: str,
        recipient: str,
        subject: str,
        body: str,
        status: str,
        html: str | None = None,
    ) -> OutboxRecord:
        """Store a mail; returns it with its id."""
        async with self.engine.begin() as connection:
            mail_id = await self.add_in(
                connection,
                conversation_id=conversation_id,
                kind=kind,
                recipient=recipient,
                subject=subject,
                body=body,
                html=html,
            )
            if status != "kept":
                await connection.execute(
                    outbox.update().where(outbox.c.id == mail_id).values(status=status)
                )
        found = await self.get(mail_id)
        assert found is not None
        return found

    @staticmethod
    async def add_in(
        connection: AsyncConnection,
        *,
        conversation_id: str | None,
        kind: str,
        recipient: str,
        subject: str,
        body: str,
        html: str | None = None,
    ) -> int:
        """Store a ``kept`` mail inside the caller's transaction; returns its id.

        The caller records in the same transaction why the mail exists, so a
        process dying in between leaves both or neither;
        :meth:`bot.mail.Mailer.send_kept` sends it afterwards.
        """
        result = await connection.execute(
            outbox.insert().values(
                conversation_id=conversation_id,
                kind=kind,
                recipient=recipient,
                subject=subject,
                body=body,
                html=html,
                status="kept",
                created_at=utcnow(),
            )
        )
        return int(result.inserted_primary_key[0])

    async def kept_of(self, kinds: tuple[str, ...], limit: int = 100) -> list[int]:
        """Ids of ``kept`` mails of these kinds, oldest first (not sent yet)."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(outbox.c.id)
                .where(outbox.c.status == "kept")
                .where(outbox.c.kind.in_(kinds))
                .order_by(outbox.c.id)
                .limit(limit)
            )
            return [int(row.id) for row in rows]

    async def get(self, mail_id: int) -> OutboxRecord | None:
        """Return one mail, or ``None``."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(outbox).where(outbox.c.id == mail_id)
                )
            ).first()
        return _record(row) if row else None

    async def mark(self, mail_id: int, status: str, error: str | None = None) -> None:
        """Record the outcome of sending a mail."""
        values: dict[str, Any] = {"status": status, "error": error}
        if status == "sent":
            values["sent_at"] = utcnow()
        async with self.engine.begin() as connection:
            await connection.execute(
                outbox.update().where(outbox.c.id == mail_id).values(**values)
            )

    async def count_for_conversation(
        self, conversation_id: str, kind: str, since: dt.datetime
    ) -> int:
        """How many mails of ``kind`` were made for a conversation since then."""
        async with self.engine.connect() as connection:
            count = (
                await connection.execute(
                    sa.select(sa.func.count())
                    .select_from(outbox)
                    .where(outbox.c.conversation_id == conversation_id)
                    .where(outbox.c.kind == kind)
                    .where(outbox.c.created_at >= since)
                )
            ).scalar_one()
        return int(count)

    async def recent(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        conversation_id: str | None = None,
    ) -> list[OutboxRecord]:
        """The newest mails first, optionally of one conversation."""
        query = sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(outbox.c.id < before_id)
        if conversation_id is not None:
            query = query.where(outbox.c.conversation_id == conversation_id)
        async with self.engine.connect() as connection:
            return [_record(row) for row in await connection.execute(query)]
