"""A follow-up always has an owner, or is shown as unowned until it can have one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.db.models import Agent, FollowUp
from bot.handoff.service import HandoffService
from tests.bot.handoff.test_service import (
    add_agent,
    closed_today,
    new_conversation,
    service_for,
)

agents = Agent.__table__


@pytest.fixture
async def closed(engine) -> AsyncIterator[HandoffService]:
    """A service outside support hours: every handoff becomes a follow-up."""
    service = service_for(engine, closed_today())
    yield service
    await service.assistant.close()


@pytest.fixture
async def nobody_can_take_chats(engine) -> AsyncIterator[None]:
    """No enabled account (PostgreSQL is shared by the run: restored after)."""
    async with engine.begin() as connection:
        enabled = list(
            (
                await connection.execute(
                    sa.select(agents.c.id).where(agents.c.active.is_(True))
                )
            ).scalars()
        )
        await connection.execute(
            agents.update().where(agents.c.id.in_(enabled)).values(active=False)
        )
    yield
    async with engine.begin() as connection:
        await connection.execute(
            agents.update().where(agents.c.id.in_(enabled)).values(active=True)
        )


async def owner_of(engine, conversation_id: str) -> int | None:
    async with engine.connect() as connection:
        return (
            await connection.execute(
                sa.select(FollowUp.owner_id).where(
                    FollowUp.conversation_id == conversation_id
                )
            )
        ).scalar_one()


def entry_of(queue: dict, conversation_id: str) -> dict:
    [entry] = [e for e in queue["queue"] if e["conversation_id"] == conversation_id]
    return entry


async def test_a_promise_nobody_can_own_is_shown_as_unowned_until_someone_can(
    closed, engine, nobody_can_take_chats
) -> None:
    conversation_id = await new_conversation(closed)
    handoff = await closed.start(conversation_id, "customer_request")
    assert handoff is not None and handoff.state == "follow_up"
    assert await owner_of(engine, conversation_id) is None
    queue = await closed.queue()
    follow_up = entry_of(queue, conversation_id)["follow_up"]
    assert follow_up["owner_id"] is None and follow_up["unowned"] is True
    assert queue["unowned_follow_ups"] >= 1
    # Sweeping with still nobody able changes nothing.
    await closed.own_follow_ups()
    assert await owner_of(engine, conversation_id) is None

    first_agent = await add_agent(engine, presence="offline")
    assert await closed.own_follow_ups() >= 1
    assert await owner_of(engine, conversation_id) == first_agent
    follow_up = entry_of(await closed.queue(), conversation_id)["follow_up"]
    assert follow_up == {**follow_up, "owner_id": first_agent, "unowned": False}


async def test_a_promise_whose_owner_left_with_nobody_to_take_it_is_unowned(
    closed, engine, nobody_can_take_chats
) -> None:
    leaving = await add_agent(engine, presence="offline")
    conversation_id = await new_conversation(closed)
    await closed.start(conversation_id, "customer_request")
    assert await owner_of(engine, conversation_id) == leaving
    async with engine.begin() as connection:
        await connection.execute(
            agents.update().where(agents.c.id == leaving).values(active=False)
        )
    await closed.release_unable_holders()
    await closed.own_follow_ups()
    # Not owned by an account that cannot act on it: visibly nobody's.
    assert await owner_of(engine, conversation_id) is None
    assert entry_of(await closed.queue(), conversation_id)["follow_up"]["unowned"]

    colleague = await add_agent(engine, presence="offline")
    await closed.own_follow_ups()
    assert await owner_of(engine, conversation_id) == colleague
