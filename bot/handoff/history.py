"""Past conversations for agents: search, open read-only, a customer's earlier ones.

A search filters by text (anywhere in the messages, or the customer's name or
e-mail), the customer's exact e-mail, when the conversation started, a
handoff's outcome and the agent who held it; pages go newest first by a
cursor (the start time and id of the last one seen), so a page costs the same
however deep it is. ``%`` and ``_`` typed in a search match themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.models import Agent, Conversation, Handoff, Message, aware
from bot.exceptions import BadRequest

conversations = Conversation.__table__
handoffs = Handoff.__table__
messages = Message.__table__
agents = Agent.__table__

#: Characters of the first question and of the matching message shown in a row.
PREVIEW_CHARS = 160
#: Earlier conversations shown on a card.
EARLIER_LIMIT = 20


@dataclass(frozen=True)
class HistoryQuery:
    """What to look for; every field is optional and they all must hold."""

    text: str | None = None
    email: str | None = None
    started_from: dt.datetime | None = None
    started_before: dt.datetime | None = None
    outcome: str | None = None
    agent_id: int | None = None
    state: str | None = None
    limit: int = 25
    cursor: tuple[dt.datetime, str] | None = None


def encode_cursor(started_at: dt.datetime, conversation_id: str) -> str:
    """The cursor after a conversation: its start (µs since 1970) and id."""
    micros = round(aware(started_at).timestamp() * 1_000_000)
    return f"{micros}.{conversation_id}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """Read a cursor made by :func:`encode_cursor`.

    Raises:
        BadRequest: ``bad_cursor``.
    """
    micros, dot, conversation_id = cursor.partition(".")
    if (
        not dot
        or not micros.isascii()
        or not micros.isdigit()
        or len(micros) > 18
        or not 0 < len(conversation_id) <= 32
    ):
        raise BadRequest("cursor is not one this API gave out", code="bad_cursor")
    started = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=int(micros)
    )
    return started, conversation_id


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


def _contains(column: Any, needle: str) -> Any:
    return sa.func.lower(column).contains(needle, autoescape=True)


class ConversationHistory:
    """Reads past conversations with their handoffs (it writes nothing)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def search(
        self, query: HistoryQuery
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of conversations matching ``query``, newest first.

        Returns:
            The rows and the cursor of the next page (``None`` on the last).
        """
        c = conversations.c
        select = sa.select(c.id, c.created_at)
        if query.text:
            needle = query.text.lower()
            # A union rather than OR: PostgreSQL then searches each part with
            # its trigram index instead of reading every message.
            matching = sa.union(
                sa.select(c.id).where(
                    sa.or_(
                        _contains(c.user_name, needle),
                        _contains(c.user_email, needle),
                    )
                ),
                sa.select(messages.c.conversation_id).where(
                    _contains(messages.c.text, needle)
                ),
            )
            select = select.where(c.id.in_(matching))
        if query.email:
            select = select.where(sa.func.lower(c.user_email) == query.email.lower())
        if query.started_from:
            select = select.where(c.created_at >= query.started_from)
        if query.started_before:
            select = select.where(c.created_at < query.started_before)
        if query.state:
            select = select.where(c.state == query.state)
        if query.outcome or query.agent_id is not None:
            held = sa.select(handoffs.c.id).where(handoffs.c.conversation_id == c.id)
            if query.outcome:
                held = held.where(handoffs.c.outcome == query.outcome)
            if query.agent_id is not None:
                held = held.where(handoffs.c.agent_id == query.agent_id)
            select = select.where(sa.exists(held))
        if query.cursor:
            started, last_id = query.cursor
            select = select.where(
                sa.or_(
                    c.created_at < started,
                    sa.and_(c.created_at == started, c.id < last_id),
                )
            )
        select = select.order_by(c.created_at.desc(), c.id.desc()).limit(
            query.limit + 1
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(select)).all()
            page = found[: query.limit]
            rows = await self._rows(connection, [row.id for row in page], query.text)
        following = None
        if len(found) > query.limit:
            last = page[-1]
            following = encode_cursor(last.created_at, last.id)
        return rows, following

    async def earlier(
        self, conversation_id: str
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """The same customer's other conversations, newest first.

        Only when it is surely the same person: the same verified identity,
        or (marked as such) the same e-mail address.

        Returns:
            How they were matched (``verified_identity``, ``email`` or
            ``None`` when nothing identifies the customer) and the rows.
        """
        c = conversations.c
        async with self.engine.connect() as connection:
            this = (
                await connection.execute(
                    sa.select(c.user_id, c.user_email, c.user_verified).where(
                        c.id == conversation_id
                    )
                )
            ).first()
            if this is None:
                return None, []
            if this.user_verified and this.user_id:
                matched_by = "verified_identity"
                same = sa.and_(c.user_id == this.user_id, c.user_verified.is_(True))
            elif this.user_email:
                matched_by = "email"
                same = sa.func.lower(c.user_email) == this.user_email.lower()
            else:
                return None, []
            ids = (
                await connection.execute(
                    sa.select(c.id)
                    .where(same, c.id != conversation_id)
                    .order_by(c.created_at.desc(), c.id.desc())
                    .limit(EARLIER_LIMIT)
                )
            ).scalars()
            rows = await self._rows(connection, list(ids), None)
        return matched_by, rows

    async def handoffs_of(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every handoff of a conversation, oldest first, with its agent's name."""
        async with self.engine.connect() as connection:
            found = (
                await connection.execute(
                    sa.select(handoffs, agents.c.name.label("agent_name"))
                    .select_from(
                        handoffs.outerjoin(agents, agents.c.id == handoffs.c.agent_id)
                    )
                    .where(handoffs.c.conversation_id == conversation_id)
                    .order_by(handoffs.c.created_at, handoffs.c.id)
                )
            ).all()
        return [_handoff(row) for row in found]

    async def _rows(
        self, connection: Any, ids: list[str], text: str | None
    ) -> list[dict[str, Any]]:
        """The list rows of these conversations, in the order given."""
        if not ids:
            return []
        c = conversations.c
        found = {
            row.id: row
            for row in await connection.execute(
                sa.select(
                    c.id,
                    c.state,
                    c.created_at,
                    c.updated_at,
                    c.user_name,
                    c.user_email,
                    c.user_verified,
                    c.page_url,
                    c.last_seq,
                ).where(c.id.in_(ids))
            )
        }
        first_questions = await self._first_message(
            connection, ids, messages.c.role == "customer"
        )
        matches = (
            await self._first_message(
                connection, ids, _contains(messages.c.text, text.lower())
            )
            if text
            else {}
        )
        latest: dict[str, dict[str, Any]] = {}
        for row in await connection.execute(
            sa.select(handoffs, agents.c.name.label("agent_name"))
            .select_from(handoffs.outerjoin(agents, agents.c.id == handoffs.c.agent_id))
            .where(handoffs.c.conversation_id.in_(ids))
            .order_by(handoffs.c.created_at, handoffs.c.id)
        ):
            latest[row.conversation_id] = _handoff(row)
        return [
            {
                "conversation_id": row.id,
                "state": row.state,
                "started_at": aware(row.created_at).isoformat(),
                "updated_at": aware(row.updated_at).isoformat(),
                "customer": {
                    "name": row.user_name,
                    "email": row.user_email,
                    "verified": bool(row.user_verified),
                },
                "page_url": row.page_url,
                "messages": row.last_seq,
                "first_question": _preview(first_questions.get(row.id)),
                "match": _preview(matches.get(row.id)),
                "handoff": latest.get(row.id),
            }
            for row in (found[i] for i in ids if i in found)
        ]

    @staticmethod
    async def _first_message(
        connection: Any, ids: list[str], condition: Any
    ) -> dict[str, str]:
        """The text of the earliest message meeting ``condition``, per conversation."""
        first = (
            sa.select(
                messages.c.conversation_id,
                sa.func.min(messages.c.seq).label("seq"),
            )
            .where(messages.c.conversation_id.in_(ids), condition)
            .group_by(messages.c.conversation_id)
            .subquery()
        )
        found = await connection.execute(
            sa.select(messages.c.conversation_id, messages.c.text).join(
                first,
                sa.and_(
                    first.c.conversation_id == messages.c.conversation_id,
                    first.c.seq == messages.c.seq,
                ),
            )
        )
        return {row.conversation_id: row.text for row in found}


def _handoff(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "state": row.state,
        "reason": row.reason,
        "outcome": row.outcome,
        "agent": (
            {"id": row.agent_id, "name": row.agent_name}
            if row.agent_id is not None
            else None
        ),
        "summary": row.summary,
        "created_at": aware(row.created_at).isoformat(),
        "closed_at": aware(row.closed_at).isoformat() if row.closed_at else None,
    }
