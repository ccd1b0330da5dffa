"""What the training inbox reads, and the one writer of ``training_annotations``.

The inbox reads what other features stored (messages with what Rasa
understood, handoffs, feedback); it writes only trainers' annotations. An
annotation that labels a message with an article (or "none") also stores a
labelled question through :class:`~bot.knowledge.repository.KnowledgeRepository`
in the same transaction, which bumps ``kb_state.revision``: every process's
knowledge index learns the label at its next search, or none does. One that
labels it with an intent adds its text to the intent's training examples
through :class:`~bot.training.intents.NluRepository`, also in the same
transaction; an undo takes the example away again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.conversations.inbox_flags import unhappy
from bot.conversations.repository import MessageRecord, message_record
from bot.db.models import (
    Feedback,
    Handoff,
    Message,
    TrainingAnnotation,
    aware,
    utcnow,
)
from bot.exceptions import Conflict, NotFound
from bot.knowledge.repository import KnowledgeRepository
from bot.training.flags import apply_pending_events, events_pending
from bot.training.intents import NluRepository
from bot.training.records import from_row, to_json

messages = Message.__table__
handoffs = Handoff.__table__
feedback = Feedback.__table__
annotation_rows = TrainingAnnotation.__table__

#: Most flagged messages one inbox read groups; the newest ones count (an
#: older backlog shows once the newer one is handled).
MAX_INBOX_MESSAGES = 2_000
#: Conversations whose messages are read per query (keeps IN lists short).
_CHUNK = 500
#: The columns of a transcript (what :func:`message_record` reads).
_TRANSCRIPT_COLUMNS = [
    messages.c[name]
    for name in (
        "id",
        "conversation_id",
        "seq",
        "role",
        "text",
        "buttons",
        "meta",
        "client_id",
        "payload",
        "relay_state",
        "created_at",
    )
]
#: The stored vectors of some messages (``ids``).
_VECTORS = sa.select(messages.c.id, messages.c.inbox_vector).where(
    messages.c.id.in_(sa.bindparam("ids", expanding=True))
)
#: Some messages (``ids``) as transcript records.
_MESSAGES = sa.select(*_TRANSCRIPT_COLUMNS).where(
    messages.c.id.in_(sa.bindparam("ids", expanding=True))
)
_shown = messages.alias("shown")
_near = messages.alias("near")
#: The turns within ``turns`` of some messages (``ids``), in their conversations.
_CONTEXT = (
    sa.select(
        _near.c.id,
        _near.c.conversation_id,
        _near.c.seq,
        _near.c.role,
        _near.c.text,
        _near.c.created_at,
    )
    .select_from(_shown)
    .join(
        _near,
        sa.and_(
            _near.c.conversation_id == _shown.c.conversation_id,
            _near.c.seq >= _shown.c.seq - sa.bindparam("turns"),
            _near.c.seq <= _shown.c.seq + sa.bindparam("turns"),
        ),
    )
    .where(_shown.c.id.in_(sa.bindparam("ids", expanding=True)))
)


class AnnotationNotFound(NotFound):
    """No annotation has this id."""

    code = "annotation_not_found"


class MessageNotFound(NotFound):
    """No customer message has this id."""

    code = "message_not_found"


@dataclass(frozen=True)
class HandoffEvent:
    """A handoff of a conversation: why and when, and how an agent closed it."""

    conversation_id: str
    reason: str
    created_at: dt.datetime
    state: str = "queued"
    outcome: str | None = None


@dataclass(frozen=True)
class FeedbackEvent:
    """A rejected article ("did this help?" → no) or a low rating."""

    conversation_id: str
    kind: str
    created_at: dt.datetime
    article_slug: str | None = None
    score: int | None = None


@dataclass(frozen=True)
class InboxRow:
    """A flagged customer message's place and flags."""

    id: int
    conversation_id: str
    seq: int
    created_at: dt.datetime
    flags: int
    handoff_reason: str | None

    @functools.cached_property
    def key(self) -> tuple[int, str, int]:
        """What identifies the message for good.

        An id alone may be reused: SQLite gives a deleted last row's id again.
        """
        return (self.id, self.conversation_id, self.seq)


