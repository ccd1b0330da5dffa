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
  rejected article, a low rating) by :func:`bot.training.flags.refresh`,
  which works them out for whole conversations with the inbox's own rules
  (:func:`bot.training.inbox.collect`). Handoffs, ratings and article
  answers are stored by layers below the inbox, so each such row records
  what was applied of it (``handoffs.inbox_state``,
  ``feedback.inbox_applied``) and :func:`bot.training.flags.apply_pending_events`
  refreshes the conversations of rows not applied yet (the inbox calls it
  before each read, so the flags are never behind what it shows).

Both writers change only their own bits in one ``UPDATE``, so neither loses
the other's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

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
CHUNK = 200


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


__all__ = [
    "BITS",
    "EVENT_BITS",
    "FALLBACK_INTENT",
    "LOW_CONFIDENCE",
    "LOW_RATING",
    "NLU_BITS",
    "nlu_bits",
    "nlu_reason_of",
    "reasons_of",
    "set_nlu_flags",
    "unhappy",
]
