"""PostgreSQL restarted under load (scope 7): nothing lost, nothing half-written.

One hub on a PostgreSQL cluster of this module's own, which is restarted
(``pg_ctl restart -m fast``: every connection cut) while customers keep
writing. A customer, like the widget, sends again with the same
``client_id`` whatever did not come back acknowledged. Afterwards every
message exists exactly once, in order, with no gap in the sequence numbers,
and every conversation that was handed over has its one handoff. A request
caught by the restart may fail, but with a clear retryable error, never an
internal one. An agent's console socket, too, answers a frame it cannot serve
while the database is down with that retryable error, and stays open through
the outage; one that connects during the outage is told so too, stays open,
and gets its queue once the database is back.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import websockets

from bot.auth.repository import agent_sessions
from bot.db.engine import create_engine
from bot.handoff.repository import conversations, handoffs
from bot.web.agent_socket import SESSION_CHECK_S
from tests.conftest import free_port
from tests.hub import drain, receive_until
from tests.reliability.conftest import (
    HubProcess,
    PrivatePostgres,
    agent_console,
    create_agents,
    customer_socket,
    history,
    hub_environment,
    message,
    new_conversation,
    rows,
    sign_in,
)

pytestmark = pytest.mark.stack

CUSTOMERS = 8
MESSAGES = 12
#: Sent by every customer before the restart begins.
BEFORE_RESTART = 3
ACK_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def hub(private_postgres: PrivatePostgres, tmp_path_factory) -> Iterator[HubProcess]:
    data_dir = tmp_path_factory.mktemp("postgres-restart")
    env = hub_environment(private_postgres.url, None, data_dir)
    hub = HubProcess("pg", free_port(), env, data_dir / "hub.log")
    hub.start()
    try:
        hub.wait_answering()
        yield hub
    finally:
        hub.stop()


class Widget:
    """A customer who resends until each message is acknowledged."""

    def __init__(self, hub: HubProcess, conversation_id: str, token: str) -> None:
        self.hub = hub
        self.conversation_id = conversation_id
        self.token = token
        self.errors: list[dict[str, Any]] = []
        self.attempts = 0

    async def send_all(
        self, texts: list[str], prefix: str, sent: asyncio.Event
    ) -> None:
        for n, text in enumerate(texts):
            if n == BEFORE_RESTART:
                sent.set()
            while not await self._try(text, f"{prefix}-{n}"):
                await asyncio.sleep(0.5)
        sent.set()

    async def _try(self, text: str, client_id: str) -> bool:
        self.attempts += 1
        try:
            async with customer_socket(
                self.hub, self.conversation_id, self.token
            ) as ws:
                await ws.send(message(text, client_id))
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), ACK_TIMEOUT_S))
                    if frame.get("type") == "error":
                        self.errors.append(frame)
                        if frame.get("client_id") in {client_id, None}:
                            return False
                    if frame.get("client_id") == client_id:
                        return True
        except (asyncio.TimeoutError, websockets.ConnectionClosed, OSError):
            return False


async def test_a_postgres_restart_under_load_loses_and_doubles_nothing(
    hub, private_postgres, http
) -> None:
    widgets = [
        Widget(hub, *await new_conversation(http, hub)) for _ in range(CUSTOMERS)
    ]
    texts = [
        [f"customer {c} line {n}" for n in range(MESSAGES)] for c in range(CUSTOMERS)
    ]
    ready = [asyncio.Event() for _ in widgets]
    senders = [
        asyncio.create_task(widget.send_all(texts[c], f"c{c}", ready[c]))
        for c, widget in enumerate(widgets)
    ]
    for event in ready:
        await event.wait()
    await asyncio.to_thread(private_postgres.restart)
    await asyncio.wait_for(asyncio.gather(*senders), 180)

    for c, widget in enumerate(widgets):
        stored = await history(http, hub, widget.conversation_id, widget.token)
        assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))
        assert [m["text"] for m in stored if m["role"] == "customer"] == texts[c]
    codes = {e.get("code") for w in widgets for e in w.errors}
    assert "internal_error" not in codes, codes

    # Nothing half-written: each conversation handed over has one open handoff.
    states = dict(
        await rows(
            private_postgres.url, sa.select(conversations.c.id, conversations.c.state)
        )
    )
    opened = await rows(
        private_postgres.url,
        sa.select(handoffs.c.conversation_id, sa.func.count()).group_by(
            handoffs.c.conversation_id
        ),
    )
    per_conversation = dict(opened)
    for widget in widgets:
        assert states[widget.conversation_id] in {"queued", "follow_up"}
        assert per_conversation.get(widget.conversation_id) == 1


async def ping(console: Any) -> dict[str, Any]:
    """Send the console's keep-alive; the frame that answers it."""
    await console.send(json.dumps({"type": "ping"}))
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(console.recv(), 10))
    return frame


async def test_the_console_socket_waits_out_a_database_outage(
    hub, private_postgres, http
) -> None:
    email = (await create_agents(private_postgres.url, 1, "outage"))[0]
    agent = await sign_in(http, hub, email)
    # A session last used a minute ago: each console frame notes its use in
    # the database (at most every 30 s), so a ping needs the database.
    engine = create_engine(private_postgres.url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                agent_sessions.update().values(
                    last_seen_at=dt.datetime.now(dt.timezone.utc)
                    - dt.timedelta(minutes=1)
                )
            )
    finally:
        await engine.dispose()
    async with agent_console(hub, agent) as console:
        # The queue of the test before is on screen: each chat in it watched.
        await drain(console, quiet_s=1.0)
        await asyncio.to_thread(private_postgres.stop)
        try:
            down = await ping(console)
            assert down["type"] == "error", down
            assert down["code"] == "unavailable", down
            # Past a session check, which cannot read the session either: the
            # socket stays open and still answers.
            await asyncio.sleep(SESSION_CHECK_S + 1)
            assert (await ping(console))["code"] == "unavailable"
        finally:
            await asyncio.to_thread(private_postgres.start)
        answers = []
        for _ in range(20):
            answers.append(await ping(console))
            if answers[-1] == {"type": "pong"}:
                break
            await asyncio.sleep(0.5)
        assert answers[-1] == {"type": "pong"}, answers
        assert {a.get("code") for a in answers[:-1]} <= {"unavailable"}, answers


async def test_a_console_that_connects_while_the_database_is_down_waits_for_it(
    hub, private_postgres, http
) -> None:
    email = (await create_agents(private_postgres.url, 1, "connect-down"))[0]
    agent = await sign_in(http, hub, email)
    await asyncio.to_thread(private_postgres.stop)
    try:
        console = await websockets.connect(
            f"{hub.ws_url}/api/agent/ws",
            extra_headers={
                "Cookie": f"baton_session={agent.session}",
                "Origin": hub.url,
            },
        )
        # Neither refused nor closed: told why nothing comes yet.
        first = json.loads(await asyncio.wait_for(console.recv(), 10))
        assert first["type"] == "error", first
        assert first["code"] == "unavailable", first
        # Still open, and silent, while attempts to read the session fail.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(console.recv(), 2)
        await asyncio.wait_for(await console.ping(), 10)
    finally:
        await asyncio.to_thread(private_postgres.start)
    try:
        frames = await receive_until(console, lambda f: f.get("type") == "queue", 30)
        assert frames[0]["type"] == "hello", frames
        assert frames[0]["agent"]["email"] == email, frames
        await drain(console, quiet_s=1.0)
        assert await ping(console) == {"type": "pong"}
    finally:
        await console.close()
