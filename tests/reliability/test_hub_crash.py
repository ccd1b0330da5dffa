"""``kill -9`` of a hub while a customer sends (scope 8).

The customer's message may or may not have been stored when the hub died; the
widget does not know, so it reconnects (here to the other hub, as a load
balancer would) and sends it again with the same ``client_id``. Either way the
message must exist exactly once and be answered exactly once: with Rasa down
here, the answer is the hub's one "having trouble" message and one handoff,
relayed by whichever hub picks the pending message up.
"""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.handoff.repository import handoffs
from tests.hub import receive_until
from tests.reliability.conftest import (
    customer_socket,
    history,
    message,
    new_conversation,
    rows,
)

pytestmark = [pytest.mark.stack, pytest.mark.postgres, pytest.mark.redis]

#: Seconds between the send and the kill: at once (the frame may not even
#: have been read), while it is being stored, after the echo.
KILL_AFTER_S = [0.0, 0.02, None]


async def handoffs_of(postgres_url: str, conversation_id: str) -> list[str]:
    query = sa.select(handoffs.c.reason).where(
        handoffs.c.conversation_id == conversation_id
    )
    return [row.reason for row in await rows(postgres_url, query)]


@pytest.mark.parametrize("kill_after_s", KILL_AFTER_S)
async def test_a_message_sent_as_the_hub_dies_is_kept_once_and_answered_once(
    hubs, postgres_url, http, kill_after_s
) -> None:
    hub_a, hub_b = hubs
    conversation_id, token = await new_conversation(http, hub_a)
    text = "my sync stopped, please help"
    try:
        async with customer_socket(hub_a, conversation_id, token) as ws:
            await receive_until(ws, lambda f: f.get("type") == "status")
            await ws.send(message(text, "crash-1"))
            if kill_after_s is None:
                await receive_until(ws, lambda f: f.get("client_id") == "crash-1")
            else:
                await asyncio.sleep(kill_after_s)
            await asyncio.to_thread(hub_a.kill)
    except Exception as error:  # the connection is cut by the kill
        assert "ConnectionClosed" in type(error).__name__ or isinstance(
            error, OSError
        ), error
    hub_a.start()

    # The widget reconnects elsewhere and sends again (it never saw an echo,
    # or it did not know the hub stored it).
    async with customer_socket(hub_b, conversation_id, token) as ws:
        await ws.send(message(text, "crash-1"))
        await receive_until(
            ws,
            lambda f: (
                f.get("type") == "status" and f.get("state") in {"queued", "follow_up"}
            ),
            timeout=90,
        )
    await asyncio.to_thread(hub_a.wait_answering)

    stored = await history(http, hub_a, conversation_id, token)
    assert [m["text"] for m in stored if m["role"] == "customer"] == [text]
    system = [m["text"] for m in stored if m["role"] == "system"]
    # One "having trouble" answer (with, nobody being signed in, the promise
    # of a follow-up), never two.
    assert sum("having trouble" in line for line in system) == 1, system
    assert len(system) == len(set(system)), system
    assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
    assert await handoffs_of(postgres_url, conversation_id) == ["bot_unavailable"]
