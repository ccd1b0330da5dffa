"""The relay's order, lease and sweep, on SQLite and PostgreSQL.

Rasa's side is the real Baton channel on loopback (:mod:`bot.assistant.channel`)
whose turn records what it was sent and echoes it, taking a little while, as a
model would; the hub's side is the real relay, conversation and handoff
services on a real database. Two relays with different owners stand for two
hub instances sharing the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.assistant.channel import BatonInput
from bot.assistant.client import RasaClient
from bot.auth import AuthRepository
from bot.bus import InMemoryEventBus
from bot.config import Limits
from bot.conversations.repository import ConversationRepository
from bot.conversations.service import ConversationService
from bot.db.models import Conversation
from bot.handoff.hours import SupportHours
from bot.handoff.repository import HandoffRepository
from bot.handoff.service import HandoffPolicy, HandoffService
from bot.knowledge import ArticleFeedbackRepository
from bot.relay import Relay
from tests.conftest import free_port, served

TOKEN = "relay-test-token"
#: How long one turn takes on Rasa's side: long enough for messages to arrive
#: while the previous one is in Rasa.
TURN_S = 0.2


class Assistant:
    """Rasa's side: the Baton channel, recording each message it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []
        self.running = 0
        self.most_at_once = 0

    async def turn(self, message: UserMessage) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            self.received.append((message.sender_id, message.text or ""))
            await asyncio.sleep(TURN_S)
            await message.output_channel.send_response(
                message.sender_id, {"text": f"echo: {message.text}"}
            )
        finally:
            self.running -= 1

    def texts(self, conversation_id: str) -> list[str]:
        return [text for sender, text in self.received if sender == conversation_id]


@pytest.fixture
async def assistant() -> AsyncIterator[tuple[Assistant, str]]:
    """The recording assistant and the URL of its Rasa server."""
    recorder = Assistant()
    app = Sanic(f"relay_test_{free_port()}")
    app.blueprint(
        BatonInput(TOKEN).blueprint(recorder.turn), url_prefix="/webhooks/baton"
    )
    async with served(app) as port:
        yield recorder, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def hub_instance(
    engine: Any, rasa_url: str, owner: str, *, sweep_interval_s: float = 60.0
) -> AsyncIterator[Relay]:
    """The relay of one hub instance, as bot/web/app.py builds it."""
    client = RasaClient(rasa_url, "http://127.0.0.1:9", TOKEN, 10.0)
    conversations = ConversationService(
        ConversationRepository(engine), InMemoryEventBus(), Limits()
    )
    handoffs = HandoffService(
        HandoffRepository(engine),
        conversations,
        client,
        HandoffPolicy(
            hours=SupportHours.parse("always", "UTC"),
            follow_up_within=dt.timedelta(hours=4),
        ),
        accounts=AuthRepository(engine),
        feedback=ArticleFeedbackRepository(engine),
    )
    relay = Relay(
        conversations,
        handoffs,
        client,
        owner=owner,
        lease_s=30.0,
        sweep_interval_s=sweep_interval_s,
    )
    try:
        yield relay
    finally:
        await relay.stop()
        await client.close()


async def say(relay: Relay, conversation_id: str, *texts: str) -> None:
    """Store customer messages as the socket does, and kick the relay for each."""
    service = relay.service
    conversation = await service.get(conversation_id)
    assert conversation is not None
    for text in texts:
        await service.post_customer_text(conversation, text, f"c-{text}")
        relay.kick(conversation_id)


async def relay_states(relay: Relay, conversation_id: str) -> list[str]:
    return [
        message.relay_state
        for message in await relay.service.transcript(conversation_id)
        if message.role == "customer"
    ]


async def lease_of(engine: Any, conversation_id: str) -> tuple[Any, Any]:
    table = Conversation.__table__
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                sa.select(table.c.relay_owner, table.c.relay_lease_until).where(
                    table.c.id == conversation_id
                )
            )
        ).one()
    return row.relay_owner, row.relay_lease_until


async def test_messages_reach_the_assistant_in_order_one_at_a_time(
    engine, assistant
) -> None:
    recorder, rasa_url = assistant
    async with hub_instance(engine, rasa_url, "hub-a") as relay:
        conversation, _ = await relay.service.create({})
        await say(relay, conversation.id, "one")
        # The next ones arrive while the first is still in Rasa.
        while not recorder.running:
            await asyncio.sleep(0.01)
        await say(relay, conversation.id, "two", "three", "four")
        await relay.idle()

        assert recorder.texts(conversation.id) == ["one", "two", "three", "four"]
        assert recorder.most_at_once == 1
        assert await relay_states(relay, conversation.id) == ["done"] * 4
        bot = [
            message.text
            for message in await relay.service.transcript(conversation.id)
            if message.role == "bot"
        ]
        assert bot == ["echo: one", "echo: two", "echo: three", "echo: four"]
        # The lease is given back once nothing is pending.
        assert await lease_of(engine, conversation.id) == (None, None)