@dataclass
class Evidence:
    """What the inbox reads: the troubled conversations and what happened."""

    transcripts: dict[str, list[MessageRecord]] = field(default_factory=dict)
    handoffs: list[HandoffEvent] = field(default_factory=list)
    feedback: list[FeedbackEvent] = field(default_factory=list)
    annotated: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class AnnotationRecord:
    """A trainer's decision about one message."""

    id: int
    message_id: int
    kind: str
    article: str | None
    intent: str | None
    text: str
    created_by: str
    created_at: dt.datetime
    undone_by: str | None = None
    undone_at: dt.datetime | None = None

    def public(self) -> dict[str, Any]:
        """The JSON shape of the annotation in API answers."""
        return to_json(self)


async def _annotation_in(
    connection: AsyncConnection, annotation_id: int
) -> AnnotationRecord:
    """One annotation, read on ``connection``.

    Raises:
        AnnotationNotFound: No annotation has this id.
    """
    row = (
        await connection.execute(
            sa.select(annotation_rows).where(annotation_rows.c.id == annotation_id)
        )
    ).first()
    if row is None:
        raise AnnotationNotFound(f"no annotation {annotation_id}")
    return _annotation(row)


def _annotation(row: Any) -> AnnotationRecord:
    return from_row(AnnotationRecord, row, article="article_slug")


def evidence_queries(
    conversation_ids: Sequence[str], since: dt.datetime | None = None
) -> tuple[sa.sql.Select, sa.sql.Select, sa.sql.Select]:
    """The reads of :func:`read_evidence`: handoffs, feedback, messages."""
    handoff_query = (
        sa.select(
            handoffs.c.conversation_id,
            handoffs.c.reason,
            handoffs.c.created_at,
            handoffs.c.state,
            handoffs.c.outcome,
        )
        .where(handoffs.c.conversation_id.in_(conversation_ids))
        .order_by(handoffs.c.id)
    )
    feedback_query = (
        sa.select(
            feedback.c.conversation_id,
            feedback.c.kind,
            feedback.c.created_at,
            feedback.c.article_slug,
            feedback.c.score,
        )
        .where(feedback.c.conversation_id.in_(conversation_ids), unhappy())
        .order_by(feedback.c.id)
    )
    if since is not None:
        handoff_query = handoff_query.where(handoffs.c.created_at >= since)
        feedback_query = feedback_query.where(feedback.c.created_at >= since)
    message_query = (
        sa.select(*_TRANSCRIPT_COLUMNS)
        .where(messages.c.conversation_id.in_(conversation_ids))
        .order_by(messages.c.conversation_id, messages.c.seq)
    )
    return handoff_query, feedback_query, message_query


def evidence_of(
    handoff_rows: Sequence[Any],
    feedback_rows: Sequence[Any],
    message_rows: Sequence[Any],
    evidence: Evidence | None = None,
) -> Evidence:
    """What :func:`evidence_queries` read, as :class:`Evidence`."""
    evidence = evidence or Evidence()
    for row in handoff_rows:
        evidence.handoffs.append(
            HandoffEvent(
                row.conversation_id,
                row.reason,
                aware(row.created_at),
                row.state,
                row.outcome,
            )
        )
    for row in feedback_rows:
        evidence.feedback.append(
            FeedbackEvent(
                conversation_id=row.conversation_id,
                kind=row.kind,
                created_at=aware(row.created_at),
                article_slug=row.article_slug,
                score=row.score,
            )
        )
    for row in message_rows:
        evidence.transcripts.setdefault(row.conversation_id, []).append(
            message_record(row)
        )
    return evidence


