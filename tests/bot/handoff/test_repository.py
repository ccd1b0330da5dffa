"""Handoff transitions on SQLite and PostgreSQL, under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from bot.auth import AuthRepository
from bot.conversations.repository import ConversationRepository
from bot.db.models import utcnow
from bot.handoff.repository import HandoffRepository
from tests.bot.agents import add_agents


@pytest.fixture
def handoffs(engine) -> HandoffRepository:
    return HandoffRepository(engine)


async def queued_conversation(engine, handoffs: HandoffRepository) -> int:
    conversation_id = secrets.token_urlsafe(16)
    await ConversationRepository(engine).create(conversation_id, "hash")
    handoff = await handoffs.start(conversation_id, "customer_request", 10)
    assert handoff is not None and handoff.state == "queued"
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
    handoff = await handoffs.start(
        conversation_id, "customer_request", 10, follow_up=(due, least_busy)
    )
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