async def test_two_instances_kicked_at_once_relay_each_message_once(
    engine, assistant
) -> None:
    recorder, rasa_url = assistant
    async with (
        hub_instance(engine, rasa_url, "hub-a") as first,
        hub_instance(engine, rasa_url, "hub-b") as second,
    ):
        conversation, _ = await first.service.create({})
        await say(first, conversation.id, "one", "two", "three")
        second.kick(conversation.id)
        await asyncio.gather(first.idle(), second.idle())
        # Whichever lost the lease left the messages to the winner, who
        # re-checks for pending ones before letting go.
        await first.idle()

        assert recorder.texts(conversation.id) == ["one", "two", "three"]
        assert recorder.most_at_once == 1
        assert await relay_states(first, conversation.id) == ["done"] * 3


async def test_a_live_lease_of_another_instance_is_respected(engine, assistant) -> None:
    recorder, rasa_url = assistant
    async with hub_instance(engine, rasa_url, "hub-a") as relay:
        conversation, _ = await relay.service.create({})
        repository = relay.repository
        assert await repository.acquire_relay_lease(conversation.id, "hub-b", 60)
        await say(relay, conversation.id, "hello")
        await relay.idle()

        assert recorder.texts(conversation.id) == []
        assert await relay_states(relay, conversation.id) == ["pending"]
        owner, until = await lease_of(engine, conversation.id)
        assert owner == "hub-b" and until is not None
        # The sweep leaves it to its owner as long as the lease lives.
        assert conversation.id not in await repository.conversations_with_pending()


async def test_the_sweep_relays_what_a_crashed_instance_left_pending(
    engine, assistant
) -> None:
    recorder, rasa_url = assistant
    async with hub_instance(engine, rasa_url, "hub-a") as crashed:
        conversation, _ = await crashed.service.create({})
        # hub-a stored the message and took the lease, then died before
        # relaying it (and before its lease ran out).
        await crashed.service.post_customer_text(conversation, "anyone?", "c-1")
        assert await crashed.repository.acquire_relay_lease(
            conversation.id, "hub-a", -1
        )
    assert recorder.texts(conversation.id) == []

    async with hub_instance(engine, rasa_url, "hub-b", sweep_interval_s=0.1) as relay:
        assert conversation.id in await relay.repository.conversations_with_pending()
        relay.start()  # nobody kicks it: only the sweep can find the message
        for _ in range(300):
            if await relay_states(relay, conversation.id) == ["done"]:
                break
            await asyncio.sleep(0.1)
        await relay.idle()

        assert recorder.texts(conversation.id) == ["anyone?"]
        assert await relay_states(relay, conversation.id) == ["done"]
        assert await lease_of(engine, conversation.id) == (None, None)


async def test_a_hub_dying_as_it_hands_over_leaves_the_message_to_another(
    engine,
) -> None:
    """Rasa is down; the hub that found out dies before its handoff is stored:
    the message is still pending, and another hub hands it over once."""
    down = f"http://127.0.0.1:{free_port()}"
    async with hub_instance(engine, down, "hub-a") as dying:
        conversation, _ = await dying.service.create({})
        await dying.service.post_customer_text(conversation, "anyone?", "c-1")
        [message] = [
            m
            for m in await dying.service.transcript(conversation.id)
            if m.role == "customer"
        ]

        async def killed(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the hub process died here")

        dying.handoffs.start = killed  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await dying._relay(conversation.id, message)
        assert await relay_states(dying, conversation.id) == ["pending"]

    async with hub_instance(engine, down, "hub-b", sweep_interval_s=0.1) as relay:
        relay.start()
        for _ in range(300):
            if await relay_states(relay, conversation.id) == ["failed"]:
                break
            await asyncio.sleep(0.1)
        await relay.idle()
        assert await relay_states(relay, conversation.id) == ["failed"]
        current = await relay.handoffs.current(conversation.id)
        assert current is not None and current.reason == "bot_unavailable"
        system = [
            m.text
            for m in await relay.service.transcript(conversation.id)
            if m.role == "system"
        ]
        assert len(system) == len(set(system)) >= 1, system
