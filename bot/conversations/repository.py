"""SQL access for conversations and messages (SQLite and PostgreSQL alike).

Sequence numbers are allocated by incrementing ``conversations.last_seq`` in
the same transaction that inserts the messages: the row lock (PostgreSQL) or
the write lock (SQLite) orders concurrent writers, and ``uq_messages_seq``
guards the invariant. Writes on behalf of the bot are conditional on the
conversation still being in the ``bot`` state, so a late bot reply can never
talk over a human; an agent's reply is conditional on that agent holding the
conversation. This repository is the only writer of ``messages``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.conversations.inbox_flags import LOW_RATING, set_nlu_flags, without_vector
from bot.db.models import Conversation, Feedback, Handoff, Message, aware, utcnow

conversations = Conversation.__table__
messages = Message.__table__
feedback = Feedback.__table__
handoffs = Handoff.__table__

#: The ``meta`` key of what only the relay and the assistant's actions need
#: of a pending customer message: its clear text when the stored text is
#: masked, and the client address it came from. Erased as soon as the
#: message leaves ``pending`` (relayed, failed or skipped), so neither stays
#: in the database.
RELAY_ONLY = "_relay"
#: The ``meta`` key, on a bot message, of the form question it asks whose
#: answer is kept masked (a :class:`~bot.contract.SecretAnswer` value).
EXPECTS = "_expects"


def _without_relay_only(meta: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in meta.items() if key != RELAY_ONLY}


@dataclass(frozen=True)
class ConversationRecord:
    """A conversation row."""

    id: str
    token_hash: str
    state: str
    last_seq: int
    locale: str | None
    page_url: str | None
    user_id: str | None
    user_name: str | None
    user_email: str | None
    user_verified: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class MessageRecord:
    """A message row, as the wire and the relay need it."""

    id: int
    conversation_id: str
    seq: int
    role: str
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    payload: str | None = None
    relay_state: str | None = None
    created_at: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class NewMessage:
    """A message to append."""

    role: str
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    client_id: str | None = None
    payload: str | None = None
    relay_state: str | None = None
    author_id: int | None = None


def _conversation(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        token_hash=row.token_hash,
        state=row.state,
        last_seq=row.last_seq,
        locale=row.locale,
        page_url=row.page_url,
        user_id=row.user_id,
        user_name=row.user_name,
        user_email=row.user_email,
        user_verified=bool(row.user_verified),
        created_at=aware(row.created_at),
    )


def message_record(row: Any) -> MessageRecord:
    """A ``messages`` row as a :class:`MessageRecord`."""
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        seq=row.seq,
        role=row.role,
        text=row.text,
        buttons=list(row.buttons or []),
        meta=dict(row.meta or {}),
        client_id=row.client_id,
        payload=row.payload,
        relay_state=row.relay_state,
        created_at=aware(row.created_at),
    )


async def message_by_client_id(
    connection: AsyncConnection, conversation_id: str, client_id: str
) -> MessageRecord | None:
    """The message sent with ``client_id`` in the conversation, if stored."""
    row = (
        await connection.execute(
            sa.select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .where(messages.c.client_id == client_id)
        )
    ).first()
    return message_record(row) if row else None


async def append_messages(
    connection: AsyncConnection,
    conversation_id: str,
    new_messages: Sequence[NewMessage],
    *,
    require_state: str | None = None,
    held_by: int | None = None,
) -> list[MessageRecord] | None:
    """Append messages inside the caller's transaction (sequence numbers too).

    The one place a message row is written: :meth:`ConversationRepository.append`
    uses it, and so does a record that must be stored with its message in one
    transaction (a handoff and the customer's notice of it).

    Returns:
        The stored messages, or ``None`` when ``require_state`` or
        ``held_by`` does not hold (nothing stored).
    """
    count = len(new_messages)
    now = utcnow()
    bump = (
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(last_seq=conversations.c.last_seq + count, updated_at=now)
    )
    if require_state is not None:
        bump = bump.where(conversations.c.state == require_state)
    if held_by is not None:
        bump = bump.where(
            sa.select(handoffs.c.id)
            .where(handoffs.c.conversation_id == conversation_id)
            .where(handoffs.c.state == "claimed")
            .where(handoffs.c.agent_id == held_by)
            .exists()
        )
    result = await connection.execute(bump)
    if result.rowcount == 0:
        return None
    row = (
        await connection.execute(
            sa.select(conversations.c.last_seq, conversations.c.state).where(
                conversations.c.id == conversation_id
            )
        )
    ).one()
    first_seq = row.last_seq - count + 1
    stored = []
    for offset, message in enumerate(new_messages):
        relay_state = message.relay_state
        if message.role == "customer" and relay_state == "pending":
            # A resolved chat is relayed too: the relay reopens it to the
            # bot, so a message after the end never goes unanswered.
            relayed = row.state in {"bot", "resolved"}
            relay_state = "pending" if relayed else "skipped"
        meta = message.meta
        if relay_state != "pending":
            meta = _without_relay_only(meta)
        values = {
            "conversation_id": conversation_id,
            "seq": first_seq + offset,
            "role": message.role,
            "text": message.text,
            "buttons": message.buttons,
            "meta": meta,
            "client_id": message.client_id,
            "payload": message.payload,
            "relay_state": relay_state,
            "created_at": now,
        }
        inserted = await connection.execute(
            messages.insert().values(**values, author_id=message.author_id)
        )
        stored.append(
            MessageRecord(
                id=inserted.inserted_primary_key[0],
                **{k: v for k, v in values.items() if k != "conversation_id"},
                conversation_id=conversation_id,
            )
        )
    return stored


class ConversationRepository:
    """Reads and writes conversations and their messages."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self,
        conversation_id: str,
        token_hash: str,
        *,
        locale: str | None = None,
        page_url: str | None = None,
        user_id: str | None = None,
        user_name: str | None = None,
        user_email: str | None = None,
        user_verified: bool = False,
    ) -> ConversationRecord:
        """Insert a new conversation owned by the bot."""
        now = utcnow()
        async with self.engine.begin() as connection:
            await connection.execute(
                conversations.insert().values(
                    id=conversation_id,
                    token_hash=token_hash,
                    state="bot",
                    last_seq=0,
                    locale=locale,
                    page_url=page_url,
                    user_id=user_id,
                    user_name=user_name,
                    user_email=user_email,
                    user_verified=user_verified,
                    created_at=now,
                    updated_at=now,
                )
            )
        found = await self.get(conversation_id)
        assert found is not None
        return found

    async def get(self, conversation_id: str) -> ConversationRecord | None:
        """Return the conversation, or ``None`` if there is none."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(conversations).where(
                        conversations.c.id == conversation_id
                    )
                )
            ).first()
        return _conversation(row) if row else None

    async def messages_after(
        self, conversation_id: str, after: int, limit: int = 500
    ) -> list[MessageRecord]:
        """Return messages with ``seq > after`` in order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .where(messages.c.seq > after)
                .order_by(messages.c.seq)
                .limit(limit)
            )
            return [message_record(row) for row in rows]

    async def transcript(self, conversation_id: str) -> list[MessageRecord]:
        """Every message of the conversation, in order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.seq)
            )
            return [message_record(row) for row in rows]

    async def find_by_client_id(
        self, conversation_id: str, client_id: str
    ) -> MessageRecord | None:
        """Return the message sent with ``client_id``, if it was stored."""
        async with self.engine.connect() as connection:
            return await message_by_client_id(connection, conversation_id, client_id)

    async def append(
        self,
        conversation_id: str,
        new_messages: Sequence[NewMessage],
        *,
        require_state: str | None = None,
        held_by: int | None = None,
        mark_relayed: tuple[int, str, dict[str, Any]] | None = None,
    ) -> tuple[list[MessageRecord], bool]:
        """Append messages atomically, allocating consecutive sequence numbers.

        A customer message whose ``client_id`` was stored before is not stored
        again: the stored one is returned with ``created=False``.

        Args:
            conversation_id: The conversation.
            new_messages: What to append, in order.
            require_state: Append only while the conversation is in this state.
            held_by: Append only while this agent holds the conversation (a
                claimed handoff of theirs), checked in the same conditional
                update, so a reply never slips in after a transfer, a hand
                back or a resolve.
            mark_relayed: ``(message id, relay state, meta)`` to set in the
                same transaction (the customer message a bot reply answers), so
                a crash can never make the bot answer one message twice.

        Returns:
            The stored messages and whether anything new was stored. When
            ``require_state`` does not hold, nothing is stored and the list is
            empty.
        """
        client_ids = [m.client_id for m in new_messages if m.client_id]
        try:
            async with self.engine.begin() as connection:
                if len(client_ids) == 1:
                    existing = await message_by_client_id(
                        connection, conversation_id, client_ids[0]
                    )
                    if existing is not None:
                        return [existing], False
                stored = await append_messages(
                    connection,
                    conversation_id,
                    new_messages,
                    require_state=require_state,
                    held_by=held_by,
                )
                if stored is None:
                    return [], False
                if mark_relayed is not None:
                    await self._set_relay_state(connection, *mark_relayed)
                return stored, True
        except IntegrityError:
            if len(client_ids) != 1:
                raise
            # A concurrent retry with the same client_id won the race.
            existing = await self.find_by_client_id(conversation_id, client_ids[0])
            if existing is None:
                raise
            return [existing], False

    async def _set_relay_state(
        self,
        connection: AsyncConnection,
        message_id: int,
        state: str,
        meta: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"relay_state": state}
        if meta is None and state != "pending":
            stored = (
                await connection.execute(
                    sa.select(messages.c.meta).where(messages.c.id == message_id)
                )
            ).scalar()
            if isinstance(stored, dict) and RELAY_ONLY in stored:
                meta = stored
        if meta is not None:
            kept = without_vector(meta)
            values["meta"] = kept if state == "pending" else _without_relay_only(kept)
            if state != "pending":
                # What Rasa understood decides whether the message is in the
                # trainer's inbox: flagged now, with the rest (and its
                # sentence vector, for grouping it there).
                text = (
                    await connection.execute(
                        sa.select(messages.c.text).where(
                            messages.c.id == message_id, messages.c.role == "customer"
                        )
                    )
                ).scalar()
                if text is not None:
                    set_nlu_flags(values, text, meta)
        await connection.execute(
            messages.update().where(messages.c.id == message_id).values(**values)
        )

    async def set_relay_state(
        self, message_id: int, state: str, meta: dict[str, Any] | None = None
    ) -> None:
        """Record what became of a customer message (and what Rasa understood)."""
        async with self.engine.begin() as connection:
            await self._set_relay_state(connection, message_id, state, meta)

    async def expected_answer(self, conversation_id: str) -> str | None:
        """What the bot's latest message asks for that is kept masked, if anything.

        The :data:`EXPECTS` mark of the conversation's newest bot message (a
        :class:`~bot.contract.SecretAnswer` value), else ``None``.
        """
        async with self.engine.connect() as connection:
            meta = (
                await connection.execute(
                    sa.select(messages.c.meta)
                    .where(messages.c.conversation_id == conversation_id)
                    .where(messages.c.role == "bot")
                    .order_by(messages.c.seq.desc())
                    .limit(1)
                )
            ).scalar()
        expects = meta.get(EXPECTS) if isinstance(meta, dict) else None
        return expects if isinstance(expects, str) else None

    async def kept_for_relay(self, conversation_id: str, seq: int) -> dict[str, str]:
        """What the hub keeps of a customer message while it is being relayed.

        Read by the assistant's actions during the message's turn: the clear
        text of a masked answer (``text``). Empty once the message has left
        ``pending`` (or when there is no such message).
        """
        async with self.engine.connect() as connection:
            meta = (
                await connection.execute(
                    sa.select(messages.c.meta)
                    .where(messages.c.conversation_id == conversation_id)
                    .where(messages.c.seq == seq)
                    .where(messages.c.role == "customer")
                    .where(messages.c.relay_state == "pending")
                )
            ).scalar()
        kept = meta.get(RELAY_ONLY) if isinstance(meta, dict) else None
        if not isinstance(kept, dict):
            return {}
        return {str(k): v for k, v in kept.items() if isinstance(v, str)}

    async def next_pending(self, conversation_id: str) -> MessageRecord | None:
        """The oldest customer message still waiting for the bot."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(messages)
                    .where(messages.c.conversation_id == conversation_id)
                    .where(messages.c.relay_state == "pending")
                    .order_by(messages.c.seq)
                    .limit(1)
                )
            ).first()
        return message_record(row) if row else None

    async def conversations_with_pending(self, limit: int = 100) -> list[str]:
        """Conversations with customer messages waiting and no live relay lease."""
        now = utcnow()
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(messages.c.conversation_id)
                .join(conversations, conversations.c.id == messages.c.conversation_id)
                .where(messages.c.relay_state == "pending")
                .where(
                    sa.or_(
                        conversations.c.relay_lease_until.is_(None),
                        conversations.c.relay_lease_until < now,
                    )
                )
                .distinct()
                .limit(limit)
            )
            return [row.conversation_id for row in rows]

    async def reopen(self, conversation_id: str) -> bool:
        """Give a resolved conversation back to the bot.

        Returns:
            Whether it was resolved (and is now the bot's); ``False`` when it
            was not resolved, e.g. another hub instance reopened it first.
        """
        async with self.engine.begin() as connection:
            result = await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .where(conversations.c.state == "resolved")
                .values(state="bot", updated_at=utcnow())
            )
            return bool(result.rowcount)

    async def replace_token_hash(self, conversation_id: str, token_hash: str) -> bool:
        """Give the conversation a new token (its hash); whether it exists."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .values(token_hash=token_hash)
            )
            return bool(result.rowcount)

    async def acquire_relay_lease(
        self, conversation_id: str, owner: str, seconds: float
    ) -> bool:
        """Take (or extend) the right to relay this conversation's messages.

        One hub instance at a time relays a conversation, so its messages reach
        Rasa in order even when customers' connections land on different hubs.
        """
        now = utcnow()
        async with self.engine.begin() as connection:
            result = await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .where(
                    sa.or_(
                        conversations.c.relay_owner.is_(None),
                        conversations.c.relay_owner == owner,
                        conversations.c.relay_lease_until < now,
                    )
                )
                .values(
                    relay_owner=owner,
                    relay_lease_until=now + dt.timedelta(seconds=seconds),
                )
            )
            return bool(result.rowcount)

    async def release_relay_lease(self, conversation_id: str, owner: str) -> None:
        """Give up the relay lease if this owner holds it."""
        async with self.engine.begin() as connection:
            await connection.execute(
                conversations.update()
                .where(conversations.c.id == conversation_id)
                .where(conversations.c.relay_owner == owner)
                .values(relay_owner=None, relay_lease_until=None)
            )

    async def add_rating(
        self, conversation_id: str, score: int, comment: str | None
    ) -> None:
        """Store the customer's rating of the conversation."""
        async with self.engine.begin() as connection:
            await connection.execute(
                feedback.insert().values(
                    conversation_id=conversation_id,
                    kind="rating",
                    score=score,
                    comment=comment,
                    created_at=utcnow(),
                    # A low rating sends the message that stated the problem
                    # to the inbox, which applies it before its next read.
                    inbox_applied=None if score <= LOW_RATING else True,
                )
            )
