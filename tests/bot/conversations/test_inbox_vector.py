"""A message the trainers' inbox lists keeps the vector the NLU computed.

The NLU embeds every message while it parses it (bot/nlu/meaning.py); the
turn brings that vector back to the hub, and the relay stores it with the
message when the message is flagged (or its turn handed over or answered
with an article, which a later event may flag), so the inbox never embeds
it. A vector of another model is not stored. SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from bot.assistant.client import BotMessage, RasaClient, Turn
from bot.conversations.inbox_flags import (
    EMBEDDING,
    KEEP_VECTOR,
    VECTOR_TAG,
    keeps_vector,
    stored_vector,
    vector_of,
)
from bot.conversations.repository import ConversationRepository, NewMessage
from bot.db.models import Message
from bot.knowledge.embedding import DIMENSION, vector_to_parse_data
from tests.bot.test_relay_lease import hub_instance, say

messages = Message.__table__


def unit(seed: int, dimension: int = DIMENSION) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


async def stored(engine: Any, message_id: int) -> tuple[bytes | None, dict[str, Any]]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(messages.c.inbox_vector, messages.c.meta).where(
                    messages.c.id == message_id
                )
            )
        ).one()
    return row.inbox_vector, row.meta


async def relayed(
    chats: ConversationRepository,
    chat: str,
    intent: str,
    confidence: float,
    embedding: Any,
    *,
    keep: bool = False,
    state: str = "done",
) -> int:
    """A customer message stored as the relay stores its turn."""
    (message,), _ = await chats.append(
        chat,
        [
            NewMessage(
                role="customer",
                text=f"message {secrets.token_hex(3)}",
                client_id=secrets.token_hex(4),
                relay_state="pending",
            )
        ],
    )
    understood: dict[str, Any] = {"_nlu": {"intent": intent, "confidence": confidence}}
    if embedding is not None:
        understood[EMBEDDING] = embedding
    if keep:
        understood[KEEP_VECTOR] = True
    if state == "done":
        await chats.append(
            chat,
            [NewMessage(role="bot", text="Here is how.")],
            require_state="bot",
            mark_relayed=(message.id, "done", understood),
        )
    else:
        await chats.set_relay_state(message.id, state, understood)
    return message.id


async def test_a_flagged_message_is_stored_with_its_parse_data_vector(
    engine: Any,
) -> None:
    chats = ConversationRepository(engine)
    chat = secrets.token_hex(16)
    await chats.create(chat, "hash", locale="en")
    vectors = [unit(seed) for seed in range(4)]
    fallback = await relayed(
        chats, chat, "nlu_fallback", 0.3, vector_to_parse_data(vectors[0])
    )
    confident = await relayed(
        chats, chat, "billing", 0.95, vector_to_parse_data(vectors[1])
    )
    kept = await relayed(
        chats, chat, "billing", 0.95, vector_to_parse_data(vectors[2]), keep=True
    )
    failed = await relayed(
        chats,
        chat,
        "billing",
        0.6,
        vector_to_parse_data(vectors[3]),
        state="failed",
    )

    blob, meta = await stored(engine, fallback)
    assert blob == stored_vector(vectors[0])
    assert blob is not None and blob.startswith(VECTOR_TAG)
    np.testing.assert_array_equal(vector_of(blob), vectors[0])
    # Only the flags' source stays in meta: the vector is not kept twice.
    assert meta == {"_nlu": {"intent": "nlu_fallback", "confidence": 0.3}}
    # Not flagged and not asked to keep it: no vector (3.6 KB a message).
    blob, meta = await stored(engine, confident)
    assert blob is None
    assert EMBEDDING not in meta and KEEP_VECTOR not in meta
    # A turn that handed over or answered with an article keeps it.
    blob, meta = await stored(engine, kept)
    assert blob == stored_vector(vectors[2])
    assert EMBEDDING not in meta and KEEP_VECTOR not in meta
    assert (await stored(engine, failed))[0] == stored_vector(vectors[3])


async def test_a_vector_of_another_model_is_not_stored(engine: Any) -> None:
    chats = ConversationRepository(engine)
    chat = secrets.token_hex(16)
    await chats.create(chat, "hash", locale="en")
    other_model = {**vector_to_parse_data(unit(5)), "model": "another-model"}
    other_size = vector_to_parse_data(unit(6, dimension=384))
    not_unit = vector_to_parse_data(unit(7) * 2)
    ids = [
        await relayed(chats, chat, "nlu_fallback", 0.2, embedding)
        for embedding in (other_model, other_size, not_unit, "garbage", None)
    ]
    for message_id in ids:
        blob, meta = await stored(engine, message_id)
        assert blob is None
        assert EMBEDDING not in meta


def test_a_stored_vector_of_another_tag_or_size_is_not_read() -> None:
    vector = unit(8)
    blob = stored_vector(vector)
    np.testing.assert_array_equal(vector_of(blob), vector)
    assert vector_of(None) is None
    assert vector_of(blob[:-4]) is None
    # An older tag (before the joining weight was part of it), same size.
    older = b"x" * len(VECTOR_TAG) + blob[len(VECTOR_TAG) :]
    assert vector_of(older) is None
    assert vector_of(blob, dimension=DIMENSION - 1) is None


@pytest.mark.parametrize(
    ("intent", "confidence", "reply", "kept"),
    [
        ("nlu_fallback", 0.3, BotMessage(text="Sorry, could you rephrase?"), True),
        ("billing", 0.6, BotMessage(text="About your bill: ..."), True),
        (
            "billing",
            0.97,
            BotMessage(text="Here is how.", custom={"article": "reset-password"}),
            True,
        ),
        (
            "human",
            0.99,
            BotMessage(
                text="Let me get a person.",
                custom={"handoff": {"reason": "customer_request"}},
            ),
            True,
        ),
        ("billing", 0.97, BotMessage(text="Here is how."), False),
    ],
    ids=["fallback", "unsure", "article", "handoff", "understood"],
)
async def test_the_relay_stores_the_turns_vector_of_a_message_the_inbox_may_list(
    engine: Any,
    monkeypatch: pytest.MonkeyPatch,
    intent: str,
    confidence: float,
    reply: BotMessage,
    kept: bool,
) -> None:
    vector = unit(9)

    async def send(
        self: RasaClient, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> Turn:
        return Turn(
            messages=[reply],
            intent=intent,
            confidence=confidence,
            embedding=vector_to_parse_data(vector),
        )

    monkeypatch.setattr(RasaClient, "send", send)
    async with hub_instance(engine, "http://127.0.0.1:9", "hub-a") as relay:
        conversation, _ = await relay.service.create({})
        await say(relay, conversation.id, "bill")
        await relay.idle()
        (customer,) = [
            message
            for message in await relay.service.transcript(conversation.id)
            if message.role == "customer"
        ]
    assert customer.relay_state == "done"
    blob, meta = await stored(engine, customer.id)
    assert blob == (stored_vector(vector) if kept else None)
    assert meta["_nlu"]["intent"] == intent
    assert EMBEDDING not in meta and KEEP_VECTOR not in meta


@pytest.mark.parametrize(
    ("handed_over", "article_shown", "answered", "kept"),
    [
        (False, False, True, False),
        (True, False, True, True),
        (False, True, True, True),
        (False, False, False, True),
        (True, True, False, True),
    ],
    ids=["answered", "handed over", "article", "said nothing", "all"],
)
def test_a_turn_keeps_its_vector_when_an_event_may_flag_it_later(
    handed_over: bool, article_shown: bool, answered: bool, kept: bool
) -> None:
    assert (
        keeps_vector(
            handed_over=handed_over, article_shown=article_shown, answered=answered
        )
        is kept
    )
