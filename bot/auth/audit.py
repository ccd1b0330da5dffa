"""The audit log: who did what to what, and when (written, never changed)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bot.auth.records import AuditRecord, normalize_email
from bot.db.models import AuditEntry, aware, utcnow
from bot.db.repository import Repository

audit_log = AuditEntry.__table__


class AuditLog(Repository):
    """Reads and writes ``audit_log`` (part of the auth repository)."""

    async def record_audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        """Add a row to the audit log (who did what to which account)."""
        await self.write(
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
        subject: str | None = None,
    ) -> list[AuditRecord]:
        """Audit log entries, newest first (``before_id`` pages back).

        Args:
            limit: Most entries returned.
            before_id: Only entries older than this one.
            actor: Only entries by this account (its e-mail, any case).
            action: Only this action (``agent.change``), or those under a
                prefix ending with a dot (``canned.``).
            subject: Only entries about this subject (a conversation's id).
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
        if subject:
            query = query.where(audit_log.c.subject == subject)
        return [
            AuditRecord(
                id=row.id,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=row.detail or {},
                created_at=aware(row.created_at),
            )
            for row in await self.rows(query)
        ]