async def read_evidence(
    connection: AsyncConnection,
    conversation_ids: Sequence[str],
    since: dt.datetime | None = None,
) -> Evidence:
    """Some conversations' transcripts, handoffs and unhappy feedback.

    Args:
        connection: Where to read.
        conversation_ids: The conversations.
        since: Only events at or after this time (all when ``None``).
    """
    evidence = Evidence()
    ordered = sorted(set(conversation_ids))
    for start in range(0, len(ordered), _CHUNK):
        handoff_query, feedback_query, message_query = evidence_queries(
            ordered[start : start + _CHUNK], since
        )
        evidence_of(
            (await connection.execute(handoff_query)).all(),
            (await connection.execute(feedback_query)).all(),
            (await connection.execute(message_query)).all(),
            evidence=evidence,
        )
    return evidence


@contextlib.asynccontextmanager
async def _reading(engine: AsyncEngine) -> AsyncIterator[InboxReader]:
    async with engine.connect() as connection:
        # Mostly nothing is pending: one statement in the read's own
        # transaction then, rather than a write transaction of its own
        # (three round trips fewer to PostgreSQL).
        if await events_pending(connection):
            # SQLite refuses to turn a read into a write once another
            # connection wrote: the read's snapshot ends first.
            await connection.commit()
            async with connection.begin():
                await apply_pending_events(connection)
        yield InboxReader(connection)


#: Inbox rows built from a row's values (the same values give an equal
#: row): the flagged list is read on every inbox read, mostly unchanged.
_INBOX_ROWS: dict[tuple[Any, ...], InboxRow] = {}
_INBOX_ROWS_KEPT = 20_000


def _inbox_row(values: tuple[Any, ...]) -> InboxRow:
    id_, conversation_id, seq, created_at, flags, handoff_reason = values
    return InboxRow(
        id=id_,
        conversation_id=conversation_id,
        seq=seq,
        created_at=aware(created_at),
        flags=int(flags),
        handoff_reason=handoff_reason,
    )


