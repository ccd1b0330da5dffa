"""Why a customer message is in the trainer's inbox, stored with the message.

The inbox (:mod:`bot.training.inbox`) lists the customer messages the bot
struggled with. Instead of working that out at every read from whole
transcripts, each message carries its reasons as bits in
``messages.inbox_flags`` (``NULL`` when it has none; indexed with
``created_at``), the reason of the handoff it preceded in
``inbox_handoff_reason``, and its sentence vector in ``inbox_vector``
(:func:`stored_vector`: the vector tagged with the model that made it).

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

The vector is the one the NLU computed while it parsed the message
(:class:`bot.nlu.meaning.MessageEmbedder`, in the parse data that comes
back with the turn): the relay hands it over under :data:`EMBEDDING`, and
:func:`set_nlu_flags` stores it with the flags when the message is flagged
by the NLU, or when the relay marks the turn as one an event may flag later
(:data:`KEEP_VECTOR`, :func:`keeps_vector`: it handed over, or answered
with an article). Other
messages' vectors are not kept (3.6 KB each). A flagged message without a
stored vector of the inbox's model (flagged by a low rating, parsed by a
pipeline without the embedder, stored before this) is embedded by the
inbox's first read that shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sqlalchemy as sa

from bot.db.models import Feedback, Handoff, Message
from bot.knowledge.embedding import (
    DIMENSION,
    MODEL_NAME,
    vector_from_parse_data,
)
from bot.knowledge.embedding.encoder import MULTILINGUAL_WEIGHT

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
#: The ``meta`` key under which the relay hands :func:`set_nlu_flags` the
#: message's embedding from the parse data (never stored in ``meta``).
EMBEDDING = "_embedding"
#: The ``meta`` key by which the relay asks to keep the vector of a message
#: the NLU did not flag: its turn handed over or answered with an article,
#: so a handoff or a rejected article may flag it (never stored in ``meta``).
KEEP_VECTOR = "_keep_vector"
#: What a stored vector starts with: the model that made it, with the weight
#: its two halves are joined by (:mod:`bot.knowledge.embedding.encoder`) and
#: its size. A vector of another model (or weight) is not used: the inbox
#: embeds the message again with its own encoder.
VECTOR_TAG = f"{MODEL_NAME}:{MULTILINGUAL_WEIGHT}:{DIMENSION};".encode()


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


def keeps_vector(*, handed_over: bool, article_shown: bool, answered: bool) -> bool:
    """Whether a turn's customer message keeps its vector, flagged or not.

    An event may flag it later (:data:`EVENT_BITS`): a handoff flags the
    message before it (the turn handed over, its actions failed, or it
    answered nothing: the hub hands over), a rejected article the question
    it answered. The relay asks this of each turn and says so to
    :func:`set_nlu_flags` with :data:`KEEP_VECTOR`.

    Args:
        handed_over: The turn handed over, or its actions failed.
        article_shown: The turn answered with a knowledge-base article.
        answered: The turn said anything (a text or buttons).
    """
    return handed_over or article_shown or not answered


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


def stored_vector(vector: np.ndarray) -> bytes:
    """A sentence vector as ``messages.inbox_vector`` keeps it.

    :data:`VECTOR_TAG`, then the vector as little-endian float32.
    """
    return VECTOR_TAG + np.asarray(vector, dtype="<f4").tobytes()


def vector_of(blob: bytes | None, dimension: int = DIMENSION) -> np.ndarray | None:
    """The vector of :func:`stored_vector`, or ``None``.

    ``None`` when nothing is stored or it is another model's (another tag or
    size: the caller embeds the text again).
    """
    if (
        blob is None
        or len(blob) != len(VECTOR_TAG) + 4 * dimension
        or not blob.startswith(VECTOR_TAG)
    ):
        return None
    return np.frombuffer(blob, dtype="<f4", offset=len(VECTOR_TAG))


def without_vector(meta: Mapping[str, Any]) -> dict[str, Any]:
    """``meta`` without what the relay handed over for the vector alone."""
    return {k: v for k, v in meta.items() if k not in (EMBEDDING, KEEP_VECTOR)}


def set_nlu_flags(values: dict[str, Any], text: str, meta: Mapping[str, Any]) -> None:
    """Add the NLU bits of a customer message to the ``UPDATE`` ``values``.

    Used where the relay stores what Rasa understood (``meta["_nlu"]``); the
    event bits the message has already are kept. The message's vector
    (``meta[EMBEDDING]``, the parse data's) goes with them when the message
    is flagged now or ``meta[KEEP_VECTOR]`` asks for it, and it is of the
    inbox's model (:func:`~bot.knowledge.embedding.vector_from_parse_data`).
    """
    bits = nlu_bits(text, meta)
    values["inbox_flags"] = _with_bits(EVENT_BITS, bits)
    if bits or meta.get(KEEP_VECTOR):
        vector = vector_from_parse_data(meta.get(EMBEDDING))
        if vector is not None:
            values["inbox_vector"] = stored_vector(vector)


__all__ = [
    "BITS",
    "EMBEDDING",
    "EVENT_BITS",
    "FALLBACK_INTENT",
    "KEEP_VECTOR",
    "LOW_CONFIDENCE",
    "LOW_RATING",
    "NLU_BITS",
    "VECTOR_TAG",
    "keeps_vector",
    "nlu_bits",
    "nlu_reason_of",
    "reasons_of",
    "set_nlu_flags",
    "stored_vector",
    "unhappy",
    "vector_of",
    "without_vector",
]
