"""One real stack (embedded defaults) for scope 4 and a shortened scope 13.

Typed ``/intent`` commands never act as intents, in any state (scope 4).

Rasa reads a user message starting with ``/`` (after white space) as an
intent with entities: ``/restart`` would wipe the conversation,
``/request_human`` skip the assistant, ``/greet{"x":1}`` set entities. The
real stack (embedded defaults) is asked each form while the bot has the chat,
while it waits for a person, while an agent holds it and after the agent
hands it back; Rasa's own tracker store is then read to see what Rasa was
given and what it did.

The soak of ``make bench-soak`` (scope 13: 150 customers and 10 agents for 10
minutes, figures in the README) runs here shortened, with its own load
generator, so that CI sees it lose nothing and strand nobody.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from bench.soak.run import soak
from tests.e2e.conftest import Stack, ensure_model, started
from tests.e2e.test_stack import connect, is_bot, start
from tests.hub import drain, receive_until
from tests.reliability.conftest import claim, create_agents, handoff_id_of, sign_in

pytestmark = pytest.mark.stack

COMMANDS = [
    "/restart",
    '/greet{"x":1}',
    "  /session_start",
    "\u2003//restart",
    "/request_human",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    ensure_model()
    yield from started({}, tmp_path_factory.mktemp("stack-commands"), "embedded")


def rasa_events(stack: Stack, conversation_id: str) -> list[dict[str, Any]]:
    """What Rasa recorded for the conversation (its SQL tracker store)."""
    database = sqlite3.connect(stack.data_dir / "rasa-tracker.db")
    try:
        rows = database.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
    finally:
        database.close()
    return [json.loads(data) for (data,) in rows]


def assert_no_command_reached_rasa(stack: Stack, conversation_id: str) -> None:
    events = rasa_events(stack, conversation_id)
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said, events
    assert not [text for text in said if text.strip().startswith("/")], said
    assert not [e for e in events if e["event"] == "restart"], said
    assert not [e for e in events if e.get("name") == "action_restart"], said
    for event in events:
        if event["event"] == "user":
            assert not any(
                entity.get("entity") == "x"
                for entity in event.get("parse_data", {}).get("entities", [])
            ), event


async def say(ws: Any, text: str, client_id: str, answered: Any) -> list[dict]:
    await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))
    frames = await receive_until(ws, answered, timeout=60)
    return frames + await drain(ws, quiet_s=1.0)


async def send_all(ws: Any, prefix: str) -> list[dict[str, Any]]:
    """Type every command at once; the frames up to the last one's echo."""
    for n, command in enumerate(COMMANDS):
        await ws.send(
            json.dumps(
                {"type": "message", "text": command, "client_id": f"{prefix}{n}"}
            )
        )
    last = f"{prefix}{len(COMMANDS) - 1}"
    return await receive_until(ws, lambda f: f.get("client_id") == last)


def answered(frame: dict[str, Any]) -> bool:
    return is_bot(frame) or frame.get("state") in {"queued", "follow_up"}


async def test_typed_commands_with_the_bot_are_text(stack) -> None:
    conversation_id, token = await start(stack)
    async with connect(stack, conversation_id, token) as ws:
        await ws.recv()
        for n, command in enumerate(COMMANDS):
            frames = await say(ws, command, f"typed-{n}", answered)
            # Every message gets an answer; the customer's text is kept as typed
            # (without surrounding white space).
            echo = [f for f in frames if f.get("client_id") == f"typed-{n}"]
            assert [f["text"] for f in echo] == [command.strip()]
            if any(f.get("state") in {"queued", "follow_up"} for f in frames):
                break
    assert_no_command_reached_rasa(stack, conversation_id)


async def test_typed_commands_while_people_have_the_chat_never_reach_rasa(
    stack,
) -> None:
    conversation_id, token = await start(stack)
    email = (await create_agents(stack.database_url, 1, "commands"))[0]
    async with aiohttp.ClientSession() as http:
        agent = await sign_in(http, stack, email)
        async with connect(stack, conversation_id, token) as ws:
            await ws.recv()
            await say(ws, "I want to talk to a person", "ask", answered)
            before = len(rasa_events(stack, conversation_id))
            # Waiting for a person: nothing goes to Rasa.
            await send_all(ws, "q")
            handoff_id = await handoff_id_of(stack.database_url, conversation_id)
            await claim(http, stack, agent, handoff_id)
            await receive_until(ws, lambda f: f.get("state") == "agent")
            # An agent holds it: nothing goes to Rasa either.
            frames = await send_all(ws, "a")
            frames += await drain(ws, quiet_s=2.0)
            assert not [f for f in frames if is_bot(f)], frames
            assert len(rasa_events(stack, conversation_id)) == before
            # Handed back to the bot: the commands are text again.
            async with http.post(
                f"{stack.url}/api/handoffs/{handoff_id}/handback",
                json={},
                headers=agent.headers,
            ) as response:
                assert response.status == 200, await response.text()
            await receive_until(ws, lambda f: f.get("state") == "bot")
            await say(ws, "/restart", "after", answered)
    assert_no_command_reached_rasa(stack, conversation_id)
    said = [
        e["text"] for e in rasa_events(stack, conversation_id) if e["event"] == "user"
    ]
    assert "restart" in said


async def test_a_short_soak_loses_nothing_and_strands_nobody(stack) -> None:
    """Customers and agents at once: every message answered or, while its
    customer waits for a person, stored; no error, no dropped socket."""
    result = await soak(stack, customers=6, messages=3, agents=2, duration_s=20)
    tally = result["tally"]
    assert tally["sent"] == 18, result
    assert tally["replies"] + tally["stored_while_waiting"] == 18, result
    assert result["error_rate"] == 0, result
    assert result["customers_unfinished_at_deadline"] == {}, result
    assert all(result["memory_mb"]["end"].values()), result
