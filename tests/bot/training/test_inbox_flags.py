"""The inbox's flags are stored with each message when it and its events are.

The relay's store of what Rasa understood flags an unsure or not understood
turn; a low rating (flagging the message that stated the problem), a
handoff, an agent resolving it and a rejected article are applied before
the next inbox read. Migration 0016 flags what was stored
before it. SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command

from bot.conversations.inbox_flags import BITS
from bot.conversations.repository import ConversationRepository, NewMessage
from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, upgrade_database
from bot.db.models import Feedback, Handoff, Message
from bot.handoff.repository import HandoffRepository
from bot.knowledge import KnowledgeRepository
from bot.knowledge.feedback import ArticleFeedbackRepository
from bot.training.flags import apply_pending_events, events_pending
from bot.training.inbox import group
from bot.training.repository import TrainingRepository

messages = Message.__table__
handoffs = Handoff.__table__
feedback = Feedback.__table__


def downgrade(connection: sa.engine.Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


@pytest.fixture
def chats(engine: Any) -> ConversationRepository:
    return ConversationRepository(engine)


async def new_chat(chats: ConversationRepository) -> str:
    conversation_id = secrets.token_hex(16)
    await chats.create(conversation_id, "hash", locale="en")
    return conversation_id


async def relayed(
    chats: ConversationRepository,
    chat: str,
    text: str,
    intent: str,
    confidence: float,
    *,
    state: str = "done",
    article: str | None = None,
) -> int:
    """A customer message the relay stored with what Rasa understood."""
    (message,), _ = await chats.append(
        chat,
        [
            NewMessage(
                role="customer",
                text=text,
                client_id=secrets.token_hex(4),
                relay_state="pending",
            )
        ],
    )
    understood = {"_nlu": {"intent": intent, "confidence": confidence}}
    if state == "done":
        await chats.append(
            chat,
            [
                NewMessage(
                    role="bot",
                    text="Here is how.",
                    meta={"article": article} if article else {},
                )
            ],
            require_state="bot",
            mark_relayed=(message.id, "done", understood),
        )
    else:
        await chats.set_relay_state(message.id, state, understood)
    return message.id


async def flags(engine: Any, *message_ids: int) -> list[tuple[int | None, str | None]]:
    async with engine.connect() as connection:
        rows = {
            row.id: (row.inbox_flags, row.inbox_handoff_reason)
            for row in await connection.execute(
                sa.select(
                    messages.c.id,
                    messages.c.inbox_flags,
                    messages.c.inbox_handoff_reason,
                ).where(messages.c.id.in_(message_ids))
            )
        }
    return [rows[i] for i in message_ids]


async def apply(engine: Any) -> None:
    async with engine.begin() as connection:
        await apply_pending_events(connection)


async def test_the_relay_flags_a_turn_the_nlu_struggled_with_as_it_stores_it(
    engine: Any, chats: ConversationRepository
) -> None:
    chat = await new_chat(chats)
    fallback = await relayed(chats, chat, "blorp the flux", "nlu_fallback", 0.3)
    unsure = await relayed(chats, chat, "my card got eaten", "card_lost", 0.6)
    sure = await relayed(chats, chat, "reset my password", "password_reset", 0.95)
    failed = await relayed(
        chats, chat, "where is my refund", "refund", 0.55, state="failed"
    )
    assert await flags(engine, fallback, unsure, sure, failed) == [
        (BITS["fallback"], None),
        (BITS["low_confidence"], None),
        (None, None),
        (BITS["low_confidence"], None),
    ]
    repository = TrainingRepository(engine, KnowledgeRepository(engine))
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    rows = [
        row for row in await repository.inbox_rows(since) if row.conversation_id == chat
    ]
    # Newest first, the confident turn left out.
    assert [row.id for row in rows] == [failed, unsure, fallback]
    only = await repository.inbox_rows(since, BITS["fallback"])
    assert [row.id for row in only if row.conversation_id == chat] == [fallback]


async def test_a_low_rating_flags_the_problem_statement_before_the_next_read(
    engine: Any, chats: ConversationRepository
) -> None:
    chat = await new_chat(chats)
    await relayed(chats, chat, "hello", "greet", 0.99)
    problem = await relayed(
        chats, chat, "my invoice shows the wrong amount twice", "billing", 0.9
    )
    later = await relayed(chats, chat, "thanks", "thank", 0.99)
    await chats.add_rating(chat, 5, None)
    await chats.add_rating(chat, 1, "useless")
    # The rating is stored by the conversations layer, below the inbox: it
    # is marked as not applied yet, and a good rating needs nothing.
    async with engine.connect() as connection:
        applied = (
            await connection.execute(
                sa.select(feedback.c.inbox_applied)
                .where(feedback.c.conversation_id == chat)
                .order_by(feedback.c.id)
            )
        ).scalars()
        assert list(applied) == [True, None]
    assert await flags(engine, problem, later) == [(None, None), (None, None)]
    async with engine.begin() as connection:
        assert await apply_pending_events(connection) == 1
        assert await apply_pending_events(connection) == 0
    assert await flags(engine, problem, later) == [
        (BITS["low_rating"], None),
        (None, None),
    ]


async def test_a_handoff_and_an_agent_resolving_it_flag_the_message_before_it(
    engine: Any, chats: ConversationRepository
) -> None:
    chat = await new_chat(chats)
    unsure = await relayed(chats, chat, "my parcel never came", "delivery", 0.6)
    asked = await relayed(chats, chat, "a person please", "human", 0.99)
    handoff_repository = HandoffRepository(engine)
    started = await handoff_repository.start(chat, "customer_request", 0)
    assert started is not None
    handoff, _ = started
    await apply(engine)
    assert await flags(engine, unsure, asked) == [
        (BITS["low_confidence"], None),
        (BITS["handoff"], "customer_request"),
    ]
    assert await handoff_repository.close(
        handoff.id,
        None,
        handoff_state="resolved",
        conversation_state="resolved",
        outcome="answered",
        expected=("queued",),
    )
    await apply(engine)
    assert await flags(engine, asked) == [
        (BITS["handoff"] | BITS["agent_resolved"], "customer_request")
    ]
    async with engine.connect() as connection:
        state = (
            await connection.execute(
                sa.select(handoffs.c.inbox_state).where(handoffs.c.id == handoff.id)
            )
        ).scalar()
    assert state == "resolved"


async def test_only_customer_messages_are_ever_flagged(
    engine: Any, chats: ConversationRepository
) -> None:
    """What the inbox's list of flagged messages relies on (it does not ask
    for the role again)."""
    chat = await new_chat(chats)
    await relayed(chats, chat, "blorp", "nlu_fallback", 0.2, article="change-plan")
    await relayed(chats, chat, "a person please", "human", 0.99)
    handoff_repository = HandoffRepository(engine)
    started = await handoff_repository.start(chat, "customer_request", 0)
    assert started is not None
    (reply,), _ = await chats.append(
        chat, [NewMessage(role="agent", text="I can help")]
    )
    # A relay state stored on another role's message flags nothing.
    await chats.set_relay_state(
        reply.id, "done", {"_nlu": {"intent": "nlu_fallback", "confidence": 0.1}}
    )
    assert await handoff_repository.close(
        started[0].id,
        None,
        handoff_state="resolved",
        conversation_state="resolved",
        outcome="answered",
        expected=("queued",),
    )
    await ArticleFeedbackRepository(engine).record(chat, "change-plan", helped=False)
    await chats.add_rating(chat, 1, "no")
    await apply(engine)
    async with engine.connect() as connection:
        flagged = (
            await connection.execute(
                sa.select(messages.c.role, messages.c.inbox_flags).where(
                    messages.c.conversation_id == chat,
                    messages.c.inbox_flags.is_not(None),
                )
            )
        ).all()
    assert flagged
    assert {role for role, _ in flagged} == {"customer"}


async def test_a_read_asks_once_whether_events_wait_and_writes_only_if_so(
    engine: Any, chats: ConversationRepository
) -> None:
    await apply(engine)  # what other tests left on the shared database
    chat = await new_chat(chats)
    asked = await relayed(chats, chat, "a person please", "human", 0.99)
    repository = TrainingRepository(engine, KnowledgeRepository(engine))
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()).upper())

    sa.event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with engine.connect() as connection:
            assert not await events_pending(connection)
        sent.clear()
        assert asked not in [row.id for row in await repository.inbox_rows(since)]
        # Nothing waits: the question and the flagged list, nothing written.
        assert len(sent) == 2
        assert not [text for text in sent if not text.startswith("SELECT")]
        started = await HandoffRepository(engine).start(chat, "customer_request", 0)
        assert started is not None
        await ArticleFeedbackRepository(engine).record(chat, "a-slug", helped=False)
        async with engine.connect() as connection:
            assert await events_pending(connection)
        sent.clear()
        rows = await repository.inbox_rows(since)
        assert any(text.startswith("UPDATE") for text in sent)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert [row.id for row in rows if row.conversation_id == chat] == [asked]
    assert await flags(engine, asked) == [(BITS["handoff"], "customer_request")]
    async with engine.connect() as connection:
        assert not await events_pending(connection)


async def test_a_rejected_article_flags_the_question_it_answered(
    engine: Any, chats: ConversationRepository
) -> None:
    chat = await new_chat(chats)
    question = await relayed(
        chats, chat, "how do I change my plan", "plan", 0.92, article="change-plan"
    )
    other = await relayed(chats, chat, "and my address", "address", 0.95)
    await ArticleFeedbackRepository(engine).record(chat, "change-plan", helped=False)
    assert await flags(engine, question, other) == [(None, None), (None, None)]
    await apply(engine)
    assert await flags(engine, question, other) == [
        (BITS["kb_rejected"], None),
        (None, None),
    ]
    # A relay storing the turn again keeps the event's bit.
    await chats.set_relay_state(
        question, "done", {"_nlu": {"intent": "nlu_fallback", "confidence": 0.2}}
    )
    assert await flags(engine, question) == [
        (BITS["kb_rejected"] | BITS["fallback"], None)
    ]


def one_row_at_a_time(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """The inbox's greedy grouping written plainly (before it was blocked)."""
    groups: list[list[int]] = []
    for position, vector in enumerate(vectors):
        if groups:
            similarity = np.array([vectors[g[0]] @ vector for g in groups])
            best = int(np.argmax(similarity))
            if similarity[best] >= threshold:
                groups[best].append(position)
                continue
        groups.append([position])
    return groups