class InboxReader:
    """What one inbox read fetches, on one connection.

    A SQLite file engine opens a connection (a thread and its pragmas) per
    ``connect``: one read asks for one. Statements take their id lists as
    expanding parameters, so each is compiled once per process.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def rows(self, since: dt.datetime, bits: int | None = None) -> list[InboxRow]:
        """The flagged customer messages since ``since``, newest first.

        Read through ``ix_messages_inbox_newest``: only flagged rows are
        looked at, and not their vectors (:meth:`vectors`). Only customer
        messages are ever flagged (both writers of the flags say so), so
        the role is not asked for again: PostgreSQL, taking flags and role
        for independent, guessed half the flagged rows and read every one
        of the window to sort them (18 ms for 8,700 at 100,000 turns)
        instead of reading the index newest first until it has enough
        (4 ms).

        Args:
            since: Only messages at or after this time.
            bits: Only messages with one of these flag bits (all flagged
                ones when ``None``).

        Returns:
            At most :data:`MAX_INBOX_MESSAGES` messages, not annotated (or
            the annotation undone), newest first.
        """
        annotated = (
            sa.select(annotation_rows.c.id)
            .where(
                annotation_rows.c.message_id == messages.c.id,
                annotation_rows.c.undone_at.is_(None),
            )
            .exists()
        )
        query = (
            sa.select(
                messages.c.id,
                messages.c.conversation_id,
                messages.c.seq,
                messages.c.created_at,
                messages.c.inbox_flags,
                messages.c.inbox_handoff_reason,
            )
            .where(
                messages.c.inbox_flags.is_not(None),
                messages.c.created_at >= since,
                ~annotated,
            )
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(MAX_INBOX_MESSAGES)
        )
        if bits is not None:
            query = query.where(messages.c.inbox_flags.op("&")(bits) != 0)
        found = [tuple(row) for row in await self.connection.execute(query)]
        built = _INBOX_ROWS
        if len(built) + len(found) > _INBOX_ROWS_KEPT:
            built.clear()
        return [
            built.get(values) or built.setdefault(values, _inbox_row(values))
            for values in found
        ]

    async def vectors(self, ids: Sequence[int]) -> dict[int, bytes | None]:
        """The messages' stored sentence vectors (``None`` when not stored)."""
        found: dict[int, bytes | None] = {}
        for start in range(0, len(ids), _CHUNK * 2):
            for row in await self.connection.execute(
                _VECTORS, {"ids": list(ids[start : start + _CHUNK * 2])}
            ):
                found[row.id] = row.inbox_vector
        return found

    async def store_vectors(self, vectors: Sequence[tuple[int, bytes]]) -> None:
        """Keep messages' sentence vectors (computed once) for the next reads.

        The read's snapshot is ended first: SQLite refuses to turn a read
        into a write once another connection wrote.
        """
        if not vectors:
            return
        await self.connection.commit()
        await self.connection.execute(
            messages.update()
            .where(messages.c.id == sa.bindparam("target"))
            .values(inbox_vector=sa.bindparam("vector")),
            [{"target": i, "vector": v} for i, v in vectors],
        )
        await self.connection.commit()

    async def messages(self, ids: Sequence[int]) -> dict[int, MessageRecord]:
        """The messages with these ids, by id."""
        found: dict[int, MessageRecord] = {}
        for start in range(0, len(ids), _CHUNK * 2):
            for row in await self.connection.execute(
                _MESSAGES, {"ids": list(ids[start : start + _CHUNK * 2])}
            ):
                found[row.id] = message_record(row)
        return found

    async def evidence(
        self, conversation_ids: Sequence[str], since: dt.datetime
    ) -> Evidence:
        """The transcripts and events (since ``since``) of some conversations."""
        return await read_evidence(self.connection, conversation_ids, since)

    async def context(
        self, message_ids: Sequence[int], turns: int
    ) -> dict[str, list[MessageRecord]]:
        """The turns within ``turns`` of each message, by conversation, in order.

        Only what a context line shows is read (not meta or buttons): each
        message joined with its conversation's turns around it, through
        ``uq_messages_seq``.
        """
        found: dict[str, dict[int, MessageRecord]] = {}
        for start in range(0, len(message_ids), _CHUNK * 2):
            for row in await self.connection.execute(
                _CONTEXT,
                {"ids": list(message_ids[start : start + _CHUNK * 2]), "turns": turns},
            ):
                found.setdefault(row.conversation_id, {})[row.id] = MessageRecord(
                    id=row.id,
                    conversation_id=row.conversation_id,
                    seq=row.seq,
                    role=row.role,
                    text=row.text,
                    created_at=aware(row.created_at),
                )
        return {
            chat: sorted(turns_.values(), key=lambda m: m.seq)
            for chat, turns_ in found.items()
        }


