"""Why a customer message is in the trainer's inbox, stored with the message.

The inbox (:mod:`bot.training.inbox`) lists the customer messages the bot
struggled with. Instead of working that out at every read from whole
transcripts, each message carries its reasons as bits in
``messages.inbox_flags`` (``NULL`` when it has none; indexed with
``created_at``), the reason of the handoff it preceded in
``inbox_handoff_reason``, and, once computed, its sentence vector in
``inbox_vector``.

Who writes the bits:

- the NLU bits (:data:`NLU_BITS`), when the relay stores what Rasa understood
  of the message (:func:`set_nlu_flags`, in the same statement as the rest);
- the event bits (:data:`EVENT_BITS`: a handoff and an agent resolving it, a
  rejected article, a low rating) by :func:`refresh`, which works them out
  for whole conversations with the inbox's own rules
  (:func:`bot.training.inbox.collect`). A rating runs it in the rating's
  transaction; handoffs and article answers are stored by other modules, so
  each such row records what was applied of it (``handoffs.inbox_state``,
  ``feedback.inbox_applied``) and :func:`apply_pending_events` refreshes the
  conversations of rows not applied yet (the inbox calls it before each
  read, so the flags are never behind what it shows).

Both writers change only their own bits in one ``UPDATE``, so neither loses
the other's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db.models import Feedback, Handoff, Message

messages = Message.__table__
handoffs = Handoff.__table__
feedback = Feedback.__table__

#: The bit of each reason (the values of :class:`bot.training.inbox.Reason`).
BITS: dict[str, int] = {
    "fallback": 1,
    "low_confidence": 2,
    "handoff": 4,
    "kb_rejected": 8,
    "low_rating": 16,
    "agent_resolved": 32,
}
NLU_BITS = BITS["fallback"] | BITS["low_confidence"]
EVENT_BITS = BITS["handoff"] | BITS["kb_rejected"] | BITS["low_rating"]
EVENT_BITS |= BITS["agent_resolved"]

#: The intent Rasa's FallbackClassifier predicts when it is not sure enough.
FALLBACK_INTENT = "nlu_fallback"
#: Below this confidence an understood turn counts as unsure. The
#: FallbackClassifier lets turns through from 0.5 (config.yml); those just
#: above it are the ones a label would move most.
LOW_CONFIDENCE = 0.7
#: Ratings at or below this are unhappy conversations worth a trainer's look.
LOW_RATING = 2
#: Conversations refreshed per statement batch.
_CHUNK = 200


def reasons_of(flags: int | None) -> list[str]:
    """The reasons (values of ``Reason``) set in ``flags``, in bit order."""
    return [name for name, bit in BITS.items() if (flags or 0) & bit]


def nlu_reason_of(text: str, meta: Mapping[str, Any]) -> str | None:
    """Whether what the NLU understood of a customer message is trouble.

    Returns:
        ``fallback``, ``low_confidence`` or ``None``.
    """
    nlu = meta.get("_nlu")
    if not isinstance(nlu, dict) or not nlu or not text.strip():
        return None
    if nlu.get("intent") == FALLBACK_INTENT:
        return "fallback"
    confidence = nlu.get("confidence")
    if isinstance(confidence, (int, float)) and confidence < LOW_CONFIDENCE:
        return "low_confidence"
    return None


def nlu_bits(text: str, meta: Mapping[str, Any]) -> int:
    """The NLU bits of a customer message (0 when it is no trouble)."""
    reason = nlu_reason_of(text, meta)
    return BITS[reason] if reason else 0


def unhappy() -> sa.sql.ColumnElement[bool]:
    """Feedback worth a trainer's look: a rejected article, a low rating."""
    return sa.or_(
        sa.and_(feedback.c.kind == "article", feedback.c.helped.is_(False)),
        sa.and_(feedback.c.kind == "rating", feedback.c.score <= LOW_RATING),
    )


def _with_bits(keep: int, bits: Any) -> Any:
    """``inbox_flags`` with only ``keep`` of its bits, or'ed with ``bits``."""
    kept = sa.func.coalesce(messages.c.inbox_flags, 0).op("&")(keep)
    return sa.func.nullif(kept.op("|")(bits), 0)


#: Sets a message's (``target``) event bits (``bits``) and handoff reason
#: (``why``), keeping its NLU bits.
FLAG_UPDATE = (
    messages.update()
    .where(messages.c.id == sa.bindparam("target"))
    .values(
        inbox_flags=_with_bits(NLU_BITS, sa.bindparam("bits")),
        inbox_handoff_reason=sa.bindparam("why"),
    )
)


def set_nlu_flags(values: dict[str, Any], text: str, meta: Mapping[str, Any]) -> None:
    """Add the NLU bits of a customer message to the ``UPDATE`` ``values``.

    Used where the relay stores what Rasa understood (``meta["_nlu"]``); the
    event bits the message has already are kept.
    """
    values["inbox_flags"] = _with_bits(EVENT_BITS, nlu_bits(text, meta))


async def refresh(connection: AsyncConnection, conversation_ids: Iterable[str]) -> None:
    """Work out the event bits of the conversations' customer messages again.

    In the caller's transaction. Reads each conversation's messages,
    handoffs and unhappy feedback (of all time), applies the inbox's rules
    and writes each customer message's event bits and handoff reason (NLU
    bits are left alone).
    """
    # Here, not at the top: bot.training imports this package.
    from bot.training.repository import read_evidence

    wanted = sorted(set(conversation_ids))
    for start in range(0, len(wanted), _CHUNK):
        evidence = await read_evidence(connection, wanted[start : start + _CHUNK])
        rows = flag_rows(evidence)
        if rows:
            await connection.execute(FLAG_UPDATE, rows)


def refresh_sync(
    connection: sa.engine.Connection, conversation_ids: Iterable[str]
) -> None:
    """:func:`refresh` on a synchronous connection (a migration's)."""
    from bot.training.repository import evidence_of, evidence_queries

    wanted = sorted(set(conversation_ids))
    for start in range(0, len(wanted), _CHUNK):
        handoff_query, feedback_query, message_query = evidence_queries(
            wanted[start : start + _CHUNK]
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
            ).where(
                sa.or_(
                    handoffs.c.inbox_state.is_(None),
                    handoffs.c.inbox_state != handoffs.c.state,
                )
            )
        )
    ).all()
    answered = (
        await connection.execute(
            sa.select(
                feedback.c.id, feedback.c.conversation_id, unhappy().label("unhappy")
            ).where(feedback.c.inbox_applied.is_(None))
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
    for start in range(0, len(ids), _CHUNK * 5):
        await connection.execute(
            feedback.update()
            .where(feedback.c.id.in_(ids[start : start + _CHUNK * 5]))
            .values(inbox_applied=True)
        )
    return len(wanted)


__all__ = [
    "BITS",
    "EVENT_BITS",
    "FALLBACK_INTENT",
    "LOW_CONFIDENCE",
    "LOW_RATING",
    "NLU_BITS",
    "apply_pending_events",
    "event_flags",
    "nlu_bits",
    "nlu_reason_of",
    "reasons_of",
    "refresh",
    "refresh_sync",
    "set_nlu_flags",
    "unhappy",
]
