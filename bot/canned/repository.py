"""SQL access to the shared canned replies (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.db.models import CannedReply as CannedReplyRow
from bot.db.models import aware, utcnow
from bot.db.repository import Repository
from bot.exceptions import BadRequest, Conflict, NotFound

canned_replies = CannedReplyRow.__table__

#: What follows the ``/``: lower-case letters, digits, ``-`` and ``_``.
SHORTCUT = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
MAX_TITLE = 120
#: Longest reply body, in characters; an agent's reply is limited too.
MAX_BODY = 4000
#: Most replies one answer lists.
MAX_LISTED = 500


@dataclass(frozen=True)
class CannedReply:
    """One shared reply."""

    id: int
    shortcut: str
    title: str
    body: str
    updated_at: dt.datetime
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the reply in API answers."""
        return {
            "id": self.id,
            "shortcut": self.shortcut,
            "title": self.title,
            "body": self.body,
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }


def _reply(row: Any) -> CannedReply:
    return CannedReply(
        id=row.id,
        shortcut=row.shortcut,
        title=row.title,
        body=row.body,
        updated_at=aware(row.updated_at),
        updated_by=row.updated_by,
    )


def check_fields(fields: dict[str, Any], *, partial: bool) -> dict[str, str]:
    """Validate ``shortcut``, ``title`` and ``body``; return them cleaned.

    Args:
        fields: The request's fields (only these three may appear).
        partial: Whether some may be missing (a change rather than a new reply).

    Raises:
        BadRequest: ``bad_field``, ``missing_fields``, ``bad_shortcut``,
            ``bad_title`` or ``bad_body``.
    """
    unknown = sorted(set(fields) - {"shortcut", "title", "body"})
    if unknown:
        raise BadRequest(
            f"a canned reply has shortcut, title and body, not {', '.join(unknown)}",
            code="bad_field",
        )
    if not partial:
        missing = [f for f in ("shortcut", "title", "body") if f not in fields]
        if missing:
            raise BadRequest(
                f"{', '.join(missing)} must be given", code="missing_fields"
            )
    if not fields:
        raise BadRequest("nothing to change", code="bad_field")
    cleaned: dict[str, str] = {}
    if "shortcut" in fields:
        shortcut = fields["shortcut"]
        if not isinstance(shortcut, str) or not SHORTCUT.fullmatch(
            shortcut.strip().lstrip("/").lower()
        ):
            raise BadRequest(
                "a shortcut is 1 to 40 letters, digits, - or _ (like 'reset-link')",
                code="bad_shortcut",
            )
        cleaned["shortcut"] = shortcut.strip().lstrip("/").lower()
    for name, what, most in (
        ("title", "a title", MAX_TITLE),
        ("body", "the reply", MAX_BODY),
    ):
        if name in fields:
            text = fields[name]
            if not isinstance(text, str) or not 0 < len(text.strip()) <= most:
                raise BadRequest(
                    f"{what} needs 1 to {most} characters", code=f"bad_{name}"
                )
            cleaned[name] = text.strip()
    return cleaned


class CannedReplies(Repository):
    """Reads and writes the ``canned_replies`` table (its only writer)."""

    async def list(self, text: str = "") -> list[CannedReply]:
        """Replies by shortcut; with ``text``, those whose shortcut or title has it.

        ``%`` and ``_`` in ``text`` are matched as themselves.
        """
        query = sa.select(canned_replies).order_by(canned_replies.c.shortcut)
        needle = text.strip().lstrip("/").lower()
        if needle:
            query = query.where(
                sa.or_(
                    canned_replies.c.shortcut.contains(needle, autoescape=True),
                    sa.func.lower(canned_replies.c.title).contains(
                        needle, autoescape=True
                    ),
                )
            )
        return [_reply(row) for row in await self.rows(query.limit(MAX_LISTED))]

    async def get(self, reply_id: int) -> CannedReply:
        """The reply with this id.

        Raises:
            NotFound: ``unknown_canned_reply``.
        """
        row = await self.first(
            sa.select(canned_replies).where(canned_replies.c.id == reply_id)
        )
        if row is None:
            raise NotFound("no such canned reply", code="unknown_canned_reply")
        return _reply(row)

    async def create(self, fields: dict[str, Any], author: str) -> CannedReply:
        """Store a new reply after validating every field.

        Raises:
            BadRequest: A field is missing or not acceptable.
            Conflict: ``shortcut_taken``.
        """
        cleaned = check_fields(fields, partial=False)
        now = utcnow()
        result = await self.write(
            canned_replies.insert().values(
                **cleaned, created_at=now, updated_at=now, updated_by=author
            ),
            taken=_taken(cleaned["shortcut"]),
        )
        return await self.get(int(result.inserted_primary_key[0]))

    async def change(
        self, reply_id: int, fields: dict[str, Any], author: str
    ) -> tuple[CannedReply, CannedReply]:
        """Change some fields of a reply; returns it before and after.

        Raises:
            BadRequest: A field is not acceptable.
            NotFound: ``unknown_canned_reply``.
            Conflict: ``shortcut_taken``.
        """
        cleaned = check_fields(fields, partial=True)
        before = await self.get(reply_id)
        await self.write(
            canned_replies.update()
            .where(canned_replies.c.id == reply_id)
            .values(**cleaned, updated_at=utcnow(), updated_by=author),
            taken=_taken(cleaned.get("shortcut", before.shortcut)),
        )
        return before, await self.get(reply_id)

    async def delete(self, reply_id: int) -> CannedReply:
        """Delete a reply; returns what it was.

        Raises:
            NotFound: ``unknown_canned_reply``.
        """
        found = await self.get(reply_id)
        await self.write(canned_replies.delete().where(canned_replies.c.id == reply_id))
        return found


def _taken(shortcut: str) -> Conflict:
    return Conflict(
        f"another canned reply already has the shortcut /{shortcut}",
        code="shortcut_taken",
    )
