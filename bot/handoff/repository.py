"""SQL state transitions of handoffs, each one a conditional update.

The database is the truth for who owns a conversation. Every transition
checks the state it expects in its ``WHERE`` clause, so of two agents clicking
"claim" at once exactly one update matches a row: correct on SQLite (one
writer at a time) and on PostgreSQL (row locks) without any extra locking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.auth import unable_accounts
from bot.contract import OPEN_HANDOFF_STATES
from bot.conversations.repository import MessageRecord, NewMessage, append_messages
from bot.db.models import Agent, Conversation, FollowUp, Handoff, Note, aware, utcnow

handoffs = Handoff.__table__
conversations = Conversation.__table__
follow_ups = FollowUp.__table__
agents = Agent.__table__
notes = Note.__table__

#: Handoff states: waiting in the live queue, promised for later, owned by an
#: agent, or closed in one of three ways.
OPEN_STATES = OPEN_HANDOFF_STATES


@dataclass(frozen=True)
class HandoffRecord:
    """A handoff with the name of the agent who owns it, if any."""

    id: int
    conversation_id: str
    reason: str
    state: str
    priority: int
    agent_id: int | None
    agent_name: str | None
    outcome: str | None
    summary: str | None
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_at: dt.datetime | None = None
    follow_up_owner_id: int | None = None

    def waited_s(self, now: dt.datetime) -> float:
        """How long the customer has been waiting for a person."""
        end = self.claimed_at or self.closed_at or now
        return max(0.0, (end - self.created_at).total_seconds())


@dataclass(frozen=True)
class NoteRecord:
    """An internal note on a conversation, by an agent."""

    id: int
    conversation_id: str
    agent_id: int
    agent_name: str | None
    text: str
    created_at: dt.datetime

    def public(self) -> dict[str, Any]:
        """The JSON shape of the note in API answers."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "agent": {"id": self.agent_id, "name": self.agent_name},
            "text": self.text,
            "at": self.created_at.isoformat(),
        }


def _orphaned() -> sa.sql.ColumnElement[bool]:
    """A follow-up without an owner who may act on it."""
    return sa.or_(
        follow_ups.c.owner_id.is_(None), follow_ups.c.owner_id.in_(unable_accounts())
    )


def _record(row: Any) -> HandoffRecord:
    return HandoffRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        reason=row.reason,
        state=row.state,
        priority=row.priority,
        agent_id=row.agent_id,
        agent_name=row.agent_name,
        outcome=row.outcome,
        summary=row.summary,
        created_at=aware(row.created_at) or utcnow(),
        claimed_at=aware(row.claimed_at),
        closed_at=aware(row.closed_at),
        due_at=aware(row.due_at),
        follow_up_owner_id=row.follow_up_owner_id,
    )


def _select() -> sa.sql.Select:
    open_follow_up = (
        sa.select(
            follow_ups.c.conversation_id,
            sa.func.max(follow_ups.c.due_at).label("due_at"),
            sa.func.max(follow_ups.c.owner_id).label("owner_id"),
        )
        .where(follow_ups.c.done_at.is_(None))
        .group_by(follow_ups.c.conversation_id)
        .subquery()
    )
    return sa.select(
        handoffs,
        agents.c.name.label("agent_name"),
        open_follow_up.c.due_at,
        open_follow_up.c.owner_id.label("follow_up_owner_id"),
    ).select_from(
        handoffs.outerjoin(agents, agents.c.id == handoffs.c.agent_id).outerjoin(
            open_follow_up,
            open_follow_up.c.conversation_id == handoffs.c.conversation_id,
        )
    )


