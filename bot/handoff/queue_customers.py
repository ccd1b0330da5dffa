"""Who waits in the queue, and what they asked: read for the agents' queue.

The queue is rebuilt on every change and sent to every agent, so the
customers of all open handoffs are read in two queries (their conversations,
then their typed messages), not two per chat. Read-only: conversations and
messages are written by :mod:`bot.conversations` alone.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversations.repository import (
    MessageRecord,
    _conversation,
    conversations,
    message_record,
    messages,
)
from bot.handoff.card import queue_context


async def queue_customers(
    engine: AsyncEngine, conversation_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """:func:`~bot.handoff.card.queue_context` of each conversation.

    Args:
        engine: The database.
        conversation_ids: The conversations of the open handoffs.

    Returns:
        Per conversation id, its ``customer`` and ``question``; unknown ids
        are left out.
    """
    if not conversation_ids:
        return {}
    ids = sorted(set(conversation_ids))
    async with engine.connect() as connection:
        found = await connection.execute(
            sa.select(conversations).where(conversations.c.id.in_(ids))
        )
        records = {row.id: _conversation(row) for row in found}
        said = await connection.execute(
            sa.select(messages)
            .where(messages.c.conversation_id.in_(ids))
            .where(messages.c.role == "customer")
            .where(messages.c.payload.is_(None))
            .order_by(messages.c.conversation_id, messages.c.seq)
        )
        typed: dict[str, list[MessageRecord]] = {}
        for row in said:
            typed.setdefault(row.conversation_id, []).append(message_record(row))
    return {
        conversation_id: queue_context(record, typed.get(conversation_id, []))
        for conversation_id, record in records.items()
    }
