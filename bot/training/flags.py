"""The inbox's event flags, worked out from a conversation's evidence.

What a handoff, a resolution or unhappy feedback
says about a conversation's customer messages (issue #14).

The flags live on the messages (:mod:`bot.conversations.inbox_flags` has
the bits and the relay-time NLU flags); working out the event flags needs
the inbox's own rules (:func:`bot.training.inbox.collect`) over the
conversation's evidence, so it is done here, by the inbox, before each
read (:func:`apply_pending_events`) and by migration 0016's backfill.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.conversations.inbox_flags import (
    BITS,
    CHUNK,
    EVENT_BITS,
    FLAG_UPDATE,
    feedback,
    handoffs,
    unhappy,
)


async def refresh(connection: AsyncConnection, conversation_ids: Iterable[str]) -> None:
    """Work out the event bits of the conversations' customer messages again.

    In the caller's transaction. Reads each conversation's messages,
    handoffs and unhappy feedback (of all time), applies the inbox's rules
    and writes each customer message's event bits and handoff reason (NLU
    bits are left alone).
    """
    # Here, not at the top: bot.training.repository imports this module.
    from bot.training.repository import read_evidence

    wanted = sorted(set(conversation_ids))
    for start in range(0, len(wanted), CHUNK):
        evidence = await read_evidence(connection, wanted[start : start + CHUNK])
        rows = flag_rows(evidence)
        if rows:
            await connection.execute(FLAG_UPDATE, rows)


def refresh_sync(
    connection: sa.engine.Connection, conversation_ids: Iterable[str]
) -> None:
    """:func:`refresh` on a synchronous connection (a migration's)."""
    from bot.training.repository import evidence_of, evidence_queries

    wanted = sorted(set(conversation_ids))
    for start in range(0, len(wanted), CHUNK):
        handoff_query, feedback_query, message_query = evidence_queries(
            wanted[start : start + CHUNK]
        )
        evidence = evidence_of(
            connection.execute(handoff_query).all(),
            connection.execute(feedback_query).all(),
            connection.execute(message_query).all(),
        )
        rows = flag_rows(evidence)
        if rows:
            connection.execute(FLAG_UPDATE, rows)


def flag_rows(evidence: Any) -> list[dict[str, Any]]:
    """The parameters of :data:`FLAG_UPDATE` for each customer message read."""
    changes = event_flags(evidence)
    return [
        {"target": message.id, "bits": bits, "why": why}
        for transcript in evidence.transcripts.values()
        for message in transcript
        if message.role == "customer"
        for bits, why in [changes.get(message.id, (0, None))]
    ]


def event_flags(evidence: Any) -> dict[int, tuple[int, str | None]]:
    """Each flagged message's event bits and handoff reason, by message id.

    Args:
        evidence: A :class:`bot.training.repository.Evidence` (nothing
            annotated: annotations do not change flags).
    """
    from bot.training.inbox import collect

    found: dict[int, tuple[int, str | None]] = {}
    for item in collect(evidence):
        bits = 0
        for reason in item.reasons:
            bits |= BITS[reason.value]
        bits &= EVENT_BITS
        if bits:
            found[item.message.id] = (bits, item.handoff_reason)
    return found


#: Handoffs whose flags were not worked out in their present state.
_HANDOFFS_PENDING = sa.or_(
    handoffs.c.inbox_state.is_(None), handoffs.c.inbox_state != handoffs.c.state
)
#: Feedback not taken in yet.
_FEEDBACK_PENDING = feedback.c.inbox_applied.is_(None)
#: Whether anything waits for :func:`apply_pending_events`, in one statement.
_ANY_PENDING = sa.select(
    sa.or_(
        sa.select(handoffs.c.id).where(_HANDOFFS_PENDING).exists(),
        sa.select(feedback.c.id).where(_FEEDBACK_PENDING).exists(),
    )
)


async def events_pending(connection: AsyncConnection) -> bool:
    """Whether a handoff or feedback waits for :func:`apply_pending_events`.

    One statement that writes nothing: an inbox read asks it in its own
    read, and opens a write transaction only when the answer is yes.
    """
    return bool((await connection.execute(_ANY_PENDING)).scalar())


async def apply_pending_events(connection: AsyncConnection) -> int:
    """Refresh the conversations of handoffs and feedback not applied yet.

    A handoff is applied in the state it was in (``inbox_state``): one that
    moved on since (an agent resolved it) is applied again. Unhappy feedback
    (a rejected article, a rating of :data:`LOW_RATING` or less) is applied
    once; other feedback is only marked.

    Returns:
        How many conversations were refreshed.
    """
    moved = (
        await connection.execute(
            sa.select(
                handoffs.c.id, handoffs.c.conversation_id, handoffs.c.state
            ).where(_HANDOFFS_PENDING)
        )
    ).all()
    answered = (
        await connection.execute(
            sa.select(
                feedback.c.id, feedback.c.conversation_id, unhappy().label("unhappy")
            ).where(_FEEDBACK_PENDING)
        )
    ).all()
    if not moved and not answered:
        return 0
    wanted = {row.conversation_id for row in moved}
    wanted.update(row.conversation_id for row in answered if row.unhappy)
    await refresh(connection, wanted)
    for row in moved:
        await connection.execute(
            handoffs.update()
            .where(handoffs.c.id == row.id, handoffs.c.state == row.state)
            .values(inbox_state=row.state)
        )
    ids = [row.id for row in answered]
    for start in range(0, len(ids), CHUNK * 5):
        await connection.execute(
            feedback.update()
            .where(feedback.c.id.in_(ids[start : start + CHUNK * 5]))
            .values(inbox_applied=True)
        )
    return len(wanted)