class TrainingRepository:
    """Reads the inbox's evidence; writes and undoes annotations."""

    def __init__(
        self,
        engine: AsyncEngine,
        knowledge: KnowledgeRepository,
        examples: NluRepository | None = None,
    ) -> None:
        self.engine = engine
        self.knowledge = knowledge
        self.examples = examples

    def reading(self) -> contextlib.AbstractAsyncContextManager[InboxReader]:
        """One inbox read's queries, on one connection (:class:`InboxReader`).

        Handoffs and feedback stored since the last read are applied to the
        flags first (:func:`~bot.training.flags.apply_pending_events`, in
        its own transaction; without pending events, found in the read's
        own first statement, nothing is written).
        """
        return _reading(self.engine)

    async def inbox_rows(
        self, since: dt.datetime, bits: int | None = None
    ) -> list[InboxRow]:
        """The flagged customer messages since ``since`` (:meth:`InboxReader.rows`)."""
        async with self.reading() as reader:
            return await reader.rows(since, bits)

    async def customer_messages(
        self, connection: AsyncConnection, message_ids: Sequence[int]
    ) -> list[MessageRecord]:
        """The customer messages with these ids, in the order given.

        Raises:
            MessageNotFound: One of them is not a stored customer message.
        """
        rows = {
            row.id: message_record(row)
            for row in (
                await connection.execute(
                    sa.select(messages).where(
                        messages.c.id.in_(message_ids),
                        messages.c.role == "customer",
                    )
                )
            ).all()
        }
        missing = [str(i) for i in message_ids if i not in rows]
        if missing:
            raise MessageNotFound(f"no customer message {', '.join(missing)}")
        return [rows[i] for i in message_ids]

    async def add(
        self,
        connection: AsyncConnection,
        labelled: Sequence[tuple[MessageRecord, str]],
        *,
        kind: str,
        article: str | None,
        author: str,
        intent: str | None = None,
        new_examples: Sequence[str] = (),
    ) -> list[AnnotationRecord]:
        """Annotate messages in the caller's transaction.

        An ``article`` or ``out_of_scope`` annotation also becomes a labelled
        question (the article's slug, or "none") and bumps the knowledge
        base's revision in the same transaction; an ``intent`` one adds the
        texts in ``new_examples`` to the intent's examples.

        Args:
            connection: A connection inside the caller's transaction.
            labelled: Each message with the (masked) text to keep.
            kind: ``article``, ``out_of_scope``, ``dismiss`` or ``intent``.
            article: The article's slug for ``article``.
            author: Who decided.
            intent: The intent's name for ``intent``.
            new_examples: The texts (of ``labelled``) that are not examples
                of the intent yet.

        Raises:
            Conflict: ``already_annotated``: a message has an annotation that
                was not undone.
        """
        ids = [message.id for message, _ in labelled]
        taken = sorted(
            (
                await connection.execute(
                    sa.select(annotation_rows.c.message_id).where(
                        annotation_rows.c.message_id.in_(ids),
                        annotation_rows.c.undone_at.is_(None),
                    )
                )
            ).scalars()
        )
        if taken:
            raise Conflict(
                f"message {', '.join(map(str, taken))} is annotated already: "
                "undo that annotation first",
                code="already_annotated",
            )
        now = utcnow()
        stored = []
        for message, text in labelled:
            result = await connection.execute(
                annotation_rows.insert().values(
                    message_id=message.id,
                    kind=kind,
                    article_slug=article,
                    intent=intent,
                    text=text,
                    created_by=author,
                    created_at=now,
                )
            )
            (annotation_id,) = result.inserted_primary_key
            stored.append(
                AnnotationRecord(
                    id=int(annotation_id),
                    message_id=message.id,
                    kind=kind,
                    article=article,
                    intent=intent,
                    text=text,
                    created_by=author,
                    created_at=now,
                )
            )
        if kind in ("article", "out_of_scope"):
            await self.knowledge.add_labelled(
                connection,
                [(record.text, article, record.id) for record in stored],
                author=author,
            )
        if kind == "intent" and intent is not None:
            if self.examples is None:
                raise ValueError("intent annotations need the NLU repository")
            pending = list(new_examples)
            for record in stored:
                if record.text in pending:
                    pending.remove(record.text)
                    await self.examples.add(
                        connection,
                        intent,
                        [record.text],
                        author=author,
                        annotation_id=record.id,
                    )
        return stored

    async def undo(self, annotation_id: int, *, author: str) -> AnnotationRecord:
        """Undo an annotation: its labelled question goes, the row is stamped.

        Raises:
            AnnotationNotFound: No annotation has this id.
            Conflict: ``already_undone``.
        """
        async with self.engine.begin() as connection:
            record = await _annotation_in(connection, annotation_id)
            now = utcnow()
            undone = await connection.execute(
                annotation_rows.update()
                .where(
                    annotation_rows.c.id == annotation_id,
                    annotation_rows.c.undone_at.is_(None),
                )
                .values(undone_at=now, undone_by=author)
            )
            if undone.rowcount == 0:
                raise Conflict(
                    f"annotation {annotation_id} was undone already",
                    code="already_undone",
                )
            await self.knowledge.remove_labelled(connection, [annotation_id])
            if self.examples is not None:
                await self.examples.remove_annotated(connection, [annotation_id])
        return replace(record, undone_by=author, undone_at=now)

    async def get(self, annotation_id: int) -> AnnotationRecord:
        """Return one annotation.

        Raises:
            AnnotationNotFound: No annotation has this id.
        """
        async with self.engine.connect() as connection:
            return await _annotation_in(connection, annotation_id)