@pytest.mark.parametrize("rows", [1, 7, 300, 1100])
def test_blocked_grouping_finds_the_groups_one_row_at_a_time_does(rows: int) -> None:
    rng = np.random.default_rng(rows)
    centres = rng.normal(size=(max(1, rows // 12), 64))
    picked = centres[rng.integers(0, len(centres), rows)]
    vectors = picked + rng.normal(scale=0.6, size=picked.shape)
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(
        np.float32
    )
    expected = one_row_at_a_time(vectors, 0.7)
    assert group(vectors, 0.7) == expected
    assert 1 < len(expected) < rows or rows < 10


async def test_migration_0016_flags_what_was_stored_before_it(fresh_url: str) -> None:
    engine = create_engine(fresh_url)
    try:
        await upgrade_database(engine, "0015")
        now = dt.datetime.now(dt.timezone.utc)

        def customer(seq: int, text: str, intent: str, confidence: float) -> dict:
            return {
                "conversation_id": "c1",
                "seq": seq,
                "role": "customer",
                "text": text,
                "buttons": [],
                "meta": {"_nlu": {"intent": intent, "confidence": confidence}},
                "relay_state": "done",
                "created_at": now + dt.timedelta(seconds=seq),
            }

        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "INSERT INTO conversations (id, token_hash, state, last_seq, "
                    "user_verified, created_at, updated_at) VALUES "
                    "('c1', 'h', 'queued', 4, false, :now, :now)"
                ),
                {"now": now},
            )
            await connection.execute(
                sa.table(
                    "messages",
                    *(
                        sa.column(name)
                        for name in (
                            "conversation_id",
                            "seq",
                            "role",
                            "text",
                            "relay_state",
                            "created_at",
                        )
                    ),
                    sa.column("buttons", sa.JSON),
                    sa.column("meta", sa.JSON),
                ).insert(),
                [
                    customer(1, "what is this charge", "nlu_fallback", 0.3),
                    customer(2, "on my card", "billing", 0.95),
                    customer(3, "talk to someone", "human", 0.99),
                    customer(4, "hello?", "greet", 0.5),
                ],
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO handoffs (conversation_id, reason, state, priority, "
                    "created_at) VALUES ('c1', 'customer_request', 'queued', 0, :at)"
                ),
                {"at": now + dt.timedelta(seconds=3, milliseconds=500)},
            )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(
                        messages.c.seq,
                        messages.c.inbox_flags,
                        messages.c.inbox_handoff_reason,
                    ).order_by(messages.c.seq)
                )
            ).all()
            marked = (await connection.execute(sa.select(handoffs.c.inbox_state))).all()
        assert [tuple(row) for row in rows] == [
            (1, BITS["fallback"], None),
            (2, None, None),
            (3, BITS["handoff"], "customer_request"),
            (4, BITS["low_confidence"], None),
        ]
        assert [tuple(row) for row in marked] == [("queued",)]
        # Nothing is left for the first inbox read to apply.
        async with engine.begin() as connection:
            assert await apply_pending_events(connection) == 0
        # Down and up again: the downgrade drops what the upgrade added.
        async with engine.begin() as connection:
            await connection.run_sync(downgrade, "0015")
        await upgrade_database(engine)
    finally:
        await engine.dispose()
