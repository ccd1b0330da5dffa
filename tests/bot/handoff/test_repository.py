"""Handoff transitions on SQLite and PostgreSQL, under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from bot.auth import AuthRepository
from bot.conversations.repository import ConversationRepository, NewMessage
from bot.db.models import utcnow
from bot.handoff.repository import HandoffRepository
from tests.bot.agents import add_agents


@pytest.fixture
def handoffs(engine) -> HandoffRepository:
    return HandoffRepository(engine)


async def queued_conversation(engine, handoffs: HandoffRepository) -> int:
    conversation_id = secrets.token_urlsafe(16)
    await ConversationRepository(engine).create(conversation_id, "hash")
    started = await handoffs.start(conversation_id, "customer_request", 10)
    assert started is not None
    handoff, notice = started
    assert handoff.state == "queued" and notice == []
    return handoff.id


async def conversation_state(engine, handoff) -> str:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                sa.text("SELECT state FROM conversations WHERE id = :c"),
                {"c": handoff.conversation_id},
            )
        ).scalar_one()


async def test_twenty_agents_claim_at_once_and_exactly_one_wins(
    engine, handoffs
) -> None:
    agents = await add_agents(engine, 20)
    handoff_id = await queued_conversation(engine, handoffs)
    results = await asyncio.gather(*(handoffs.claim(handoff_id, a) for a in agents))
    assert sum(results) == 1
    winner = agents[results.index(True)]
    handoff = await handoffs.get(handoff_id)
    assert (handoff.state, handoff.agent_id) == ("claimed", winner)
    assert handoff.agent_name == f"Agent {agents.index(winner)}"
    assert await conversation_state(engine, handoff) == "agent"


async def test_the_handoff_and_the_customers_notice_are_stored_together(
    engine, handoffs
) -> None:
    conversations = ConversationRepository(engine)
    conversation_id = secrets.token_urlsafe(16)
    await conversations.create(conversation_id, "hash")
    notice = NewMessage(role="system", text="A person will join.", meta={"x": 1})
    started = await handoffs.start(
        conversation_id, "fallback", 10, summary="wants a person", notice=notice
    )
    assert started is not None
    handoff, stored = started
    assert handoff.summary == "wants a person"
    assert [(m.role, m.text, m.seq) for m in stored] == [
        ("system", "A person will join.", 1)
    ]
    assert [m.text for m in await conversations.messages_after(conversation_id, 0)] == [
        "A person will join."
    ]


async def test_a_notice_that_cannot_be_stored_leaves_no_handoff(
    engine, handoffs
) -> None:
    """One transaction: a failure storing the notice (as a hub dying there
    would) leaves the conversation with the bot and no handoff, never a
    handoff the customer was not told of."""
    conversations = ConversationRepository(engine)
    conversation_id = secrets.token_urlsafe(16)
    await conversations.create(conversation_id, "hash")
    broken = NewMessage(role="system", text=None)  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        await handoffs.start(conversation_id, "fallback", 10, notice=broken)
    assert await handoffs.current(conversation_id) is None
    conversation = await conversations.get(conversation_id)
    assert conversation is not None and conversation.state == "bot"
    assert await conversations.messages_after(conversation_id, 0) == []
    # Nothing half-stored is in the way of handing it over afterwards.
    assert await handoffs.start(conversation_id, "fallback", 10) is not None


async def test_a_conversation_is_handed_off_once(engine, handoffs) -> None:
    conversation_id = secrets.token_urlsafe(16)
    await ConversationRepository(engine).create(conversation_id, "hash")
    results = await asyncio.gather(
        *(handoffs.start(conversation_id, "fallback", 10) for _ in range(10))
    )
    assert len([r for r in results if r is not None]) == 1


async def test_only_the_owner_transfers_hands_back_or_resolves(
    engine, handoffs
) -> None:
    owner, colleague, stranger = await add_agents(engine, 3)
    handoff_id = await queued_conversation(engine, handoffs)
    assert await handoffs.claim(handoff_id, owner)
    assert not await handoffs.transfer(handoff_id, stranger, stranger)
    assert await handoffs.transfer(handoff_id, owner, colleague)
    assert not await handoffs.close(
        handoff_id, owner, handoff_state="resolved", conversation_state="resolved"
    )
    assert await handoffs.close(
        handoff_id,
        colleague,
        handoff_state="resolved",
        conversation_state="resolved",
        outcome="solved",
    )
    handoff = await handoffs.get(handoff_id)
    assert (handoff.state, handoff.outcome) == ("resolved", "solved")
    assert await conversation_state(engine, handoff) == "resolved"
    assert not await handoffs.claim(handoff_id, stranger)


async def test_hand_back_returns_the_conversation_to_the_bot(engine, handoffs) -> None:
    (owner,) = await add_agents(engine, 1)
    handoff_id = await queued_conversation(engine, handoffs)
    await handoffs.claim(handoff_id, owner)
    assert await handoffs.close(
        handoff_id, owner, handoff_state="handed_back", conversation_state="bot"
    )
    handoff = await handoffs.get(handoff_id)
    assert await conversation_state(engine, handoff) == "bot"
    assert await handoffs.current(handoff.conversation_id) is None
    recent = await handoffs.recent_claims(utcnow() - dt.timedelta(minutes=5))
    assert (handoff.created_at, handoff.claimed_at) in recent


async def test_follow_up_has_an_owner_and_a_due_time(engine, handoffs) -> None:
    (owner,) = await add_agents(engine, 1, presence="offline")
    conversation_id = secrets.token_urlsafe(16)
    await ConversationRepository(engine).create(conversation_id, "hash")
    due = utcnow() + dt.timedelta(hours=4)
    least_busy = await AuthRepository(engine).least_busy_agent()
    started = await handoffs.start(
        conversation_id, "customer_request", 10, follow_up=(due, least_busy)
    )
    assert started is not None
    handoff = started[0]
    assert handoff.state == "follow_up"
    assert abs((handoff.due_at - due).total_seconds()) < 1
    assert handoff.follow_up_owner_id is not None
    assert await conversation_state(engine, handoff) == "follow_up"
    # Claiming a follow-up makes the claimer its owner.
    assert await handoffs.claim(handoff.id, owner)
    claimed = await handoffs.get(handoff.id)
    assert claimed.follow_up_owner_id == owner


async def test_agents_online_counts_only_online_agents(engine) -> None:
    accounts = AuthRepository(engine)
    before = await accounts.agents_online()
    await add_agents(engine, 2, presence="online")
    await add_agents(engine, 1, presence="away")
    assert await accounts.agents_online() == before + 2