class HandoffRepository:
    """Reads and changes handoffs together with their conversation's state."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def start(
        self,
        conversation_id: str,
        reason: str,
        priority: int,
        *,
        follow_up: tuple[dt.datetime, int | None] | None = None,
        summary: str | None = None,
        notice: NewMessage | None = None,
    ) -> tuple[HandoffRecord, list[MessageRecord]] | None:
        """Take the conversation from the bot: into the queue, or a follow-up.

        The handoff, its follow-up and the customer's notice of it are stored
        in one transaction: a hub that dies half-way stores none of them (the
        bot keeps the conversation, and the message that asked for a person
        is still there to be handed over again), never a handoff the customer
        was not told of.

        Args:
            conversation_id: The conversation.
            reason: Why the bot handed over.
            priority: Base priority from the reason.
            follow_up: ``(due time, owner id)`` when nobody can take it now.
            summary: The one-line summary for the queue and the card.
            notice: The message telling the customer what happens now.

        Returns:
            The new handoff and the stored notice (empty without one), or
            ``None`` if the bot did not own the conversation.
        """
        now = utcnow()
        state = "follow_up" if follow_up else "queued"
        async with self.engine.begin() as connection:
            moved = await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .where(conversations.c.state == "bot")
                .values(state=state, updated_at=now)
            )
            if moved.rowcount == 0:
                return None
            inserted = await connection.execute(
                handoffs.insert().values(
                    conversation_id=conversation_id,
                    reason=reason,
                    state=state,
                    priority=priority,
                    summary=summary,
                    created_at=now,
                )
            )
            if follow_up is not None:
                await connection.execute(
                    follow_ups.insert().values(
                        conversation_id=conversation_id,
                        owner_id=follow_up[1],
                        due_at=follow_up[0],
                        channel="email",
                        created_at=now,
                    )
                )
            stored: list[MessageRecord] = []
            if notice is not None:
                stored = (
                    await append_messages(connection, conversation_id, [notice]) or []
                )
            handoff = await self._get(connection, int(inserted.inserted_primary_key[0]))
            assert handoff is not None  # inserted above, in this transaction
            return handoff, stored

    async def get(self, handoff_id: int) -> HandoffRecord | None:
        """Return the handoff, or ``None``."""
        async with self.engine.connect() as connection:
            return await self._get(connection, handoff_id)

    async def _get(
        self, connection: AsyncConnection, handoff_id: int
    ) -> HandoffRecord | None:
        row = (
            await connection.execute(_select().where(handoffs.c.id == handoff_id))
        ).first()
        return _record(row) if row else None

    async def current(self, conversation_id: str) -> HandoffRecord | None:
        """The conversation's open handoff, if it has one."""
        return await self.latest(conversation_id, open_only=True)

    async def claim(self, handoff_id: int, agent_id: int) -> bool:
        """Give a waiting handoff to ``agent_id``; ``False`` if someone was first."""
        now = utcnow()
        async with self.engine.begin() as connection:
            conversation_id = await _move(
                connection,
                handoff_id,
                ("queued", "follow_up"),
                "agent",
                now,
                state="claimed",
                agent_id=agent_id,
                claimed_at=now,
            )
            if conversation_id is None:
                return False
            await connection.execute(
                follow_ups.update()
                .where(follow_ups.c.conversation_id == conversation_id)
                .where(follow_ups.c.done_at.is_(None))
                .values(owner_id=agent_id)
            )
            return True

    async def transfer(
        self, handoff_id: int, from_agent_id: int | None, to_agent_id: int
    ) -> bool:
        """Move a claimed handoff to another agent (from its owner, or any)."""
        update = (
            handoffs.update()
            .where(handoffs.c.id == handoff_id)
            .where(handoffs.c.state == "claimed")
            .values(agent_id=to_agent_id)
        )
        if from_agent_id is not None:
            update = update.where(handoffs.c.agent_id == from_agent_id)
        async with self.engine.begin() as connection:
            return bool((await connection.execute(update)).rowcount)

    async def close(
        self,
        handoff_id: int,
        agent_id: int | None,
        *,
        handoff_state: str,
        conversation_state: str,
        outcome: str | None = None,
        expected: tuple[str, ...] = ("claimed",),
    ) -> bool:
        """End a handoff and set the conversation's new owner state.

        Args:
            handoff_id: The handoff.
            agent_id: Only this agent's handoff (``None``: anyone's).
            handoff_state: ``handed_back``, ``resolved`` or ``cancelled``.
            conversation_state: ``bot`` or ``resolved``.
            outcome: The resolution outcome.
            expected: States the handoff must be in.

        Returns:
            Whether the handoff was in an expected state (and owned).
        """
        now = utcnow()
        update = (
            handoffs.update()
            .where(handoffs.c.id == handoff_id)
            .where(handoffs.c.state.in_(expected))
            .values(state=handoff_state, closed_at=now, outcome=outcome)
        )
        if agent_id is not None:
            update = update.where(handoffs.c.agent_id == agent_id)
        async with self.engine.begin() as connection:
            if (await connection.execute(update)).rowcount == 0:
                return False
            conversation_id = (
                await connection.execute(
                    sa.select(handoffs.c.conversation_id).where(
                        handoffs.c.id == handoff_id
                    )
                )
            ).scalar_one()
            await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .values(state=conversation_state, updated_at=now)
            )
            await connection.execute(
                follow_ups.update()
                .where(follow_ups.c.conversation_id == conversation_id)
                .where(follow_ups.c.done_at.is_(None))
                .values(done_at=now)
            )
            return True

    async def release_unable_holders(self) -> list[str]:
        """Give the chats of accounts that can no longer take them back.

        A disabled account, or one whose role no longer handles chats, must
        not keep a customer waiting: its claimed chats go back to the queue
        (each a conditional update, so a concurrent claim or close wins).
        Its promises are :meth:`own_follow_ups`' job.

        Returns:
            The conversations that went back to the queue.
        """
        unable = unable_accounts()
        now = utcnow()
        released: list[str] = []
        async with self.engine.begin() as connection:
            held = await connection.execute(
                sa.select(handoffs.c.id, handoffs.c.conversation_id)
                .where(handoffs.c.state == "claimed")
                .where(handoffs.c.agent_id.in_(unable))
            )
            for handoff_id, conversation_id in held.all():
                moved = await connection.execute(
                    handoffs.update()
                    .where(handoffs.c.id == handoff_id)
                    .where(handoffs.c.state == "claimed")
                    .where(handoffs.c.agent_id.in_(unable))
                    .values(state="queued", agent_id=None, claimed_at=None)
                )
                if moved.rowcount:
                    await connection.execute(
                        conversations.update()
                        .where(conversations.c.id == conversation_id)
                        .where(conversations.c.state == "agent")
                        .values(state="queued", updated_at=now)
                    )
                    released.append(conversation_id)
        return released

    async def orphaned_follow_ups(self) -> list[tuple[int, int | None]]:
        """Open follow-ups without an able owner: ``(id, owner id)``, due first.

        A promise is unowned when no account could take chats as it was made
        (a fresh install, every agent disabled), or its owner was disabled
        since.
        """
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(follow_ups.c.id, follow_ups.c.owner_id)
                .where(follow_ups.c.done_at.is_(None))
                .where(_orphaned())
                .order_by(follow_ups.c.due_at, follow_ups.c.id)
            )
            return [(row.id, row.owner_id) for row in rows]

    async def keep_as_follow_up(
        self, handoff_id: int, due_at: dt.datetime, owner_id: int | None
    ) -> bool:
        """Turn a chat waiting in the live queue into a follow-up.

        The customer left the queue but wants an answer later. Conditional on
        the handoff still waiting, so a claim that came first wins.

        Returns:
            Whether it was waiting (and is now a follow-up).
        """
        now = utcnow()
        async with self.engine.begin() as connection:
            conversation_id = await _move(
                connection, handoff_id, ("queued",), "follow_up", now, state="follow_up"
            )
            if conversation_id is None:
                return False
            await connection.execute(
                follow_ups.insert().values(
                    conversation_id=conversation_id,
                    owner_id=owner_id,
                    due_at=due_at,
                    channel="email",
                    created_at=now,
                )
            )
            return True

    async def give_follow_up(self, follow_up_id: int, owner_id: int | None) -> bool:
        """Give an orphaned follow-up a new owner (``None``: visibly nobody's).

        The update repeats the condition, so concurrent sweeps of several hubs
        assign it once.
        """
        async with self.engine.begin() as connection:
            moved = await connection.execute(
                follow_ups.update()
                .where(follow_ups.c.id == follow_up_id)
                .where(follow_ups.c.done_at.is_(None))
                .where(_orphaned())
                .values(owner_id=owner_id)
            )
        return bool(moved.rowcount)

    async def open_handoffs(self) -> list[HandoffRecord]:
        """Every handoff still waiting for a person or owned by one."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                _select()
                .where(handoffs.c.state.in_(OPEN_STATES))
                .order_by(handoffs.c.created_at, handoffs.c.id)
            )
            return [_record(row) for row in rows]

    async def recent_claims(
        self, since: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """``(created, claimed)`` of live-queue chats claimed since ``since``.

        Oldest claim first. Follow-ups are left out: they were promised for
        later, not waiting in line.
        """
        promised = (
            sa.select(follow_ups.c.id)
            .where(follow_ups.c.conversation_id == handoffs.c.conversation_id)
            .where(follow_ups.c.created_at == handoffs.c.created_at)
            .exists()
        )
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(handoffs.c.created_at, handoffs.c.claimed_at)
                .where(handoffs.c.claimed_at >= since)
                .where(~promised)
                .order_by(handoffs.c.claimed_at, handoffs.c.id)
            )
            claims = []
            for row in rows:
                created, claimed = aware(row.created_at), aware(row.claimed_at)
                assert created is not None and claimed is not None
                claims.append((created, claimed))
        return claims

    async def held_by(self, agent_id: int) -> list[HandoffRecord]:
        """The handoffs ``agent_id`` has claimed and not closed yet."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                _select()
                .where(handoffs.c.state == "claimed")
                .where(handoffs.c.agent_id == agent_id)
                .order_by(handoffs.c.claimed_at, handoffs.c.id)
            )
            return [_record(row) for row in rows]

    async def add_note(
        self, conversation_id: str, agent_id: int, text: str
    ) -> NoteRecord:
        """Store an internal note on the conversation."""
        async with self.engine.begin() as connection:
            inserted = await connection.execute(
                notes.insert().values(
                    conversation_id=conversation_id,
                    agent_id=agent_id,
                    text=text,
                    created_at=utcnow(),
                )
            )
            note_id = int(inserted.inserted_primary_key[0])
            found = await self._notes(connection, notes.c.id == note_id)
        return found[0]

    async def notes_of(self, conversation_id: str) -> list[NoteRecord]:
        """The conversation's internal notes, oldest first."""
        async with self.engine.connect() as connection:
            return await self._notes(
                connection, notes.c.conversation_id == conversation_id
            )

    async def _notes(
        self, connection: AsyncConnection, condition: Any
    ) -> list[NoteRecord]:
        rows = await connection.execute(
            sa.select(notes, agents.c.name.label("agent_name"))
            .select_from(notes.outerjoin(agents, agents.c.id == notes.c.agent_id))
            .where(condition)
            .order_by(notes.c.created_at, notes.c.id)
        )
        return [
            NoteRecord(
                id=row.id,
                conversation_id=row.conversation_id,
                agent_id=row.agent_id,
                agent_name=row.agent_name,
                text=row.text,
                created_at=aware(row.created_at) or utcnow(),
            )
            for row in rows
        ]

    async def latest(
        self, conversation_id: str, *, open_only: bool = False
    ) -> HandoffRecord | None:
        """The conversation's most recent handoff, open or closed (or open only)."""
        query = _select().where(handoffs.c.conversation_id == conversation_id)
        if open_only:
            query = query.where(handoffs.c.state.in_(OPEN_STATES))
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(query.order_by(handoffs.c.id.desc()).limit(1))
            ).first()
        return _record(row) if row else None


async def _move(
    connection: AsyncConnection,
    handoff_id: int,
    from_states: tuple[str, ...],
    conversation_state: str,
    now: dt.datetime,
    **values: Any,
) -> int | None:
    """Move a handoff still in ``from_states`` and its conversation along.

    Conditional on the handoff's state, so of two racing moves one wins.

    Returns:
        The conversation's id, or ``None`` when the handoff had moved on.
    """
    moved = await connection.execute(
        handoffs.update()
        .where(handoffs.c.id == handoff_id)
        .where(handoffs.c.state.in_(from_states))
        .values(**values)
    )
    if moved.rowcount == 0:
        return None
    conversation_id: int = (
        await connection.execute(
            sa.select(handoffs.c.conversation_id).where(handoffs.c.id == handoff_id)
        )
    ).scalar_one()
    await connection.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(state=conversation_state, updated_at=now)
    )
    return conversation_id
