"""SQL repository contract, on the embedded SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import sqlalchemy as sa

from bot.conversations.repository import ConversationRepository, NewMessage
from bot.db.models import Message
from bot.handoff.repository import HandoffRepository
from tests.bot.agents import add_agent


@pytest.fixture
def repository(engine) -> ConversationRepository:
    return ConversationRepository(engine)


async def new_conversation(repository: ConversationRepository) -> str:
    conversation_id = secrets.token_urlsafe(16)
    await repository.create(conversation_id, "hash", locale="en", page_url="/x")
    return conversation_id


def customer(text: str, client_id: str | None = None) -> NewMessage:
    return NewMessage(
        role="customer", text=text, client_id=client_id, relay_state="pending"
    )


async def test_create_and_get(repository) -> None:
    conversation_id = await new_conversation(repository)
    found = await repository.get(conversation_id)
    assert found is not None
    assert (found.state, found.last_seq, found.locale) == ("bot", 0, "en")
    assert found.created_at.tzinfo is not None
    assert await repository.get("missing") is None


async def test_sequence_numbers_are_consecutive(repository) -> None:
    conversation_id = await new_conversation(repository)
    first, _ = await repository.append(conversation_id, [customer("a")])
    more, _ = await repository.append(
        conversation_id,
        [NewMessage(role="bot", text="b"), NewMessage(role="bot", text="c")],
    )
    assert [m.seq for m in first + more] == [1, 2, 3]
    stored = await repository.messages_after(conversation_id, 1)
    assert [(m.seq, m.text) for m in stored] == [(2, "b"), (3, "c")]


async def test_concurrent_writers_get_distinct_sequence_numbers(repository) -> None:
    conversation_id = await new_conversation(repository)
    results = await asyncio.gather(
        *(
            repository.append(conversation_id, [customer(f"m{n}", f"c{n}")])
            for n in range(20)
        )
    )
    seqs = sorted(stored[0].seq for stored, created in results)
    assert seqs == list(range(1, 21))
    assert all(created for _, created in results)


async def test_a_retried_send_is_stored_once(repository) -> None:
    conversation_id = await new_conversation(repository)
    first, created = await repository.append(conversation_id, [customer("hi", "k1")])
    again, created_again = await repository.append(
        conversation_id, [customer("hi", "k1")]
    )
    assert created and not created_again
    assert again[0].id == first[0].id
    assert len(await repository.messages_after(conversation_id, 0)) == 1


async def test_concurrent_retries_are_stored_once(repository) -> None:
    conversation_id = await new_conversation(repository)
    results = await asyncio.gather(
        *(
            repository.append(conversation_id, [customer("hi", "same")])
            for _ in range(8)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({stored[0].id for stored, _ in results}) == 1
    assert len(await repository.messages_after(conversation_id, 0)) == 1


async def test_bot_messages_are_dropped_once_a_human_owns_it(repository) -> None:
    conversation_id = await new_conversation(repository)
    asked, _ = await repository.append(conversation_id, [customer("help")])
    assert await HandoffRepository(repository.engine).start(
        conversation_id, "customer_request", 10
    )
    late, created = await repository.append(
        conversation_id,
        [NewMessage(role="bot", text="too late")],
        require_state="bot",
        mark_relayed=(asked[0].id, "done", {}),
    )
    assert (late, created) == ([], False)
    texts = [m.text for m in await repository.messages_after(conversation_id, 0)]
    assert texts == ["help"]
    assert (await repository.next_pending(conversation_id)).id == asked[0].id


def agent_reply(text: str, agent_id: int, client_id: str) -> NewMessage:
    return NewMessage(role="agent", text=text, client_id=client_id, author_id=agent_id)


async def test_an_agent_reply_is_stored_only_while_that_agent_holds_it(
    repository,
) -> None:
    conversation_id = await new_conversation(repository)
    owner, colleague = (
        await add_agent(repository.engine),
        await add_agent(repository.engine),
    )
    handoffs = HandoffRepository(repository.engine)
    started = await handoffs.start(conversation_id, "customer_request", 10)
    assert started is not None
    handoff = started[0]

    def reply(agent_id: int, client_id: str):
        return repository.append(
            conversation_id,
            [agent_reply("hello", agent_id, client_id)],
            require_state="agent",
            held_by=agent_id,
        )

    # Queued, not yet claimed: nobody holds it.
    assert await reply(owner, "c1") == ([], False)
    assert await handoffs.claim(handoff.id, owner)
    assert await reply(colleague, "c2") == ([], False)
    stored, created = await reply(owner, "c3")
    assert created and stored[0].role == "agent" and stored[0].seq == 1
    # A retry is stored once, even after the agent lost the conversation.
    assert await handoffs.transfer(handoff.id, owner, colleague)
    again, created = await reply(owner, "c3")
    assert (again[0].id, created) == (stored[0].id, False)
    assert await reply(owner, "c4") == ([], False)
    async with repository.engine.connect() as connection:
        authors = (
            await connection.execute(
                sa.select(Message.__table__.c.author_id).where(
                    Message.__table__.c.conversation_id == conversation_id
                )
            )
        ).scalars()
        assert list(authors) == [owner]


async def test_customer_messages_for_a_human_are_not_pending(repository) -> None:
    conversation_id = await new_conversation(repository)
    await HandoffRepository(repository.engine).start(
        conversation_id, "customer_request", 10
    )
    stored, _ = await repository.append(conversation_id, [customer("still there?")])
    assert stored[0].relay_state == "skipped"
    assert await repository.next_pending(conversation_id) is None


async def test_relay_lease_is_exclusive_until_released(repository) -> None:
    conversation_id = await new_conversation(repository)
    assert await repository.acquire_relay_lease(conversation_id, "hub-a", 30)
    assert not await repository.acquire_relay_lease(conversation_id, "hub-b", 30)
    assert await repository.acquire_relay_lease(conversation_id, "hub-a", 30)
    await repository.release_relay_lease(conversation_id, "hub-b")
    assert not await repository.acquire_relay_lease(conversation_id, "hub-b", 30)
    await repository.release_relay_lease(conversation_id, "hub-a")
    assert await repository.acquire_relay_lease(conversation_id, "hub-b", 30)


async def test_an_expired_lease_can_be_taken_over(repository) -> None:
    conversation_id = await new_conversation(repository)
    await repository.append(conversation_id, [customer("waiting")])
    assert await repository.acquire_relay_lease(conversation_id, "crashed", -1)
    assert conversation_id in await repository.conversations_with_pending()
    assert await repository.acquire_relay_lease(conversation_id, "survivor", 30)
    assert conversation_id not in await repository.conversations_with_pending()


async def test_ratings_are_stored(repository, engine) -> None:
    import sqlalchemy as sa

    conversation_id = await new_conversation(repository)
    await repository.add_rating(conversation_id, 4, "quick")
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.text(
                    "SELECT score, comment FROM feedback WHERE conversation_id = :c"
                ),
                {"c": conversation_id},
            )
        ).one()
    assert tuple(row) == (4, "quick")
